// pyconc/queue/simple_queue.hpp -- SimpleQueue<T>, the unbounded FIFO queue without extras.
//
//   pyconc::queue::SimpleQueue<int> q;
//   q.put(1);            // never blocks
//   int x = q.get();     // waits while empty
//
// Python: queue.SimpleQueue. Unbounded, so put() never blocks (put(x, timeout) is accepted
// for compatibility with Queue and never waits, as in Python -- though a negative timeout is
// still a ValueError); no maxsize, full(), task_done(), join() or shutdown().
// get/get(timeout)/get_nowait raise queue::Empty as Queue's do.
// Difference: not re-entrant from signal handlers (Python's SimpleQueue is, for __del__ and
// weakref callbacks; C++ has no such need). C++ additions: emplace(args...), try_put /
// try_get. Move-only items work.
//
// Memory ordering: what the putter did before put() is visible to the getter after get()
// returns the item.
// Thread safety: any number of threads may call any member concurrently. get() spins briefly,
// then parks without using CPU; put() enters the kernel only to wake a parked getter.
#pragma once

#include "pyconc/queue/detail/basic_queue.hpp"
#include "pyconc/queue/exceptions.hpp"

namespace pyconc::queue {

template <class T>
class SimpleQueue : private detail::BasicQueue<detail::FifoStore<T>, /*Joinable=*/false> {
  using Base = detail::BasicQueue<detail::FifoStore<T>, false>;

 public:
  using typename Base::value_type;

  SimpleQueue() : Base(0) {}

  using Base::emplace;
  using Base::empty;
  using Base::get;
  using Base::get_nowait;
  using Base::put;
  using Base::put_nowait;
  using Base::qsize;
  using Base::try_get;
  using Base::try_put;
};

}  // namespace pyconc::queue
