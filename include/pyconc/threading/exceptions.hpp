// pyconc/threading/exceptions.hpp -- the threading module's exception: BrokenBarrierError.
//
// Python: threading.BrokenBarrierError (a RuntimeError subclass), raised by Barrier.wait() on a
// broken or reset barrier. The type is pyconc::BrokenBarrierError (errors.hpp: the barrier core
// is shared by threading, multiprocessing and asyncio); this header gives it its Python module
// name. Thread safety: a plain value.
#pragma once

#include "pyconc/errors.hpp"

namespace pyconc::threading {

using pyconc::BrokenBarrierError;

}  // namespace pyconc::threading
