// pyconc/detail/exception_info.hpp -- naming an exception for reports (Python's traceback line
// "TypeName: message"). Used by threading.excepthook, future callbacks and process pools.
// Thread safety: pure functions.
#pragma once

#include <exception>
#include <string>

namespace pyconc::detail {

struct ExceptionInfo {
  std::string type;     // demangled dynamic type, e.g. "std::out_of_range", "pyconc::ValueError"
  std::string message;  // what(), or "" for exceptions that are not std::exception
};

// Describes `e` (which must not be null) without letting anything escape.
ExceptionInfo describe_exception(const std::exception_ptr& e) noexcept;

// Demangles a C++ type name as returned by typeid(...).name(); returns it unchanged on failure.
std::string demangle(const char* mangled);

}  // namespace pyconc::detail
