// pyconc/futures/exceptions.hpp -- concurrent.futures' exceptions.
//
// Python: concurrent.futures.BrokenExecutor and its subclasses; CancelledError, TimeoutError
// and InvalidStateError are the core ones (pyconc/errors.hpp), also reachable from here.
// Difference: Python has two CancelledError classes -- concurrent.futures' is an Exception,
// asyncio's a BaseException. pyconc has one, a BaseException (pyconc::Future is shared by
// executors and coroutines), so `catch (const std::exception&)` around f.result() lets a
// cancellation through; catch pyconc::CancelledError to handle it.
#pragma once

#include "pyconc/errors.hpp"

namespace pyconc::futures {

using pyconc::BrokenExecutor;
using pyconc::CancelledError;
using pyconc::InvalidStateError;
using pyconc::TimeoutError;

// Python: concurrent.futures.thread.BrokenThreadPool -- a worker initializer failed.
class BrokenThreadPool : public BrokenExecutor {
 public:
  using BrokenExecutor::BrokenExecutor;
};

// Python: concurrent.futures.process.BrokenProcessPool -- a worker process died.
class BrokenProcessPool : public BrokenExecutor {
 public:
  using BrokenExecutor::BrokenExecutor;
};

}  // namespace pyconc::futures
