// pyconc/threading.hpp -- Python's `threading` module: threads and the blocking primitives.
//
//   namespace th = pyconc::threading;
//   th::Thread t(work, 1); t.start(); t.join();
//   th::Lock lock; { std::lock_guard g(lock); /* ... */ }
//
// One header per concept under pyconc/threading/; this one includes them all.
#pragma once

#include "pyconc/threading/barrier.hpp"
#include "pyconc/threading/condition.hpp"
#include "pyconc/threading/event.hpp"
#include "pyconc/threading/exceptions.hpp"
#include "pyconc/threading/local.hpp"
#include "pyconc/threading/lock.hpp"
#include "pyconc/threading/lock_order.hpp"
#include "pyconc/threading/rlock.hpp"
#include "pyconc/threading/semaphore.hpp"
#include "pyconc/threading/thread.hpp"
#include "pyconc/threading/timer.hpp"
