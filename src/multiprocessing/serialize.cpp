#include "pyconc/multiprocessing/serialize.hpp"

#include <unistd.h>

#include <functional>
#include <new>
#include <string>
#include <system_error>
#include <typeinfo>
#include <variant>

#include "pyconc/detail/exception_info.hpp"
#include "pyconc/futures/exceptions.hpp"
#include "pyconc/queue/exceptions.hpp"
#include "pyconc/threading/barrier.hpp"

namespace pyconc::detail {

void SerialReader::fail(const char* what) const {
  throw ValueError(std::string("pyconc::multiprocessing::loads: malformed bytes: ") + what +
                   " (at offset " + std::to_string(offset()) + ")");
}

void SerialReader::fail_truncated(std::size_t wanted) const {
  throw ValueError("pyconc::multiprocessing::loads: bytes are truncated: " +
                   std::to_string(wanted) + " more bytes needed at offset " +
                   std::to_string(offset()) + ", " + std::to_string(remaining()) + " left");
}

void SerialReader::fail_count(std::uint64_t n) const {
  throw ValueError("pyconc::multiprocessing::loads: malformed bytes: a container claims " +
                   std::to_string(n) + " elements but only " + std::to_string(remaining()) +
                   " bytes are left (at offset " + std::to_string(offset()) + ")");
}

void throw_bad_header(std::string_view bytes, const char* type_name) {
  const std::string type = demangle(type_name);
  if (bytes.size() < kSerialHeader) {
    throw ValueError("pyconc::multiprocessing::loads<" + type +
                     ">: " + std::to_string(bytes.size()) +
                     " bytes are too short to be the output of dumps()");
  }
  if (static_cast<unsigned char>(bytes[0]) != kSerialMagic) {
    throw ValueError("pyconc::multiprocessing::loads<" + type +
                     ">: the bytes are not the output of dumps() (bad first byte)");
  }
  throw ValueError("pyconc::multiprocessing::loads<" + type +
                   ">: the bytes were dumped from another type");
}

void throw_trailing(std::size_t extra, std::size_t total, const char* type_name) {
  throw ValueError("pyconc::multiprocessing::loads<" + demangle(type_name) +
                   ">: " + std::to_string(extra) + " trailing bytes (of " + std::to_string(total) +
                   ") after the value");
}

void throw_load_failure(const std::exception& e, const char* type_name) {
  throw ValueError("pyconc::multiprocessing::loads<" + demangle(type_name) +
                   ">: malformed bytes: " + e.what());
}

namespace {

// What crosses the boundary for an exception.
struct WireException {
  std::string type;
  std::string message;
  std::int64_t pid = 0;
  std::int32_t code = 0;  // std::system_error only
  std::string category;   // std::system_error only: "generic" or "system"

