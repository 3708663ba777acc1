// pyconc/asyncio/exceptions.hpp -- asyncio's exceptions.
//
// Python: asyncio.exceptions. CancelledError, TimeoutError and InvalidStateError are the core
// types (pyconc/errors.hpp) -- aio::CancelledError *is* pyconc::CancelledError -- and
// BrokenBarrierError is pyconc::BrokenBarrierError, as threading's (one type for every barrier).
// The queue exceptions are asyncio's own, distinct from queue::Empty/Full/ShutDown as in Python.
// Every one derives from pyconc::Error. Thread safety: exception objects are plain values.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "pyconc/errors.hpp"

namespace pyconc::asyncio {

using pyconc::BrokenBarrierError;
using pyconc::CancelledError;
using pyconc::InvalidStateError;
using pyconc::TimeoutError;

// Python: asyncio.QueueEmpty -- get_nowait() found no item it could take.
class QueueEmpty : public Error {
 public:
  QueueEmpty() : Error("asyncio queue is empty") {}
  explicit QueueEmpty(const std::string& what) : Error(what) {}
};

// Python: asyncio.QueueFull -- put_nowait() found no free slot.
class QueueFull : public Error {
 public:
  QueueFull() : Error("asyncio queue is full") {}
  explicit QueueFull(const std::string& what) : Error(what) {}
};

// Python: asyncio.QueueShutDown (3.13) -- put() on a queue that was shut down, or get() on one
// that was shut down and has nothing left to hand out.
class QueueShutDown : public Error {
 public:
  QueueShutDown() : Error("asyncio queue is shut down") {}
  explicit QueueShutDown(const std::string& what) : Error(what) {}
};

// Python: asyncio.IncompleteReadError(partial, expected) -- a stream reached EOF before
// `expected` bytes (or a separator) were read. `partial` holds the bytes read before EOF;
// `expected` is empty when the read waited for a separator rather than a byte count (Python:
// None). Python derives it from EOFError; here it is a pyconc::Error.
class IncompleteReadError : public Error {
 public:
  IncompleteReadError(std::string partial_bytes, std::optional<std::size_t> expected_bytes)
      : Error(describe(partial_bytes.size(), expected_bytes)),
        partial(std::move(partial_bytes)),
        expected(expected_bytes) {}

  std::string partial;
  std::optional<std::size_t> expected;

 private:
  static std::string describe(std::size_t got, std::optional<std::size_t> want) {
    return std::to_string(got) + " bytes read on a total of " +
           (want ? std::to_string(*want) : std::string("undefined")) + " expected bytes";
  }
};

// Python: asyncio.LimitOverrunError(message, consumed) -- a separator was not found within the
// stream's buffer limit. `consumed` is how many bytes may be consumed to recover.
class LimitOverrunError : public Error {
 public:
  LimitOverrunError(const std::string& message, std::size_t consumed_bytes)
      : Error(message), consumed(consumed_bytes) {}

  std::size_t consumed;
};

}  // namespace pyconc::asyncio
