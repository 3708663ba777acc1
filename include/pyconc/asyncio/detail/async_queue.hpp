// pyconc/asyncio/detail/async_queue.hpp -- the engine behind aio::Queue, aio::LifoQueue and
// aio::PriorityQueue: waiting getters and putters, task accounting and shutdown, once; the
// three queues differ only in their Store (pyconc/detail/queue_stores.hpp: FIFO ring, LIFO
// vector, binary heap), as in CPython where they override only _put/_get.
//
// Fairness and no lost items (the invariants the code keeps):
//  * A put that finds getters waiting grants the new item to the oldest: the getter is woken
//    and the item is *reserved* for it (reserved_items_), but stays in the store until the
//    getter's task runs and takes it in await_resume -- after resume_check(), so a getter
//    cancelled between the wake-up and its run takes nothing, and its grant goes to the next
//    getter (or the item becomes free again). Items are never handed over early, never lost.
//  * Symmetrically a get that frees a slot of a bounded queue grants it to the oldest waiting
//    putter (reserved_slots_); the putter's item enters the store when its task runs.
//  * Hence: getters wait only while no item is free (store size <= reserved items), putters
//    only while no slot is free, and a newcomer never overtakes a waiting task (FIFO-fair).
//    Python lets a newcomer take an item (or slot) meant for a woken task, which then waits
//    again at the back; here *_nowait calls report QueueEmpty/QueueFull in that window.
//  * shutdown() wakes every waiter without a grant: getters then take a free item if one is
//    left, else raise QueueShutDown; putters raise QueueShutDown. shutdown(immediate) also
//    drops the items (counting each as task_done), so granted getters raise too.
// Waiter nodes are the awaiters (in the awaiting frames): no allocation per wait.
//
// Thread safety: loop-thread only.
#pragma once

#include <coroutine>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

#include "pyconc/asyncio/detail/primitive_waiters.hpp"
#include "pyconc/asyncio/event.hpp"
#include "pyconc/asyncio/exceptions.hpp"
#include "pyconc/detail/queue_stores.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {

template <class Store>
class AsyncQueue;

// A parked get() or put(): granted_ tells whether it was handed an item (slot) or woken by
// shutdown().
class QueueWaiter : public ListWaiter {
 protected:
  QueueWaiter() = default;
  QueueWaiter(QueueWaiter&& o) noexcept : ListWaiter(std::move(o)) {}
  ~QueueWaiter() = default;

  // await_resume after parking (the queue is alive): leaves `woken`, dropping the reservation
  // of a grant. A waiter not in `woken` was cancelled while waiting: CancelledError.
  void leave_woken(WaitList<QueueWaiter>& woken, std::size_t& reserved) {
    if (!woken.contains(*this)) {
      resume_check();  // throws CancelledError
      throw RuntimeError("asyncio.Queue: a waiter resumed without being woken");
    }
    woken.erase(*this);
    if (granted_) --reserved;
  }

  template <class Store>
  friend class AsyncQueue;
  bool granted_ = false;
};

template <class Store>
class [[nodiscard]] QueueGet final : public QueueWaiter {
 public:
  using value_type = typename Store::value_type;

  explicit QueueGet(AsyncQueue<Store>& q) noexcept : q_(&q) {}
  QueueGet(QueueGet&& o) noexcept : QueueWaiter(std::move(o)), q_(o.q_) {}
  ~QueueGet() {
    if (linked())
      q_->abandon(*this, q_->woken_getters_, q_->reserved_items_, &AsyncQueue<Store>::grant_getter);
  }

  bool await_ready() {
    if (q_->item_free()) return true;
    if (q_->shutdown_) throw asyncio::QueueShutDown("get() on a shut-down queue with no item left");
    return false;
  }
  void await_suspend(std::coroutine_handle<> h) {
    (void)current_task();
    q_->getters_.push_back(*this);
    park(h);
  }
  value_type await_resume() {
    if (!parked()) return q_->take();
    if (orphaned()) throw_orphaned("Queue");
    AsyncQueue<Store>& q = *q_;
    leave_woken(q.woken_getters_, q.reserved_items_);
    try {
      resume_check();
    } catch (...) {
      q.grant_getter();  // the item we were promised goes to the next getter
      throw;
    }
    if (q.item_free()) return q.take();
    throw asyncio::QueueShutDown("get() on a shut-down queue with no item left");
  }

 private:
  AsyncQueue<Store>* q_;
};

template <class Store>
class [[nodiscard]] QueuePut final : public QueueWaiter {
 public:
  using value_type = typename Store::value_type;

  QueuePut(AsyncQueue<Store>& q, value_type item) : q_(&q), item_(std::move(item)) {}
  QueuePut(QueuePut&& o) noexcept(std::is_nothrow_move_constructible_v<value_type>)
      : QueueWaiter(std::move(o)), q_(o.q_), item_(std::move(o.item_)) {}
  ~QueuePut() {
    if (linked())
      q_->abandon(*this, q_->woken_putters_, q_->reserved_slots_, &AsyncQueue<Store>::grant_putter);
  }

  bool await_ready() {
    if (q_->shutdown_) throw asyncio::QueueShutDown("put() on a shut-down queue");
    if (!q_->slot_free()) return false;
    q_->push(std::move(item_));
    return true;
  }
  void await_suspend(std::coroutine_handle<> h) {
    (void)current_task();
    q_->putters_.push_back(*this);
    park(h);
  }
  void await_resume() {
    if (!parked()) return;
    if (orphaned()) throw_orphaned("Queue");
    AsyncQueue<Store>& q = *q_;
    leave_woken(q.woken_putters_, q.reserved_slots_);
    try {
      resume_check();
      if (q.shutdown_) throw asyncio::QueueShutDown("put() on a shut-down queue");
      q.push(std::move(item_));
    } catch (...) {
      q.grant_putter();  // the slot we were promised goes to the next putter
      throw;
    }
  }