  template <class Archive>
  void serialize(Archive& ar) {
    ar(type, message, pid, code, category);
  }
};

constexpr std::string_view kNestedPrefix = "std::_Nested_exception<";

// The type a user sees: std::throw_with_nested(E) throws a library type derived from E.
std::string visible_type(std::string type) {
  if (type.starts_with(kNestedPrefix) && type.ends_with('>')) {
    return type.substr(kNestedPrefix.size(), type.size() - kNestedPrefix.size() - 1);
  }
  return type;
}

template <class E>
[[noreturn]] void throw_nested(const std::string& message) {
  if constexpr (std::is_constructible_v<E, const std::string&>) {
    std::throw_with_nested(E(message));
  } else {
    std::throw_with_nested(E());
  }
}

using Thrower = void (*)(const std::string&);

// Exception types rebuilt with their own type, by demangled name.
struct Known {
  std::string_view name;
  Thrower thrower;
};

constexpr Known kKnown[] = {
    {"std::exception", &throw_nested<std::exception>},
    {"std::runtime_error", &throw_nested<std::runtime_error>},
    {"std::logic_error", &throw_nested<std::logic_error>},
    {"std::invalid_argument", &throw_nested<std::invalid_argument>},
    {"std::domain_error", &throw_nested<std::domain_error>},
    {"std::length_error", &throw_nested<std::length_error>},
    {"std::out_of_range", &throw_nested<std::out_of_range>},
    {"std::range_error", &throw_nested<std::range_error>},
    {"std::overflow_error", &throw_nested<std::overflow_error>},
    {"std::underflow_error", &throw_nested<std::underflow_error>},
    {"std::bad_alloc", &throw_nested<std::bad_alloc>},
    {"std::bad_array_new_length", &throw_nested<std::bad_array_new_length>},
    {"std::bad_cast", &throw_nested<std::bad_cast>},
    {"std::bad_typeid", &throw_nested<std::bad_typeid>},
    {"std::bad_optional_access", &throw_nested<std::bad_optional_access>},
    {"std::bad_variant_access", &throw_nested<std::bad_variant_access>},
    {"std::bad_function_call", &throw_nested<std::bad_function_call>},
    {"pyconc::Error", &throw_nested<Error>},
    {"pyconc::ValueError", &throw_nested<ValueError>},
    {"pyconc::RuntimeError", &throw_nested<RuntimeError>},
    {"pyconc::TimeoutError", &throw_nested<TimeoutError>},
    {"pyconc::CancelledError", &throw_nested<CancelledError>},
    {"pyconc::KeyboardInterrupt", &throw_nested<KeyboardInterrupt>},
    {"pyconc::InvalidStateError", &throw_nested<InvalidStateError>},
    {"pyconc::BrokenExecutor", &throw_nested<BrokenExecutor>},
    {"pyconc::futures::BrokenThreadPool", &throw_nested<futures::BrokenThreadPool>},
    {"pyconc::futures::BrokenProcessPool", &throw_nested<futures::BrokenProcessPool>},
    {"pyconc::queue::Empty", &throw_nested<queue::Empty>},
    {"pyconc::queue::Full", &throw_nested<queue::Full>},
    {"pyconc::queue::ShutDown", &throw_nested<queue::ShutDown>},
    {"pyconc::threading::BrokenBarrierError", &throw_nested<threading::BrokenBarrierError>},
    {"pyconc::multiprocessing::MaybeEncodingError",
     &throw_nested<multiprocessing::MaybeEncodingError>},
    {"pyconc::multiprocessing::ProcessError", &throw_nested<multiprocessing::ProcessError>},
    {"pyconc::multiprocessing::AuthenticationError",
     &throw_nested<multiprocessing::AuthenticationError>},
    {"pyconc::KeyError", &throw_nested<KeyError>},
    {"pyconc::IndexError", &throw_nested<IndexError>},
    {"pyconc::AttributeError", &throw_nested<AttributeError>},
    {"pyconc::EOFError", &throw_nested<EOFError>},
    {"pyconc::BrokenBarrierError", &throw_nested<BrokenBarrierError>},
};

[[noreturn]] void throw_system_error(const WireException& w) {
  const std::error_category& cat =
      w.category == "system" ? std::system_category() : std::generic_category();
  const std::error_code ec(w.code, cat);
  // system_error appends ": <strerror>" to its argument; strip it so what() comes back intact.
  std::string what = w.message;
  const std::string suffix = ": " + ec.message();
  if (what.ends_with(suffix)) what.resize(what.size() - suffix.size());
  std::throw_with_nested(std::system_error(ec, what));
}

}  // namespace

std::exception_ptr exception_from_bytes(std::string_view bytes) noexcept {
  try {
    multiprocessing::rethrow_exception_bytes(bytes);
  } catch (...) {
    return std::current_exception();
  }
}

}  // namespace pyconc::detail

namespace pyconc::multiprocessing {

namespace {
// An exception that came from another process (rebuilt with a nested RemoteError): report that
// process's pid.
void remote_pid_of(const std::nested_exception* nested, detail::WireException& w) {
  if (nested == nullptr || !nested->nested_ptr()) return;
  try {
    nested->rethrow_nested();
  } catch (const RemoteError& r) {
    w.pid = r.pid();
  } catch (...) {
  }
}
}  // namespace

std::string dumps_exception(std::exception_ptr e) {
  detail::WireException w;
  w.pid = static_cast<std::int64_t>(::getpid());
  if (!e) {
    w.type = "pyconc::RuntimeError";
    w.message = "dumps_exception: null exception_ptr";
    return dumps(w);
  }
  try {
    std::rethrow_exception(e);
  } catch (const RemoteError& r) {  // relayed: keep the original process's view
    w.type = r.type_name();
    w.message = r.message();
    w.pid = r.pid();
  } catch (const std::exception& ex) {
    w.type = detail::visible_type(detail::demangle(typeid(ex).name()));
    w.message = ex.what();
    if (const auto* se = dynamic_cast<const std::system_error*>(&ex)) {
      const std::string_view cat = se->code().category().name();
      if (cat == "generic" || cat == "system") {
        w.code = se->code().value();
        w.category = std::string(cat);
      }
    }
    remote_pid_of(dynamic_cast<const std::nested_exception*>(&ex), w);
  } catch (const BaseException& ex) {  // CancelledError, KeyboardInterrupt: not std::exceptions
    w.type = detail::visible_type(detail::demangle(typeid(ex).name()));
    w.message = ex.what();
    remote_pid_of(dynamic_cast<const std::nested_exception*>(&ex), w);
  } catch (...) {
    w.type = detail::describe_exception(e).type;
  }
  return dumps(w);
}

void rethrow_exception_bytes(std::string_view bytes) {
  const auto w = loads<detail::WireException>(bytes);
  RemoteError remote(w.type, w.message, static_cast<long>(w.pid));
  const detail::Thrower* thrower = nullptr;
  for (const auto& k : detail::kKnown) {
    if (k.name == w.type) thrower = &k.thrower;
  }
  const bool system = w.type == "std::system_error" && !w.category.empty();
  if (thrower == nullptr && !system) throw remote;
  try {
    throw remote;
  } catch (...) {  // becomes the nested exception of what we throw now
    if (system) detail::throw_system_error(w);
    (*thrower)(w.message);
  }
  throw remote;  // not reached: the throwers throw
}

}  // namespace pyconc::multiprocessing
