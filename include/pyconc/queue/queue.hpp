// pyconc/queue/queue.hpp -- Queue<T>, the bounded (or unbounded) FIFO queue between threads.
//
//   pyconc::queue::Queue<std::string> q(/*maxsize=*/5);
//   q.put("job");                 // waits while 5 items are queued
//   std::string job = q.get();    // waits while none is
//   q.task_done(); q.join();      // join() returns when every put item was marked done
//
// Python: queue.Queue(maxsize=0), with 3.13's shutdown(). Items come out in the order they
// went in. maxsize <= 0 means unbounded. put/get/put_nowait/get_nowait/qsize/empty/full/
// task_done/join/shutdown behave as in CPython 3.13, raising queue::Full, queue::Empty and
// queue::ShutDown. Differences: Python's `block`/`timeout` arguments are separate overloads
// (put(x), put(x, timeout), put_nowait(x); get(), get(timeout), get_nowait()), timeouts are
// std::chrono durations, and a negative one is a ValueError even when the call would not have
// to wait. C++ additions: emplace(args...), try_put / try_get returning bool /
// std::optional instead of throwing, join(timeout) -> bool, unfinished_tasks(). Items may be
// move-only (Queue<std::unique_ptr<Job>>): get() moves the item out, and put(std::move(x))
// leaves x untouched if the put fails.
//
// Memory ordering: what the putter did before put() is visible to the getter after get()
// returns the item; what a worker did before task_done() is visible after join() returns.
// Thread safety: any number of threads may call any member concurrently. A blocking call
// spins briefly (at most detail::spin_limit() pauses, less while spinning keeps failing), then
// parks without using CPU; put and get enter the kernel only to wake a parked thread. Blocked
// threads are not served in strict arrival order (nor are they in CPython, where a woken
// thread competes with newcomers for the lock). qsize()/empty()/full() are lock-free
// snapshots. Destroying the queue while a thread is blocked in it is undefined.
#pragma once

#include <cstddef>

#include "pyconc/queue/detail/basic_queue.hpp"
#include "pyconc/queue/exceptions.hpp"

namespace pyconc::queue {

template <class T>
class Queue : public detail::BasicQueue<detail::FifoStore<T>> {
 public:
  explicit Queue(std::ptrdiff_t maxsize = 0) : detail::BasicQueue<detail::FifoStore<T>>(maxsize) {}
};

}  // namespace pyconc::queue
