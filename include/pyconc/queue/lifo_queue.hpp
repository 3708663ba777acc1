// pyconc/queue/lifo_queue.hpp -- LifoQueue<T>, a blocking stack between threads.
//
//   pyconc::queue::LifoQueue<int> stack;
//   stack.put(1); stack.put(2);
//   stack.get();  // 2: the most recently added item first
//
// Python: queue.LifoQueue(maxsize=0). The same interface and semantics as Queue<T> (bounded
// or not, task_done/join, shutdown, the same C++ additions and differences); only the order
// differs: get() returns the item added last.
//
// Memory ordering: what the putter did before put() is visible to the getter after get()
// returns the item; what a worker did before task_done() is visible after join() returns.
// Thread safety: any number of threads may call any member concurrently (as Queue<T>).
#pragma once

#include <cstddef>

#include "pyconc/queue/detail/basic_queue.hpp"
#include "pyconc/queue/exceptions.hpp"

namespace pyconc::queue {

template <class T>
class LifoQueue : public detail::BasicQueue<detail::LifoStore<T>> {
 public:
  explicit LifoQueue(std::ptrdiff_t maxsize = 0)
      : detail::BasicQueue<detail::LifoStore<T>>(maxsize) {}
};

}  // namespace pyconc::queue
