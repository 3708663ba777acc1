// pyconc/multiprocessing/condition.hpp -- Condition shared between processes.
//
// Python: multiprocessing.Condition(lock=None). A handle to a condition variable in shared
// memory; copies (and forked children's copies) name the same condition. `Condition c;` owns
// an RLock, as Python's default; `Condition c(lock)` uses an existing mp::Lock or mp::RLock.
// Same contract as threading::Condition: `std::lock_guard g(c);` is `with c:`; wait() needs
// the lock (RuntimeError "cannot wait on un-acquired lock"), releases it completely while
// waiting and re-acquires it; notify(n) wakes at most n waiters, oldest first, and only those
// already waiting -- no lost and no spurious wake-ups.
// Difference: at most ConditionOptions::max_waiters threads (all processes together) wait at
// once (RuntimeError beyond); the waiter table lives in the condition's shared memory.
// Robustness: a waiter killed while waiting does not swallow a notification (notify() skips
// dead processes); if the lock is taken over from a holder that died (see mp::Lock), every
// waiter is woken and owner_died() is true for the new holder.
//
// Memory ordering: that of the lock.
// Thread safety: any thread of any process may call any member.
#pragma once

#include <cstdint>
#include <memory>
#include "pyconc/detail/chrono.hpp"

#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/lockable.hpp"
#include "pyconc/multiprocessing/detail/shared_condition.hpp"
#include "pyconc/multiprocessing/detail/shared_object.hpp"
#include "pyconc/multiprocessing/lock.hpp"

namespace pyconc::multiprocessing {

struct ConditionOptions {
  // Most threads (of all processes together) that may wait at once; 24 bytes of shared
  // memory each, allocated when first used.
  std::uint32_t max_waiters{1024};
};

class Condition : public detail::Lockable<Condition> {
 public:
  explicit Condition(ConditionOptions options = {}) : Condition(RLock(), options) {}
  explicit Condition(Lock lock, ConditionOptions options = {})
      : Condition(static_cast<detail::SharedLockHandle&&>(lock), options) {}
  explicit Condition(RLock lock, ConditionOptions options = {})
      : Condition(static_cast<detail::SharedLockHandle&&>(lock), options) {}

  // --- the underlying lock (`with cond:`) ---
  bool acquire(bool blocking = true) { return lock_.acquire(blocking); }
  template <class Rep, class Period>
  bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout) {
    return lock_.acquire(blocking, timeout);
  }
  void release() { lock_.release(); }
  // See Lock::owner_died().
  bool owner_died() const noexcept { return lock_.owner_died(); }

  // wait(): releases the lock, blocks until notified, re-acquires the lock.
  void wait() { cond_->wait(*lock_.core_, nullptr); }
  // wait(timeout): false if it timed out. ValueError for a negative timeout.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = detail::deadline_after(timeout);
    return cond_->wait(*lock_.core_, &deadline);
  }
  // wait_for(predicate[, timeout]): waits until predicate() (evaluated with the lock held) is
  // true, or the timeout passed in total; returns predicate()'s last value.
  template <class Predicate>
  auto wait_for(Predicate predicate) {
    return detail::wait_for_predicate(predicate, [&](const detail::Clock::time_point* d) {
      return cond_->wait(*lock_.core_, d);
    });
  }
  template <class Predicate, class Rep, class Period>
  auto wait_for(Predicate predicate, std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = detail::deadline_after(timeout);
    return detail::wait_for_predicate(
        predicate, [&](const detail::Clock::time_point* d) { return cond_->wait(*lock_.core_, d); },
        &deadline);
  }

  // Wakes up to n waiting threads (of any process), the longest-waiting first.
  void notify(int n = 1) { cond_->notify(*lock_.core_, n); }
  void notify_all() { notify(0x7fffffff); }

 private:
  Condition(detail::SharedLockHandle&& lock, ConditionOptions options)
      : lock_(std::move(lock)), cond_(detail::make_shared_condition(options.max_waiters)) {}

  detail::SharedLockHandle lock_;
  std::shared_ptr<detail::SharedCondition> cond_;
};

}  // namespace pyconc::multiprocessing
