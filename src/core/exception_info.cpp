#include "pyconc/detail/exception_info.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

namespace pyconc::detail {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> out(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return (status == 0 && out) ? std::string(out.get()) : std::string(mangled);
}

ExceptionInfo describe_exception(const std::exception_ptr& e) noexcept {
  ExceptionInfo info;
  try {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      info.type = demangle(typeid(ex).name());
      info.message = ex.what();
    } catch (...) {
      const std::type_info* t = abi::__cxa_current_exception_type();
      info.type = t != nullptr ? demangle(t->name()) : "unknown exception";
    }
  } catch (...) {  // allocation failure while describing: keep what we have
  }
  return info;
}

}  // namespace pyconc::detail
