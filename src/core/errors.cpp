#include "pyconc/errors.hpp"

#include <cerrno>
#include <system_error>
#include <utility>

namespace pyconc {

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

void raise_os_error(int err, const std::string& filename) {
  switch (err) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EALREADY:
    case EINPROGRESS:
      throw BlockingIOError(err, filename);
    case ECHILD:
      throw ChildProcessError(err, filename);
    case EPIPE:
    case ESHUTDOWN:
      throw BrokenPipeError(err, filename);
    case ECONNABORTED:
      throw ConnectionAbortedError(err, filename);
    case ECONNREFUSED:
      throw ConnectionRefusedError(err, filename);
    case ECONNRESET:
      throw ConnectionResetError(err, filename);
    case EEXIST:
      throw FileExistsError(err, filename);
    case ENOENT:
      throw FileNotFoundError(err, filename);
    case EINTR:
      throw InterruptedError(err, filename);
    case EISDIR:
      throw IsADirectoryError(err, filename);
    case ENOTDIR:
      throw NotADirectoryError(err, filename);
    case EACCES:
    case EPERM:
      throw PermissionError(err, filename);
    case ESRCH:
      throw ProcessLookupError(err, filename);
    default:
      throw OSError(err, filename);
  }
}

}  // namespace pyconc
