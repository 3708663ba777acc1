// pyconc/errors.hpp -- the Python-named exceptions shared by every module.
//
// Python: the built-in exceptions and those of concurrent.futures / asyncio. Every pyconc
// exception derives from pyconc::Error (itself a std::runtime_error), so `catch (const
// pyconc::Error&)` catches everything pyconc throws on purpose. Module-specific exceptions
// (queue::Empty, threading::BrokenBarrierError, ...) live with their module and derive from
// these. Thread safety: exception objects are plain values.
#pragma once

#include <stdexcept>
#include <string>

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

// Python: EOFError -- Connection.recv() found the other end closed (no more messages).
class EOFError : public Error {
 public:
  using Error::Error;
};

// Python: KeyError -- a mapping has no such key (Manager dict proxies).
class KeyError : public Error {
 public:
  using Error::Error;
};

// Python: IndexError -- a sequence index is out of range (Manager list proxies).
class IndexError : public Error {
 public:
  using Error::Error;
};

// Python: AttributeError -- an object has no attribute of that name (Manager Namespace).
class AttributeError : public Error {
 public:
  using Error::Error;
};

// Python: OSError -- a system call failed. errno() is the C errno; the message reads like
// Python's: "[Errno 2] No such file or directory: 'psm_1a2b3c4d'". Subclasses for the errno
// values Python gives their own class: FileNotFoundError (ENOENT), FileExistsError (EEXIST),
// BrokenPipeError (EPIPE), ConnectionResetError (ECONNRESET), PermissionError (EACCES, EPERM).
class OSError : public Error {
 public:
  OSError(int err, const std::string& what) : Error(what), errno_(err) {}
  int errno_value() const noexcept { return errno_; }

 private:
  int errno_;
};

class FileNotFoundError : public OSError {
 public:
  using OSError::OSError;
};

class FileExistsError : public OSError {
 public:
  using OSError::OSError;
};

class BrokenPipeError : public OSError {
 public:
  using OSError::OSError;
};

class ConnectionResetError : public OSError {
 public:
  using OSError::OSError;
};

class PermissionError : public OSError {
 public:
  using OSError::OSError;
};

// Throws the OSError subclass Python would raise for `err` (an errno value), with the message
// "[Errno N] strerror(N): <what>". <what> names the call or the object, e.g. "shm_open('psm_x')".
[[noreturn]] void raise_os_error(int err, const std::string& what);

}  // namespace pyconc
