#include "pyconc/errors.hpp"

#include <cerrno>
#include <cstring>

namespace pyconc {

void raise_os_error(int err, const std::string& what) {
  const std::string msg = "[Errno " + std::to_string(err) + "] " + std::strerror(err) + ": " + what;
  switch (err) {
    case ENOENT:
      throw FileNotFoundError(err, msg);
    case EEXIST:
      throw FileExistsError(err, msg);
    case EPIPE:
      throw BrokenPipeError(err, msg);
    case ECONNRESET:
      throw ConnectionResetError(err, msg);
    case EACCES:
    case EPERM:
      throw PermissionError(err, msg);
    default:
      throw OSError(err, msg);
  }
}

}  // namespace pyconc
