// pyconc/errors.hpp -- the Python-named exceptions shared by every module.
//
// Python: the built-in exceptions and those of concurrent.futures / asyncio, in Python's tree:
//   pyconc::BaseException                 has what(); NOT a std::exception
//     ├─ pyconc::Error                    also a std::runtime_error: every error pyconc raises
//     │    ├─ ValueError, TimeoutError, OSError (and its errno subclasses), ExceptionGroup, ...
//     ├─ pyconc::CancelledError           a task or future was cancelled
//     └─ pyconc::KeyboardInterrupt        SIGINT reached aio::run (after cancelling the main task)
// The rule (Python's since 3.8): `catch (const std::exception&)` -- the translation of
// `except Exception:` -- catches errors, never a cancellation, so a cancelled task cannot swallow
// its own cancellation by accident. `catch (const pyconc::BaseException&)` catches everything
// pyconc raises; `catch (const pyconc::Error&)` everything but cancellation and interrupts.
// Module-specific exceptions (queue::Empty, ...) live with their module and derive from these.
// OSError and its subclasses carry errno like Python's; raise_os_error() picks the subclass
// Python would (ENOENT -> FileNotFoundError, EACCES -> PermissionError, ...).
// Thread safety: exception objects are plain values (copies share an immutable message);
// raise_os_error may be called from any thread.
#pragma once

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pyconc {

// Python: BaseException -- the root of every exception pyconc raises on purpose. Not a
// std::exception, so that `catch (const std::exception&)` does not catch its direct subclasses
// (CancelledError, KeyboardInterrupt). what() is the message; copying never throws.
class BaseException {
 public:
  explicit BaseException(const std::string& message);
  explicit BaseException(const char* message);
  BaseException(const BaseException&) noexcept = default;
  BaseException& operator=(const BaseException&) noexcept = default;
  virtual ~BaseException();
  virtual const char* what() const noexcept;

 protected:
  BaseException() noexcept = default;  // for Error: its message lives in std::runtime_error

 private:
  std::shared_ptr<const std::string> message_;
};

// Python: Exception -- base of every error pyconc raises: both a BaseException and a
// std::runtime_error, so `catch (const std::exception&)` catches it as C++ code expects.
class Error : public BaseException, public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
  explicit Error(const char* message) : std::runtime_error(message) {}
  const char* what() const noexcept override { return std::runtime_error::what(); }
};

// Python: ValueError -- an argument has the right type but a wrong value
// (negative timeout, BoundedSemaphore released too often, task_done() called too often).
class ValueError : public Error {
 public:
  using Error::Error;
};

// Python: KeyError -- a mapping has no such key (MultiDict.getone, ...).
class KeyError : public Error {
 public:
  using Error::Error;
};

// Python: EOFError -- Connection.recv() found the other end closed (no more messages).
class EOFError : public Error {
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

// Python: asyncio.CancelledError / concurrent.futures.CancelledError -- a BaseException, not an
// Error (Python 3.8+): `catch (const std::exception&)` never swallows a cancellation. The
// what() is the message given to cancel(msg), or "cancelled".
class CancelledError : public BaseException {
 public:
  CancelledError() : BaseException("cancelled") {}
  using BaseException::BaseException;
};

// Python: KeyboardInterrupt -- SIGINT interrupted the program: aio::run raises it after the
// main task finished its cancellation. A BaseException, not an Error.
class KeyboardInterrupt : public BaseException {
 public:
  KeyboardInterrupt() : BaseException("KeyboardInterrupt") {}
  using BaseException::BaseException;
};

// Python: concurrent.futures.InvalidStateError -- e.g. set_result() on a finished future.
class InvalidStateError : public Error {
 public:
  using Error::Error;
};

// Python: threading.BrokenBarrierError (a RuntimeError subclass) -- Barrier.wait() on a broken or
// reset barrier. Defined here because the barrier core is shared by threading, multiprocessing
// and asyncio; pyconc::threading::BrokenBarrierError and pyconc::asyncio::BrokenBarrierError
// name this same type (Python has a separate asyncio class; one type lets one catch serve all).
class BrokenBarrierError : public RuntimeError {
 public:
  BrokenBarrierError() : RuntimeError("barrier is broken") {}
  using RuntimeError::RuntimeError;
};

// Python: concurrent.futures.BrokenExecutor -- an executor can no longer run work.
class BrokenExecutor : public Error {
 public:
  using Error::Error;
};

// Python: OSError -- a system call failed. Carries the errno value, its text and, when one file
// is involved, its name; what() is Python's str(): "[Errno 2] No such file or directory: 'x'".
// Difference: Python's `errno` attribute is errno_() here (errno is a C macro).
class OSError : public Error {
 public:
  // strerror(err) as the text; `filename` (may be empty) is quoted after it.
  explicit OSError(int err, std::string filename = {});
  OSError(int err, std::string strerror, std::string filename);

