// pyconc/threading/exceptions.hpp -- the exceptions of the threading module.
//
// Python: threading.BrokenBarrierError (also multiprocessing.BrokenBarrierError).
// Thread safety: exception objects are plain values.
#pragma once

#include "pyconc/errors.hpp"

namespace pyconc::threading {

// Python: threading.BrokenBarrierError (a RuntimeError subclass in Python).
class BrokenBarrierError : public RuntimeError {
 public:
  BrokenBarrierError() : RuntimeError("barrier is broken") {}
  using RuntimeError::RuntimeError;
};

}  // namespace pyconc::threading
