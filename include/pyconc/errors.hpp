// pyconc/errors.hpp -- the Python-named exceptions shared by every module.
//
// Python: the built-in exceptions and those of concurrent.futures / asyncio. Every pyconc
// exception derives from pyconc::Error (itself a std::runtime_error), so `catch (const
// pyconc::Error&)` catches everything pyconc throws on purpose. Module-specific exceptions
// (queue::Empty, threading::BrokenBarrierError, ...) live with their module and derive from
// these. Thread safety: exception objects are plain values.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pyconc {

// Base of every exception pyconc raises on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Python: ValueError -- an argument has the right type but a wrong value
// (negative timeout, BoundedSemaphore released too often, task_done() called too often).
class ValueError : public Error {
 public:
  using Error::Error;
};

// Python: RuntimeError -- an operation is not valid in the object's current state
// (release of an unlocked Lock, join of a thread that was never started, ...).
class RuntimeError : public Error {
 public:
  using Error::Error;
};

// Python: TimeoutError (also concurrent.futures.TimeoutError and asyncio.TimeoutError).
class TimeoutError : public Error {
 public:
  using Error::Error;
};

// Python: asyncio.CancelledError / concurrent.futures.CancelledError.
class CancelledError : public Error {
 public:
  using Error::Error;
};

// Python: concurrent.futures.InvalidStateError -- e.g. set_result() on a finished future.
class InvalidStateError : public Error {
 public:
  using Error::Error;
};

// Python: concurrent.futures.BrokenExecutor -- an executor can no longer run work.
class BrokenExecutor : public Error {
 public:
  using Error::Error;
};

// Python: OSError -- a system call failed; errno() is the error number, the message names the
// operation and strerror(errno), e.g. "connect(127.0.0.1:1): Connection refused".
class OSError : public Error {
 public:
  OSError(int err, const std::string& what) : Error(what), errno_(err) {}
  int errno_value() const noexcept { return errno_; }

 private:
  int errno_;
};

// Python: ConnectionError and its children (ConnectionRefusedError, ConnectionResetError,
// BrokenPipeError), raised by sockets and pipes.
class ConnectionError : public OSError {
 public:
  using OSError::OSError;
};

// Python: ExceptionGroup -- several exceptions raised together (aio::TaskGroup reports every
// child's error). exceptions() holds them in the order they happened; what() is the message
// followed by each one's type and message.
class ExceptionGroup : public Error {
 public:
  ExceptionGroup(const std::string& message, std::vector<std::exception_ptr> exceptions);
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

 private:
  std::vector<std::exception_ptr> exceptions_;
};

// Throws the OSError subclass Python would raise for `err` (ConnectionError for
// ECONNREFUSED/ECONNRESET/EPIPE/ECONNABORTED), with message "<what>: <strerror(err)>".
[[noreturn]] void throw_os_error(int err, std::string_view what);

}  // namespace pyconc
