// pyconc/threading/lock.hpp -- Lock, the primitive mutual-exclusion lock.
//
// Python: threading.Lock. Like Python's, a Lock is not owned by a thread: any thread may
// release it (it can serve as a binary semaphore), but releasing an unlocked Lock raises
// RuntimeError("release unlocked lock"). Not re-entrant: acquiring it twice from one thread
// without a timeout deadlocks, as in Python (use RLock).
// C++: Lockable and TimedLockable (lock/unlock/try_lock/try_lock_for/try_lock_until), so
// `std::lock_guard`, `std::unique_lock` and `std::scoped_lock` work -- the `with lock:` of C++.
//
// Memory ordering: everything a thread did before release() is visible to the thread whose
// acquire() then succeeds.
// Thread safety: every member may be called from any thread concurrently. acquire() blocks
// (after a short bounded spin) without using CPU; nothing here throws except the documented
// RuntimeError and ValueError.
// Implementation: one 32-bit word (0 free, 1 held, 2 held with possible sleepers) and a futex;
// the uncontended acquire and release are one atomic instruction each. A contended acquire
// polls with exponential backoff for an adaptive budget (detail/adaptive_spin.hpp), then parks.
#pragma once

#include <atomic>
#include <cstdint>

#include "pyconc/detail/adaptive_spin.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/futex.hpp"
#include "pyconc/detail/lockable.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::threading {

class Lock : public detail::Lockable<Lock> {
 public:
  Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  // acquire(blocking=True): waits until the lock is free, then takes it. With
  // blocking=false, takes the lock only if it is free right now. Returns whether it took it.
  bool acquire(bool blocking = true) {
    if (try_lock()) return true;
    if (!blocking) return false;
    return acquire_slow(nullptr);
  }

  // acquire(blocking=True, timeout=...): waits at most `timeout`. Returns false on timeout.
  // ValueError for a negative timeout, or for a timeout combined with blocking=false (Python:
  // "can't specify a timeout for a non-blocking call").
  template <class Rep, class Period>
  bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout) {
    if (!blocking) throw ValueError("can't specify a timeout for a non-blocking call");
    const auto deadline = detail::deadline_after(timeout);
    if (try_lock()) return true;
    return acquire_slow(&deadline);
  }

  // Releases the lock; wakes one waiting thread if there is one.
  // RuntimeError("release unlocked lock") when the lock is not held.
  void release() {
    const std::uint32_t prev = state_.exchange(0, std::memory_order_release);
    if (prev == 2) detail::futex_wake(state_, 1);
    if (prev == 0) throw RuntimeError("release unlocked lock");
  }

  // Whether some thread holds the lock right now (a snapshot).
  bool locked() const noexcept { return state_.load(std::memory_order_relaxed) != 0; }

  // --- C++ Lockable / TimedLockable: lock, unlock, try_lock_for, try_lock_until come from
  // detail::Lockable; try_lock is the one-instruction fast path itself. ---
  bool try_lock() noexcept {
    std::uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }

 private:
  bool acquire_slow(const detail::Clock::time_point* deadline);

  std::atomic<std::uint32_t> state_{0};
  detail::AdaptiveSpin spin_;
};

}  // namespace pyconc::threading
