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

// Python: KeyError -- a mapping has no such key (MultiDict.getone, ...).
class KeyError : public Error {
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

}  // namespace pyconc
