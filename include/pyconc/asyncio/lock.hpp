// pyconc/asyncio/lock.hpp -- aio::Lock, mutual exclusion between the tasks of one event loop.
//
//   aio::Lock lk;
//   { auto held = co_await lk.acquire(); /* ... */ }     // async with lk:
//   co_await lk.lock(); /* ... */ lk.release();           // await lk.acquire() ... lk.release()
//
// Python: asyncio.Lock (3.13 semantics). Not reentrant. FIFO-fair: release() hands the wake-up
// to the oldest waiter, and a newcomer queues behind every waiter even while the lock is
// momentarily free (between the release and the woken task running, locked() is false, as in
// Python). Acquiring a free lock with nobody waiting does not suspend. release() of a lock that
// is not held raises RuntimeError("Lock is not acquired."); any task may release it (Python
// does not track an owner either).
// C++ additions: acquire() returns an aio::Held guard (see held.hpp) -- lock() acquires without
// one; try_lock() takes a free lock without waiting; unlock() is release().
//
// Cancellation: a task cancelled while waiting leaves the queue and raises CancelledError. If
// it was cancelled after release() had already woken it (but before it ran), it raises
// CancelledError without taking the lock and passes the wake-up on to the next waiter, so the
// lock is never left free with tasks waiting.
// Thread safety: loop-thread only (Python's asyncio primitives are not thread-safe either);
// distinct locks may live on distinct loops.
// Debug mode (PYCONC_DEBUG=1 or threading::set_deadlock_detection): the order in which each
// task takes Locks is recorded and an acquire that would close a lock-order cycle between
// tasks is reported before it waits (pyconc/threading/lock_order.hpp); a raising handler makes
// the `co_await` throw instead. Off, it costs one predictable branch per acquire and release.
#pragma once

#include <coroutine>
#include <utility>

#include "pyconc/asyncio/detail/primitive_waiters.hpp"
#include "pyconc/asyncio/held.hpp"
#include "pyconc/detail/lock_order.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::asyncio {
class Lock;
class Condition;
}  // namespace pyconc::asyncio

namespace pyconc::detail {

class CondWaiter;

// A task waiting for a Lock: the node in the lock's queue. Woken nodes move to the lock's
// `woken_` list until their task runs (so the hand-over can be passed on, or orphaned).
class LockWaiter : public ListWaiter {
 protected:
  explicit LockWaiter(asyncio::Lock& lock) noexcept : lock_(&lock) {}
  LockWaiter(LockWaiter&& o) noexcept : ListWaiter(std::move(o)), lock_(o.lock_) {}
  ~LockWaiter();

  // Takes the lock at once if it is free and nobody queues for it. Debug mode: first checks
  // the lock order (may throw what the deadlock handler throws).
  bool try_take();
  // Queues behind the current waiters and parks the task.
  void enqueue(std::coroutine_handle<> h);
  // await_resume after parking: takes the lock, or (cancelled) passes the wake-up on.
  void take_after_wake();

  asyncio::Lock* lock_;
  // The lock was taken on the task's behalf before it ran (Condition::wait's re-acquire).
  bool owns_ = false;

  friend class asyncio::Lock;
};

template <bool Guard>
using LockAcquire = AcquireAwaiter<LockWaiter, asyncio::Lock, Guard>;

}  // namespace pyconc::detail

namespace pyconc::asyncio {

class Lock {
 public:
  // `where` is recorded (in debug mode only) to name the lock in deadlock reports.
  Lock(detail::SourceSite where = detail::SourceSite::current()) noexcept {  // NOLINT
    if (detail::lock_order_checking()) [[unlikely]] {
      detail::lock_order_created(this, detail::LockKind::asyncio_lock, where);
    }
  }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
  // Tasks still waiting are orphaned (see detail/wait_list.hpp): they raise when they resume.
  ~Lock() {
    if (detail::lock_order_checking()) [[unlikely]]
      detail::lock_order_destroyed(this);
  }

  // co_await: waits for the lock; returns a guard that releases it.
  detail::LockAcquire<true> acquire() noexcept { return detail::LockAcquire<true>(*this); }
  // co_await: waits for the lock; returns nothing -- release() it yourself.
  detail::LockAcquire<false> lock() noexcept { return detail::LockAcquire<false>(*this); }
  // Takes the lock if that needs no waiting (free, nobody queued); never suspends.
  bool try_lock() noexcept {
    if (!free_for_newcomer()) return false;
    locked_ = true;
    if (detail::lock_order_checking()) [[unlikely]]
      note_taken();
    return true;
  }

  // Releases the lock and wakes the oldest waiter. RuntimeError if the lock is not held.
  void release() {
    if (!locked_) throw RuntimeError("Lock is not acquired.");
    if (detail::lock_order_checking()) [[unlikely]]
      detail::lock_order_released(this);
    locked_ = false;
    if (!waiting_.empty()) wake_first();
  }
  void unlock() { release(); }

  bool locked() const noexcept { return locked_; }

 private:
  friend class detail::LockWaiter;
  friend class detail::CondWaiter;
  friend class Condition;

  bool free_for_newcomer() const noexcept { return !locked_ && waiting_.empty() && woken_.empty(); }
  // Wakes the oldest waiter unless one was woken already and has not run yet.
  void wake_first() noexcept;
  // Debug mode: the running task (or the thread, outside a task) now holds the lock.
  void note_taken() noexcept;

  detail::WaitList<detail::LockWaiter> waiting_;
  detail::WaitList<detail::LockWaiter> woken_;  // handed the wake-up, not yet running
  bool locked_ = false;
};

}  // namespace pyconc::asyncio

namespace pyconc::detail {

// Debug mode: the running task (or thread) is about to wait for `lock`.
void lock_order_check(const asyncio::Lock& lock);

inline bool LockWaiter::try_take() {
  if (lock_order_checking()) [[unlikely]]
    lock_order_check(*lock_);
  return lock_->try_lock();
}

}  // namespace pyconc::detail
