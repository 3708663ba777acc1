// pyconc/asyncio/queue.hpp -- aio::Queue<T>, the FIFO queue between the tasks of one loop.
//
//   aio::Queue<int> queue(/*maxsize=*/10);          // 0 (the default) = unbounded
//   co_await queue.put(1);                           // waits while the queue is full
//   int v = co_await queue.get();                    // waits while it is empty
//   queue.task_done(); co_await queue.join();        // join: every item put was task_done()
//
// Python: asyncio.Queue(maxsize=0) with 3.13's shutdown(immediate=False). put/get/put_nowait/
// get_nowait/task_done/join/qsize/empty/full/maxsize/shutdown behave as in CPython 3.13 and
// raise aio::QueueFull, aio::QueueEmpty and aio::QueueShutDown. A put or get that can proceed
// does not suspend (as in Python). maxsize <= 0 means unbounded.
// Differences: waiting tasks are served strictly in arrival order -- an item (or slot) that
// has woken a waiting task is reserved for it until it runs, so a get_nowait()/put_nowait() in
// that window raises QueueEmpty/QueueFull where Python would let the newcomer take it and send
// the woken task back to wait (see detail/async_queue.hpp). Items may be move-only: get()
// moves the item out. C++ addition: unfinished_tasks().
//
// Cancellation: a task cancelled while waiting in get() or put() leaves the queue and raises
// CancelledError; its put's item is not queued. If it was cancelled after being woken with an
// item (a slot) but before it ran, the item stays in the queue and the next waiting getter
// gets it (the slot goes to the next putter): nothing is lost or duplicated.
// Thread safety: loop-thread only (Python's asyncio.Queue is not thread-safe either). Feed a
// loop from other threads with loop.call_soon_threadsafe([&] { q.put_nowait(x); }).
#pragma once

#include <cstddef>

#include "pyconc/asyncio/detail/async_queue.hpp"
#include "pyconc/asyncio/exceptions.hpp"
#include "pyconc/detail/queue_stores.hpp"

namespace pyconc::asyncio {

template <class T>
class Queue : public detail::AsyncQueue<detail::FifoStore<T>> {
 public:
  explicit Queue(std::ptrdiff_t maxsize = 0) : detail::AsyncQueue<detail::FifoStore<T>>(maxsize) {}
};

}  // namespace pyconc::asyncio
