# Turns a text file into a C++ header holding it as one string constant, so the installed
# `pyconc` binary carries its Python script instead of looking for it on disk.
#   cmake -DINPUT=script.py -DOUTPUT=script_py.hpp -DNAME=kScript -P embed.cmake
foreach(var INPUT OUTPUT NAME)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed.cmake: -D${var}=... is required")
  endif()
endforeach()

file(READ "${INPUT}" content)
set(delim "pyconc_embed")
string(FIND "${content}" ")${delim}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "embed.cmake: ${INPUT} contains the raw-string delimiter )${delim}\"")
endif()
get_filename_component(source_name "${INPUT}" NAME)

file(WRITE "${OUTPUT}.tmp"
     "// Generated from ${source_name} by tools/pyconc/embed.cmake -- do not edit.\n"
     "#pragma once\n\n"
     "namespace pyconc::tool {\n"
     "inline constexpr char ${NAME}[] = R\"${delim}(${content})${delim}\";\n"
     "}  // namespace pyconc::tool\n")
# Rewrite only on change, so an unchanged script does not rebuild the tool.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
