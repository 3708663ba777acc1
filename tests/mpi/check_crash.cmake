# Runs `mpirun -n 3 BINARY --crash` (a task SIGKILLs worker rank 1) and checks that the job
# ends with a failure status and a message naming the rank, instead of hanging.
execute_process(COMMAND ${MPIEXEC} -n 3 --oversubscribe --timeout 60 ${BINARY} --crash
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 90)
if(rc EQUAL 0)
  message(FATAL_ERROR "the job succeeded although a rank was killed:\n${out}\n${err}")
endif()
if(NOT "${out}${err}" MATCHES "rank [12]")
  message(FATAL_ERROR "mpirun's message does not name the killed rank (status ${rc}):\n${out}\n${err}")
endif()
message(STATUS "the job ended with status ${rc}, naming the rank")
