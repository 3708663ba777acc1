// pyconc/multiprocessing/exceptions.hpp -- exceptions that come back from another process.
//
// Python: multiprocessing.pool.RemoteTraceback / the re-raised exception of a worker. A task
// run in another process (process pool, Pool) that throws has its exception sent back as its
// dynamic type name, its what() message and the pid of the process. The receiving side
// rethrows the same type when it is a standard or pyconc exception type (std::out_of_range,
// pyconc::ValueError, ...) and a RemoteError otherwise (a user-defined exception type cannot
// be rebuilt from its name). Difference: Python pickles the exception object itself; C++ has
// no reflection, so only standard and pyconc types keep their type.
// Thread safety: exception objects are plain values.
#pragma once

#include <string>
#include <utility>

#include "pyconc/errors.hpp"

namespace pyconc {

// An exception raised in another process whose type cannot be rebuilt here. what() reads
// "<type_name>: <message> (in process <pid>)". Also the nested cause of the rethrown standard
// exceptions (std::rethrow_if_nested gives it), so the pid is never lost.
class RemoteError : public Error {
 public:
  RemoteError(std::string type_name, std::string message, long pid)
      : Error(type_name + ": " + message + " (in process " + std::to_string(pid) + ")"),
        type_name_(std::move(type_name)),
        message_(std::move(message)),
        pid_(pid) {}

  // Demangled type name of the original exception, e.g. "my::ParseError".
  const std::string& type_name() const noexcept { return type_name_; }
  // The original what() ("" if it was not a std::exception).
  const std::string& message() const noexcept { return message_; }
  // The process the exception was raised in.
  long pid() const noexcept { return pid_; }

 private:
  std::string type_name_;
  std::string message_;
  long pid_;
};

namespace multiprocessing {

using pyconc::RemoteError;

// Python: multiprocessing.pool.MaybeEncodingError -- a task's result could not be serialized
// in the worker (its serialize/save threw). The task's future fails with it; the pool goes on.
class MaybeEncodingError : public Error {
 public:
  using Error::Error;
};

// Python: multiprocessing.ProcessError -- the base of multiprocessing's own errors.
class ProcessError : public Error {
 public:
  using Error::Error;
};

// Python: multiprocessing.AuthenticationError -- the HMAC challenge between a Listener/Client
// or a Manager and its client failed: a wrong authkey on one side, or a peer that does not
// speak the protocol. The connection is closed; nothing is served on it.
class AuthenticationError : public ProcessError {
 public:
  using ProcessError::ProcessError;
};

}  // namespace multiprocessing

}  // namespace pyconc
