# Compiles one snippet of tests/compile_fail/ (syntax and template instantiation only) and checks
# the outcome. EXPECT=fail: the compiler must reject it, and its diagnostics must contain MESSAGE
# (so the snippet fails for the intended reason, not a typo). EXPECT=pass: it must compile (the
# control that the same flags and includes work).
execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only -I${INCLUDE_DIR} ${SNIPPET}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(EXPECT STREQUAL "pass")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${SNIPPET} should compile, but:\n${out}${err}")
  endif()
  return()
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "${SNIPPET} compiled, but it must be rejected with: ${MESSAGE}")
endif()
string(FIND "${out}${err}" "${MESSAGE}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${SNIPPET} was rejected, but not with \"${MESSAGE}\":\n${out}${err}")
endif()
