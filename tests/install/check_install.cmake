# Installs the already-built pyconc into a scratch prefix, then configures, builds and runs the
# tiny consumer project in tests/install/consumer against it with find_package(pyconc CONFIG).
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
function(run_step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()
run_step(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix})
if(NOT EXISTS ${prefix}/include/pyconc/threading.hpp)
  message(FATAL_ERROR "headers were not installed under ${prefix}/include")
endif()
run_step(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${WORK_DIR}/build
         -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix})
run_step(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run_step(${WORK_DIR}/build/consumer)
# pyconc::pyconc_mpi: exported when pyconc was built with MPI; a program that does not use it
# must not depend on libmpi.
if(EXISTS ${prefix}/lib/cmake/pyconc/pyconcMpiTargets.cmake OR
   EXISTS ${prefix}/lib64/cmake/pyconc/pyconcMpiTargets.cmake)
  if(NOT EXISTS ${WORK_DIR}/build/consumer_mpi)
    message(FATAL_ERROR "pyconc::pyconc_mpi is installed but the consumer could not use it")
  endif()
  run_step(${CMAKE_COMMAND} -E env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
           ${WORK_DIR}/build/consumer_mpi)
  execute_process(COMMAND ldd ${WORK_DIR}/build/consumer OUTPUT_VARIABLE libs)
  if(libs MATCHES "libmpi")
    message(FATAL_ERROR "consumer (no MPI) links libmpi:\n${libs}")
  endif()
endif()
