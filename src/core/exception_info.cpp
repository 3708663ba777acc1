#include "pyconc/detail/exception_info.hpp"

#include "pyconc/errors.hpp"

#include <cxxabi.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
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
    } catch (const BaseException& ex) {  // CancelledError, KeyboardInterrupt
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

namespace pyconc {
namespace {
std::string group_message(const std::string& message, const std::vector<std::exception_ptr>& es) {
  std::string out = message + " (" + std::to_string(es.size()) +
                    (es.size() == 1 ? " sub-exception)" : " sub-exceptions)");
  for (const auto& e : es) {
    auto info = detail::describe_exception(e);
    out += "\n  " + info.type + ": " + info.message;
  }
  return out;
}
}  // namespace

ExceptionGroup::ExceptionGroup(const std::string& message,
                               std::vector<std::exception_ptr> exceptions)
    : Error(group_message(message, exceptions)), exceptions_(std::move(exceptions)) {}

}  // namespace pyconc