  int errno_() const noexcept { return errno_value_; }
  int errno_value() const noexcept { return errno_value_; }
  const std::string& strerror() const noexcept { return strerror_; }
  const std::string& filename() const noexcept { return filename_; }

 private:
  int errno_value_;
  std::string strerror_;
  std::string filename_;
};

// Python's OSError subclasses, chosen by errno as Python chooses them (see raise_os_error).
// EAGAIN/EWOULDBLOCK, EALREADY, EINPROGRESS
class BlockingIOError : public OSError {
 public:
  using OSError::OSError;
};
// ECHILD
class ChildProcessError : public OSError {
 public:
  using OSError::OSError;
};
// base of BrokenPipeError and the Connection*Error below
class ConnectionError : public OSError {
 public:
  using OSError::OSError;
};
// EPIPE, ESHUTDOWN
class BrokenPipeError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};
// ECONNABORTED
class ConnectionAbortedError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};
// ECONNREFUSED
class ConnectionRefusedError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};
// ECONNRESET
class ConnectionResetError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};
// EEXIST
class FileExistsError : public OSError {
 public:
  using OSError::OSError;
};
// ENOENT
class FileNotFoundError : public OSError {
 public:
  using OSError::OSError;
};
// EINTR
class InterruptedError : public OSError {
 public:
  using OSError::OSError;
};
// EISDIR
class IsADirectoryError : public OSError {
 public:
  using OSError::OSError;
};
// ENOTDIR
class NotADirectoryError : public OSError {
 public:
  using OSError::OSError;
};
// EACCES, EPERM
class PermissionError : public OSError {
 public:
  using OSError::OSError;
};
// ESRCH
class ProcessLookupError : public OSError {
 public:
  using OSError::OSError;
};

// Throws the OSError subclass Python raises for `err` (plain OSError for the others, including
// ETIMEDOUT: pyconc::TimeoutError is not an OSError). `filename` may be empty.
[[noreturn]] void raise_os_error(int err, const std::string& filename = {});
// The same subclass, with "<what>: <strerror(err)>" as its text, for a failed call that is not
// about one file: "[Errno 111] connect(127.0.0.1:1): Connection refused".
[[noreturn]] void throw_os_error(int err, std::string_view what);

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

// Python: type(e).__name__ -- the name of the exception's class: the last component of its
// dynamic C++ type ("ValueError" for pyconc::ValueError, "ClientConnectorError",
// "out_of_range" for std::out_of_range). For an exception_ptr, also a thrown non-std::exception
// ("int"); "" for a null pointer. Thread safety: pure functions.
std::string type_name(const std::exception& e);
std::string type_name(const BaseException& e);
std::string type_name(const Error& e);  // (an Error is both: picks this one)
std::string type_name(const std::exception_ptr& e);

// Python: repr(e) -- "ValueError('bad value')": type_name(e) and what() quoted as Python quotes
// a str. Difference: the one argument is what() (Python shows an OSError's errno and strerror
// as two). For an exception_ptr: "" for a null pointer. Works for every pyconc::BaseException
// (CancelledError('cancelled')) and every std::exception.
std::string repr(const std::exception& e);
std::string repr(const BaseException& e);
std::string repr(const Error& e);
std::string repr(const std::exception_ptr& e);

}  // namespace pyconc
