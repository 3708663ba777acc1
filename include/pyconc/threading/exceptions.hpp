// pyconc/threading/exceptions.hpp -- the threading module's exception: BrokenBarrierError.
//
// Python: threading.BrokenBarrierError (a RuntimeError subclass), raised by Barrier.wait() on a
// broken or reset barrier. pyconc::asyncio::BrokenBarrierError names this same type (Python has
// a separate asyncio.BrokenBarrierError class, also a RuntimeError; one type lets a single
// catch serve both barriers). Thread safety: a plain value.
#pragma once

#include "pyconc/errors.hpp"

namespace pyconc::threading {

class BrokenBarrierError : public RuntimeError {
 public:
  BrokenBarrierError() : RuntimeError("barrier is broken") {}
  using RuntimeError::RuntimeError;
};

}  // namespace pyconc::threading
