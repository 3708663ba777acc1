#include "pyconc/errors.hpp"

#include <typeinfo>

#include "pyconc/detail/exception_info.hpp"

#include <cerrno>
#include <system_error>
#include <utility>

namespace pyconc {

BaseException::BaseException(const std::string& message)
    : message_(std::make_shared<const std::string>(message)) {}
BaseException::BaseException(const char* message)
    : message_(std::make_shared<const std::string>(message)) {}
BaseException::~BaseException() = default;
const char* BaseException::what() const noexcept {
  return message_ ? message_->c_str() : "pyconc::BaseException";
}

namespace {

std::string os_error_what(int err, const std::string& strerror, const std::string& filename) {
  // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict, a false positive) on the
  // equivalent chain of operator+.
  std::string what = "[Errno ";
  what += std::to_string(err);
  what += "] ";
  what += strerror;
  if (!filename.empty()) {
    what += ": '";
    what += filename;
    what += "'";
  }
  return what;
}

}  // namespace

// std::system_category().message() is strerror_r underneath: thread-safe, unlike strerror().
OSError::OSError(int err, std::string filename)
    : OSError(err, std::system_category().message(err), std::move(filename)) {}

OSError::OSError(int err, std::string strerror, std::string filename)
    : Error(os_error_what(err, strerror, filename)),
      errno_value_(err),
      strerror_(std::move(strerror)),
      filename_(std::move(filename)) {}

namespace {

// Throws the subclass Python picks for `err`, constructed from (err, args...).
template <class... Args>
[[noreturn]] void raise_for(int err, Args&&... args) {
  switch (err) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EALREADY:
    case EINPROGRESS:
      throw BlockingIOError(err, std::forward<Args>(args)...);
    case ECHILD:
      throw ChildProcessError(err, std::forward<Args>(args)...);
    case EPIPE:
    case ESHUTDOWN:
      throw BrokenPipeError(err, std::forward<Args>(args)...);
    case ECONNABORTED:
      throw ConnectionAbortedError(err, std::forward<Args>(args)...);
    case ECONNREFUSED:
      throw ConnectionRefusedError(err, std::forward<Args>(args)...);
    case ECONNRESET:
      throw ConnectionResetError(err, std::forward<Args>(args)...);
    case EEXIST:
      throw FileExistsError(err, std::forward<Args>(args)...);
    case ENOENT:
      throw FileNotFoundError(err, std::forward<Args>(args)...);
    case EINTR:
      throw InterruptedError(err, std::forward<Args>(args)...);
    case EISDIR:
      throw IsADirectoryError(err, std::forward<Args>(args)...);
    case ENOTDIR:
      throw NotADirectoryError(err, std::forward<Args>(args)...);
    case EACCES:
    case EPERM:
      throw PermissionError(err, std::forward<Args>(args)...);
    case ESRCH:
      throw ProcessLookupError(err, std::forward<Args>(args)...);
    default:
      throw OSError(err, std::forward<Args>(args)...);
  }
}

}  // namespace

void raise_os_error(int err, const std::string& filename) {
  raise_for(err, filename);
}

void throw_os_error(int err, std::string_view what) {
  std::string text(what);
  text += ": ";
  text += std::system_category().message(err);
  raise_for(err, std::move(text), std::string());
}

namespace {

// "pyconc::aiohttp::ClientError" -> "ClientError"; "ns::Box<ns::T>" -> "Box<ns::T>".
std::string last_component(const std::string& qualified) {
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < qualified.size(); ++i) {
    const char c = qualified[i];
    if (c == '<' || c == '(') ++depth;
    if (c == '>' || c == ')') --depth;
    if (depth == 0 && c == ':' && i + 1 < qualified.size() && qualified[i + 1] == ':') {
      start = i + 2;
    }
  }
  return qualified.substr(start);
}

// Python's repr of a str: single quotes unless the text holds one and no double quote.
std::string quoted(const std::string& text) {
  const char q =
      text.find('\'') != std::string::npos && text.find('"') == std::string::npos ? '"' : '\'';
  std::string out(1, q);
  for (const char c : text) {
    if (c == '\\' || c == q) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  out += q;
  return out;
}

}  // namespace

std::string type_name(const std::exception& e) {
  return last_component(detail::demangle(typeid(e).name()));
}

std::string type_name(const BaseException& e) {
  return last_component(detail::demangle(typeid(e).name()));
}

std::string type_name(const Error& e) {
  return type_name(static_cast<const BaseException&>(e));
}

std::string type_name(const std::exception_ptr& e) {
  if (!e) return {};
  return last_component(detail::describe_exception(e).type);
}

std::string repr(const std::exception& e) {
  return type_name(e) + "(" + quoted(e.what()) + ")";
}

std::string repr(const BaseException& e) {
  return type_name(e) + "(" + quoted(e.what()) + ")";
}

std::string repr(const Error& e) {
  return repr(static_cast<const BaseException&>(e));
}

std::string repr(const std::exception_ptr& e) {
  if (!e) return {};
  const detail::ExceptionInfo info = detail::describe_exception(e);
  return last_component(info.type) + "(" + quoted(info.message) + ")";
}

}  // namespace pyconc