 private:
  AsyncQueue<Store>* q_;
  value_type item_;
};

template <class Store>
class AsyncQueue {
 public:
  using value_type = typename Store::value_type;

  AsyncQueue(const AsyncQueue&) = delete;
  AsyncQueue& operator=(const AsyncQueue&) = delete;

  // co_await: waits while the queue is full; QueueShutDown once shut down.
  QueuePut<Store> put(value_type item) { return QueuePut<Store>(*this, std::move(item)); }
  // co_await: waits while no item is free; returns the item. QueueShutDown once shut down and
  // drained.
  QueueGet<Store> get() noexcept { return QueueGet<Store>(*this); }

  // QueueFull when no slot is free, QueueShutDown after shutdown().
  void put_nowait(value_type item) {
    if (shutdown_) throw asyncio::QueueShutDown("put_nowait() on a shut-down queue");
    if (!slot_free()) throw asyncio::QueueFull("put_nowait() on a full queue");
    push(std::move(item));
  }
  // QueueEmpty when no item is free, QueueShutDown when shut down and drained.
  value_type get_nowait() {
    if (item_free()) return take();
    if (shutdown_)
      throw asyncio::QueueShutDown("get_nowait() on a shut-down queue with no item left");
    throw asyncio::QueueEmpty("get_nowait() on an empty queue");
  }

  // Marks one item got earlier as processed. ValueError if called more often than put.
  void task_done() {
    if (unfinished_ == 0) throw ValueError("task_done() called too many times");
    if (--unfinished_ == 0) finished_.set();
  }
  // co_await: returns once every item put so far was marked task_done().
  EventWait join() noexcept { return finished_.wait(); }

  // Items in the queue (including one a woken getter is about to take, as in Python).
  std::size_t qsize() const noexcept { return store_.size(); }
  bool empty() const noexcept { return store_.size() == 0; }
  bool full() const noexcept { return capacity_ != 0 && store_.size() >= capacity_; }
  std::ptrdiff_t maxsize() const noexcept { return maxsize_; }
  // Items put and not yet marked task_done() (Python's private _unfinished_tasks).
  std::size_t unfinished_tasks() const noexcept { return unfinished_; }

  // Python 3.13: puts raise QueueShutDown from now on; gets drain what is left, then raise it.
  // immediate: the items are dropped too (each counted as task_done, so join() returns).
  // Every waiting get/put is woken to re-check.
  void shutdown(bool immediate = false) {
    shutdown_ = true;
    if (immediate) {
      const std::size_t n = store_.size();
      { auto dropped = store_.take_all(); }
      unfinished_ -= n < unfinished_ ? n : unfinished_;
      if (unfinished_ == 0) finished_.set();
    }
    while (QueueWaiter* g = getters_.pop_front()) {
      woken_getters_.push_back(*g);
      g->wake();
    }
    while (QueueWaiter* p = putters_.pop_front()) {
      woken_putters_.push_back(*p);
      p->wake();
    }
  }

 protected:
  template <class... StoreArgs>
  explicit AsyncQueue(std::ptrdiff_t maxsize, StoreArgs&&... store_args)
      : store_(std::forward<StoreArgs>(store_args)...),
        capacity_(maxsize > 0 ? static_cast<std::size_t>(maxsize) : 0),
        maxsize_(maxsize) {
    finished_.set();
  }
  ~AsyncQueue() = default;

 private:
  friend class QueueGet<Store>;
  friend class QueuePut<Store>;

  bool item_free() const noexcept { return store_.size() > reserved_items_; }
  bool slot_free() const noexcept {
    return capacity_ == 0 || store_.size() + reserved_slots_ < capacity_;
  }

  value_type take() {
    std::optional<value_type> out;
    store_.pop_into(out);
    grant_putter();
    return std::move(*out);
  }
  template <class U>
  void push(U&& item) {
    store_.push(std::forward<U>(item));
    ++unfinished_;
    finished_.clear();
    grant_getter();
  }

  // Hands a free item (slot) to the oldest waiting getter (putter).
  void grant_getter() noexcept {
    if (getters_.empty() || !item_free()) return;
    QueueWaiter* g = getters_.pop_front();
    g->granted_ = true;
    ++reserved_items_;
    woken_getters_.push_back(*g);
    g->wake();
  }
  void grant_putter() noexcept {
    if (putters_.empty() || !slot_free()) return;
    QueueWaiter* p = putters_.pop_front();
    p->granted_ = true;
    ++reserved_slots_;
    woken_putters_.push_back(*p);
    p->wake();
  }

  // A waiter's frame was destroyed while it was parked here (in a wait list or woken): a grant
  // it held goes to the next waiter of its side.
  void abandon(QueueWaiter& w, const WaitList<QueueWaiter>& woken, std::size_t& reserved,
               void (AsyncQueue::*grant)() noexcept) noexcept {
    const bool pass_on = woken.contains(w) && w.granted_;
    w.unlink();
    if (pass_on) {
      --reserved;
      (this->*grant)();
    }
  }

  Store store_;
  std::size_t capacity_;  // 0: unbounded
  std::size_t reserved_items_ = 0;
  std::size_t reserved_slots_ = 0;
  std::size_t unfinished_ = 0;
  std::ptrdiff_t maxsize_;
  bool shutdown_ = false;
  asyncio::Event finished_;
  WaitList<QueueWaiter> getters_;
  WaitList<QueueWaiter> woken_getters_;
  WaitList<QueueWaiter> putters_;
  WaitList<QueueWaiter> woken_putters_;
};

}  // namespace pyconc::detail
