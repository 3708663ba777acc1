// pyconc/queue/exceptions.hpp -- the exceptions of the queue module: Empty, Full, ShutDown.
//
// Python: queue.Empty, queue.Full, queue.ShutDown (3.13). They derive from pyconc::Error, so
// `catch (const pyconc::Error&)` catches them with every other pyconc exception; each carries a
// message naming the call that failed. Thread safety: exception objects are plain values.
#pragma once

#include <string>

#include "pyconc/errors.hpp"

namespace pyconc::queue {

// Python: queue.Empty -- get_nowait() found no item, or a timed get() found none in time.
class Empty : public Error {
 public:
  Empty() : Error("queue is empty") {}
  explicit Empty(const std::string& what) : Error(what) {}
  explicit Empty(const char* what) : Error(what) {}
};

// Python: queue.Full -- put_nowait() found no free slot, or a timed put() found none in time.
class Full : public Error {
 public:
  Full() : Error("queue is full") {}
  explicit Full(const std::string& what) : Error(what) {}
  explicit Full(const char* what) : Error(what) {}
};

// Python: queue.ShutDown -- put() on a queue that was shut down, or get() on one that was
// shut down and has no item left.
class ShutDown : public Error {
 public:
  ShutDown() : Error("queue is shut down") {}
  explicit ShutDown(const std::string& what) : Error(what) {}
  explicit ShutDown(const char* what) : Error(what) {}
};

}  // namespace pyconc::queue
