// pyconc/asyncio/condition.hpp -- aio::Condition: tasks wait for a state change announced by
// another task, under a Lock.
//
//   aio::Condition cond;
//   { auto held = co_await cond.acquire(); co_await cond.wait_for([&] { return !jobs.empty(); }); }
//   { auto held = co_await cond.acquire(); jobs.push_back(j); cond.notify(); }
//
// Python: asyncio.Condition(lock=None), 3.13 semantics. wait() releases the lock, waits for a
// notify, re-acquires the lock and returns true; RuntimeError if the lock is not held.
// wait_for(predicate) waits until predicate() is truthy and returns its last value.
// notify(n) wakes up to n waiting tasks, notify_all() all of them (RuntimeError unless the lock
// is held). Waiters are woken in the order they started waiting.
// Differences: a notified waiter joins the lock's queue at notify time (Python queues it when
// its task next runs), so notified waiters re-acquire the lock in notification order ahead of
// later acquire() calls. The lock is a Lock (held by reference when given, else owned).
//
// Cancellation: as in Python, wait() always returns with the lock held. A task cancelled while
// waiting for the notify stops waiting, re-acquires the lock (waiting for it if need be), then
// raises CancelledError; a cancel while it re-acquires takes effect once it holds the lock. A
// waiter cancelled after it was notified passes the notification on to the next waiter.
// Thread safety: loop-thread only.
#pragma once

#include <coroutine>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "pyconc/asyncio/detail/primitive_waiters.hpp"
#include "pyconc/asyncio/held.hpp"
#include "pyconc/asyncio/lock.hpp"
#include "pyconc/asyncio/task.hpp"

namespace pyconc::detail {

struct CondTag {};

// One wait(): first a node in the condition's list (tag CondTag), then -- once notified or
// cancelled -- a node in the lock's queue (LockWaiter), all in the awaiting frame.
class [[nodiscard]] CondWaiter final : public LockWaiter, public WaitHook<CondTag> {
 public:
  explicit CondWaiter(asyncio::Condition& c) noexcept;
  CondWaiter(CondWaiter&& o) noexcept;
  ~CondWaiter();

  bool await_ready();  // RuntimeError unless the lock is held; never ready
  void await_suspend(std::coroutine_handle<> h);
  bool await_resume();
  bool cancel() noexcept override;

 private:
  friend class asyncio::Condition;
  // Notified (or cancelled): leave the condition's waiters, queue for the lock.
  void to_lock() noexcept;

  asyncio::Condition* cond_;
  bool notified_ = false;
  bool relocking_ = false;
};

}  // namespace pyconc::detail

namespace pyconc::asyncio {

class Condition {
 public:
  // With a Lock of its own.
  Condition() noexcept : lock_(&own_) {}
  // Sharing `lock` (which must outlive the condition).
  explicit Condition(Lock& lock) noexcept : lock_(&lock) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;
  ~Condition() = default;

  // The lock's interface (Python binds acquire/release/locked to the lock's).
  detail::LockAcquire<true> acquire() noexcept { return lock_->acquire(); }
  detail::LockAcquire<false> lock() noexcept { return lock_->lock(); }
  bool try_lock() noexcept { return lock_->try_lock(); }
  void release() { lock_->release(); }
  void unlock() { lock_->release(); }
  bool locked() const noexcept { return lock_->locked(); }

  // co_await: releases the lock, waits for a notify, re-acquires the lock; returns true.
  detail::CondWaiter wait() noexcept { return detail::CondWaiter(*this); }

  // co_await: waits until predicate() is truthy; returns its value. Calls predicate() with the
  // lock held (it must be held when wait_for is awaited).
  template <class Predicate>
  Task<std::decay_t<std::invoke_result_t<Predicate&>>> wait_for(Predicate predicate) {
    auto result = predicate();
    while (!result) {
      co_await wait();
      result = predicate();
    }
    co_return result;
  }

  // Wakes up to n waiting tasks (RuntimeError unless the lock is held).
  void notify(int n = 1);
  void notify_all();

 private:
  friend class detail::CondWaiter;
  void wake(std::size_t n) noexcept;

  Lock own_;
  Lock* lock_;
  detail::WaitList<detail::CondWaiter, detail::CondTag> waiting_;
  // Notified or cancelled, re-acquiring the lock (kept to orphan them with the condition).
  detail::WaitList<detail::CondWaiter, detail::CondTag> relocking_;
};

}  // namespace pyconc::asyncio
