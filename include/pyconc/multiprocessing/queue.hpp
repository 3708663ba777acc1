// pyconc/multiprocessing/queue.hpp -- Queue, JoinableQueue and SimpleQueue between processes.
//
// Python: multiprocessing.Queue(maxsize=0), JoinableQueue(maxsize=0), SimpleQueue().
//
//   mp::Queue<std::string> q;                  // create before starting the processes
//   mp::Process p(worker, q); p.start();       // worker(mp::Queue<std::string> q) { q.put("A"); }
//   std::string v = q.get(); q.get(1s);        // queue::Empty after 1 s
//   q.put_nowait("x"); q.get_nowait();         // queue::Full / queue::Empty at once
//   mp::JoinableQueue<int> jq; jq.task_done(); jq.join();
//
// A Queue object is a handle: copies -- and a forked child's copies, e.g. bound into a
// Process's arguments -- are the same queue. Any number of processes and threads may put and
// get at once; items come out in FIFO order (per producer, and overall in the order the puts
// took the queue's lock). Items are any Serializable T (serialize.hpp), copied in as bytes.
// Design (detail/queue_core.hpp): a ring of serialized items in shared memory under a robust
// process-shared lock, with futex waits -- no pipe, no feeder thread, no syscall when nobody
// waits. A process that dies in the middle of a put() or get() leaves the queue consistent.
// Differences from Python:
//   * put() returns once the item is in the queue (Python returns before its feeder thread
//     has written it), so there is nothing to flush: close() only makes this handle refuse
//     further calls, join_thread()/cancel_join_thread() do nothing, and a process may exit
//     right after put() without losing the item.
//   * "unbounded" (maxsize 0) means up to QueueOptions::capacity_bytes of serialized items
//     waiting at once (default 1 GiB of address space, allocated as used); past it put()
//     blocks like a bounded queue. An item larger than the capacity is a ValueError.
//   * items are typed: every process uses the same T.
// Thread safety: any thread of any process may call any member, except that close() on a
// handle must not race with other calls on that same handle.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include "pyconc/detail/chrono.hpp"

#include "pyconc/detail/deadline.hpp"
#include "pyconc/multiprocessing/detail/queue_core.hpp"
#include "pyconc/multiprocessing/serialize.hpp"
#include "pyconc/queue/exceptions.hpp"

namespace pyconc::multiprocessing {

struct QueueOptions {
  std::size_t maxsize{0};                            // 0: no bound on the number of items
  std::size_t capacity_bytes{std::size_t{1} << 30};  // address space reserved for waiting items
};

template <class T>
class Queue {
 public:
  explicit Queue(std::size_t maxsize = 0) : Queue(QueueOptions{.maxsize = maxsize}) {}
  explicit Queue(QueueOptions options)
      : core_(pyconc::detail::make_queue_core(options.maxsize, options.capacity_bytes)),
        closed_(std::make_shared<bool>(false)) {}

  // Python: put(obj): waits while the queue is full.
  void put(const T& item) { put_impl(item, true, nullptr); }
  // Python: put(obj, timeout=t): queue::Full if still full after `timeout`.
  template <class Rep, class Period>
  void put(const T& item, std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = pyconc::detail::deadline_after(timeout);
    put_impl(item, true, &deadline);
  }
  // Python: put_nowait(obj) / put(obj, block=False): queue::Full if full right now.
  void put_nowait(const T& item) { put_impl(item, false, nullptr); }

  // Python: get(): waits for an item.
  T get() { return get_impl(true, nullptr); }
  // Python: get(timeout=t): queue::Empty if none arrived within `timeout`.
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = pyconc::detail::deadline_after(timeout);
    return get_impl(true, &deadline);
  }
  // Python: get_nowait() / get(block=False): queue::Empty if none is there right now.
  T get_nowait() { return get_impl(false, nullptr); }

  // Items in the queue (a snapshot; Python's is approximate too).
  std::size_t qsize() const noexcept { return core_->qsize(); }
  bool empty() const noexcept { return qsize() == 0; }
  bool full() const noexcept { return core_->full(); }
  std::size_t maxsize() const noexcept { return core_->maxsize(); }

  // Python: close(): this handle (and its copies in this process) will not be used any more;
  // later calls raise ValueError("Queue is closed"). Other processes are not affected.
  void close() noexcept { *closed_ = true; }
  // Python: join_thread() / cancel_join_thread(): nothing to wait for (no feeder thread).
  void join_thread() const noexcept {}
  void cancel_join_thread() const noexcept {}

 protected:
  void check_open() const {
    if (*closed_) throw ValueError("Queue is closed");
  }
  pyconc::detail::QueueCore& core() const noexcept { return *core_; }

 private:
  void put_impl(const T& item, bool block, const pyconc::detail::Clock::time_point* deadline) {
    check_open();
    const std::string bytes = dumps(item);
    if (!core_->put(bytes, block, deadline)) throw queue::Full();
  }
  T get_impl(bool block, const pyconc::detail::Clock::time_point* deadline) {
    check_open();
    thread_local std::string bytes;
    if (!core_->get(bytes, block, deadline)) throw queue::Empty();
    return loads<T>(bytes);
  }

  std::shared_ptr<pyconc::detail::QueueCore> core_;
  std::shared_ptr<bool> closed_;
};

// Python: multiprocessing.JoinableQueue -- a Queue whose consumers call task_done() for each
// item they processed; join() waits until every item put has been.
template <class T>
class JoinableQueue : public Queue<T> {
 public:
  using Queue<T>::Queue;

  // ValueError("task_done() called too many times") when no item is unfinished.
  void task_done() {
    this->check_open();
    this->core().task_done();
  }
  // Waits until every item put has been task_done()'d.
  void join() { this->core().join(nullptr); }
  // As join(), at most `timeout`; returns whether all were done (Python has no timeout here).
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = pyconc::detail::deadline_after(timeout);
    return this->core().join(&deadline);
  }
};

// Python: multiprocessing.SimpleQueue -- put(), get(), empty(), close(); unbounded.
template <class T>
class SimpleQueue {
 public:
  SimpleQueue() = default;
  void put(const T& item) { q_.put(item); }
  T get() { return q_.get(); }
  bool empty() const noexcept { return q_.empty(); }
  void close() noexcept { q_.close(); }

 private:
  Queue<T> q_;
};

}  // namespace pyconc::multiprocessing
