// pyconc/asyncio/semaphore.hpp -- aio::Semaphore and aio::BoundedSemaphore: a counter of units
// that tasks take and give back, e.g. to bound how many run a section at once.
//
//   aio::Semaphore sem(5);
//   { auto held = co_await sem.acquire(); co_await fetch(url); }   // async with sem:
//
// Python: asyncio.Semaphore(value=1) / asyncio.BoundedSemaphore(value=1), 3.13 semantics.
// acquire() takes a unit, suspending while none is free; release() returns one and hands it
// to the oldest waiter. FIFO-fair: while tasks wait, a newcomer queues behind them even if a
// unit is free, and locked() ("acquire would wait") is true. A negative initial value is a
// ValueError. BoundedSemaphore::release() raises ValueError("BoundedSemaphore released too
// many times") when the counter would exceed the initial value (the counter is unchanged).
// C++ additions: acquire() returns an aio::Held guard; lock() acquires without one;
// try_lock() takes a unit without waiting; unlock() is release(); value() is the counter
// (Python's private _value).
//
// Cancellation: a waiting task leaves the queue and raises CancelledError. A task cancelled
// after release() already handed it a unit (but before it ran) gives the unit back and it goes
// to the next waiter, so no unit is lost.
// Thread safety: loop-thread only.
#pragma once

#include <coroutine>
#include <utility>

#include "pyconc/asyncio/detail/primitive_waiters.hpp"
#include "pyconc/asyncio/held.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::asyncio {
class Semaphore;
}

namespace pyconc::detail {

// A task waiting for a unit; woken nodes (handed a unit) move to the semaphore's `woken_`.
class SemaphoreWaiter : public ListWaiter {
 protected:
  explicit SemaphoreWaiter(asyncio::Semaphore& s) noexcept : sem_(&s) {}
  SemaphoreWaiter(SemaphoreWaiter&& o) noexcept : ListWaiter(std::move(o)), sem_(o.sem_) {}
  ~SemaphoreWaiter();

  bool try_take() noexcept;
  void enqueue(std::coroutine_handle<> h);
  // await_resume after parking: keeps the unit, or (cancelled) gives it back.
  void take_after_wake();

  asyncio::Semaphore* sem_;
};

template <bool Guard>
using SemaphoreAcquire = AcquireAwaiter<SemaphoreWaiter, asyncio::Semaphore, Guard>;

}  // namespace pyconc::detail

namespace pyconc::asyncio {

class Semaphore {
 public:
  // ValueError if value < 0.
  explicit Semaphore(int value = 1);
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  ~Semaphore() = default;

  // co_await: takes a unit; returns a guard that gives it back.
  detail::SemaphoreAcquire<true> acquire() noexcept {
    return detail::SemaphoreAcquire<true>(*this);
  }
  // co_await: takes a unit; release() it yourself.
  detail::SemaphoreAcquire<false> lock() noexcept { return detail::SemaphoreAcquire<false>(*this); }
  // Takes a unit if that needs no waiting; never suspends.
  bool try_lock() noexcept {
    if (locked()) return false;
    --value_;
    return true;
  }

  // Returns a unit; the oldest waiter gets it. (BoundedSemaphore: ValueError when over-released.)
  void release() {
    if (bound_ >= 0 && value_ >= bound_)
      throw ValueError("BoundedSemaphore released too many times");
    ++value_;
    wake_waiters();
  }
  void unlock() { release(); }

  // True when acquire() would wait: no unit free, or tasks already queue for one.
  bool locked() const noexcept { return value_ == 0 || !waiting_.empty() || !woken_.empty(); }
  int value() const noexcept { return value_; }

 protected:
  Semaphore(int value, bool bounded);

 private:
  friend class detail::SemaphoreWaiter;
  // Hands free units to the oldest waiters.
  void wake_waiters() noexcept;

  detail::WaitList<detail::SemaphoreWaiter> waiting_;
  detail::WaitList<detail::SemaphoreWaiter> woken_;  // handed a unit, not yet running
  int value_;
  int bound_ = -1;  // BoundedSemaphore: the initial value
};

class BoundedSemaphore : public Semaphore {
 public:
  // ValueError if value < 0.
  explicit BoundedSemaphore(int value = 1) : Semaphore(value, true) {}
};

}  // namespace pyconc::asyncio

namespace pyconc::detail {

inline bool SemaphoreWaiter::try_take() noexcept {
  return sem_->try_lock();
}

}  // namespace pyconc::detail
