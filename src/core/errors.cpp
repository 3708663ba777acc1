#include "pyconc/errors.hpp"

#include <cerrno>
#include <system_error>
#include <utility>

namespace pyconc {

namespace {

std::string os_error_what(int err, const std::string& strerror, const std::string& filename) {
  std::string what = "[Errno " + std::to_string(err) + "] " + strerror;
  if (!filename.empty()) what += ": '" + filename + "'";
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

}  // namespace pyconc
