// pyconc/asyncio/lifo_queue.hpp -- aio::LifoQueue<T>: a stack between the tasks of one loop.
//
//   aio::LifoQueue<int> stack;
//   co_await stack.put(1); co_await stack.put(2);
//   co_await stack.get();   // 2: the most recent item first
//
// Python: asyncio.LifoQueue(maxsize=0). Same interface, semantics, cancellation and thread
// rules as aio::Queue<T> (queue.hpp); only the order differs. A getter woken by a put takes
// the newest item when it runs (which may be a later one than the put that woke it, as in
// Python).
#pragma once

#include <cstddef>

#include "pyconc/asyncio/detail/async_queue.hpp"
#include "pyconc/asyncio/exceptions.hpp"
#include "pyconc/detail/queue_stores.hpp"

namespace pyconc::asyncio {

template <class T>
class LifoQueue : public detail::AsyncQueue<detail::LifoStore<T>> {
 public:
  explicit LifoQueue(std::ptrdiff_t maxsize = 0)
      : detail::AsyncQueue<detail::LifoStore<T>>(maxsize) {}
};

}  // namespace pyconc::asyncio
