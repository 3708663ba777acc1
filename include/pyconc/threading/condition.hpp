// pyconc/threading/condition.hpp -- Condition, a condition variable bound to a lock.
//
// Python: threading.Condition. `Condition cv;` owns an RLock, as Python's default;
// `Condition cv(lock)` / `Condition cv(rlock)` shares an existing Lock or RLock (which must
// outlive the Condition). The Condition is itself Lockable: `std::lock_guard g(cv);` is
// `with cv:`. wait() must be called with the lock held (RuntimeError "cannot wait on
// un-acquired lock"), releases it completely while waiting (all RLock levels) and re-acquires
// it before returning. notify(n) wakes at most n waiters in FIFO order, and only threads that
// are already waiting: no lost and no spurious wake-ups, as in Python. notify() without the
// lock raises RuntimeError("cannot notify on un-acquired lock").
// Difference: for a plain Lock, "held" can only mean "held by some thread", as in Python.
//
// Memory ordering: that of the underlying lock.
// Thread safety: any thread may call any member; the waiter list is protected by the user's
// lock itself, exactly as in CPython, so notify() costs nothing when nobody waits.
#pragma once

#include <cstdint>
#include <utility>

#include "pyconc/detail/adaptive_spin.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/lockable.hpp"
#include "pyconc/threading/lock.hpp"
#include "pyconc/threading/rlock.hpp"

namespace pyconc::threading {

class Condition : public detail::Lockable<Condition> {
 public:
  Condition() : rlock_(&own_) {}
  explicit Condition(RLock& lock) : rlock_(&lock) {}
  explicit Condition(Lock& lock) : lock_(&lock) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  // --- the underlying lock (`with cv:`); lock, unlock, try_lock, try_lock_for and
  // try_lock_until come from detail::Lockable ---
  bool acquire(bool blocking = true) {
    return lock_ ? lock_->acquire(blocking) : rlock_->acquire(blocking);
  }
  template <class Rep, class Period>
  bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout) {
    return lock_ ? lock_->acquire(blocking, timeout) : rlock_->acquire(blocking, timeout);
  }
  void release() { lock_ ? lock_->release() : rlock_->release(); }

  // wait(): releases the lock, blocks until notified, re-acquires the lock.
  void wait() { wait_until_impl(nullptr); }
  // wait(timeout): as wait(), but gives up after `timeout`; returns false if it timed out.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = detail::deadline_after(timeout);
    return wait_until_impl(&deadline);
  }

  // wait_for(predicate): waits until predicate() is true (it is evaluated with the lock held).
  template <class Predicate>
  auto wait_for(Predicate predicate) {
    return detail::wait_for_predicate(
        predicate, [this](const detail::Clock::time_point* d) { return wait_until_impl(d); });
  }
  // wait_for(predicate, timeout): as above, giving up after `timeout` in total; returns the
  // last value of predicate() (false-ish on timeout).
  template <class Predicate, class Rep, class Period>
  auto wait_for(Predicate predicate, std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = detail::deadline_after(timeout);
    return detail::wait_for_predicate(
        predicate, [this](const detail::Clock::time_point* d) { return wait_until_impl(d); },
        &deadline);
  }

  // Wakes up to n threads waiting on this condition (the longest-waiting first).
  void notify(int n = 1);
  void notify_all() { notify(0x7fffffff); }

 private:
  struct Waiter {
    std::atomic<std::uint32_t> signaled{0};
    Waiter* prev = nullptr;
    Waiter* next = nullptr;
    bool linked = false;
  };

  bool is_owned() const noexcept { return lock_ ? lock_->locked() : rlock_->is_owned(); }
  bool wait_until_impl(const detail::Clock::time_point* deadline);
  void unlink(Waiter* w) noexcept;

  RLock own_;
  RLock* rlock_ = nullptr;
  Lock* lock_ = nullptr;
  // FIFO of waiting threads; each node lives on its waiter's stack. Guarded by the user lock.
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  detail::AdaptiveSpin spin_;
};

}  // namespace pyconc::threading
