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
// RuntimeError and ValueError (and, in debug mode, what a raising deadlock handler throws).
// Implementation: one 32-bit word (0 free, 1 held, 2 held with possible sleepers) and a futex;
// the uncontended acquire and release are one atomic instruction each. A contended acquire
// polls with exponential backoff for an adaptive budget (detail/adaptive_spin.hpp), then parks.
// Debug mode (PYCONC_DEBUG=1, or set_deadlock_detection in lock_order.hpp) records the order in
// which threads take Locks and reports lock-order inversions; off, that costs one predictable
// branch per acquire and release.
#pragma once

#include <atomic>
#include <cstdint>

#include "pyconc/detail/adaptive_spin.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/futex.hpp"
#include "pyconc/detail/lock_order.hpp"
#include "pyconc/detail/lockable.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {
// For the library's own leaf locks (queues, pools, RLock's inner lock): never tracked by the
// lock-order check, which is about the user's locks.
struct UntrackedLock {};
}  // namespace pyconc::detail

namespace pyconc::threading {

class RLock;
class Condition;

class Lock : public detail::Lockable<Lock> {
 public:
  // `where` is recorded (in debug mode only) to name the lock in deadlock reports.
  Lock(detail::SourceSite where = detail::SourceSite::current()) noexcept {  // NOLINT
    if (detail::lock_order_checking()) [[unlikely]] {
      detail::lock_order_created(this, detail::LockKind::lock, where);
    }
  }
  explicit Lock(detail::UntrackedLock) noexcept : tracked_(false) {}
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
  ~Lock() {
    if (detail::lock_order_checking() && tracked_) [[unlikely]]
      detail::lock_order_destroyed(this);
  }

  // acquire(blocking=True): waits until the lock is free, then takes it. With
  // blocking=false, takes the lock only if it is free right now. Returns whether it took it.
  // Debug mode: RuntimeError (or what the deadlock handler throws) instead of waiting when
  // this acquire would close a lock-order cycle and the handler raises.
  bool acquire(bool blocking = true) {
    if (detail::lock_order_checking()) [[unlikely]]
      return acquire_tracked(blocking, nullptr);
    if (take()) return true;
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
    if (detail::lock_order_checking()) [[unlikely]]
      return acquire_tracked(true, &deadline);
    if (take()) return true;
    return acquire_slow(&deadline);
  }

  // Releases the lock; wakes one waiting thread if there is one.
  // RuntimeError("release unlocked lock") when the lock is not held.
  void release() {
    if (detail::lock_order_checking() && tracked_) [[unlikely]]
      detail::lock_order_released(this);
    give();
  }

  // Whether some thread holds the lock right now (a snapshot).
  bool locked() const noexcept { return state_.load(std::memory_order_relaxed) != 0; }

  // --- C++ Lockable / TimedLockable: lock, unlock, try_lock_for, try_lock_until come from
  // detail::Lockable; try_lock is the one-instruction fast path itself. ---
  bool try_lock() noexcept {
    if (!take()) return false;
    if (detail::lock_order_checking()) [[unlikely]]
      note_taken();
    return true;
  }

 private:
  friend class RLock;      // takes its inner lock through take/acquire_slow/give directly
  friend class Condition;  // re-acquires after a wait without the order check (acquire_restore)

  bool take() noexcept {
    std::uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }
  void give() {
    const std::uint32_t prev = state_.exchange(0, std::memory_order_release);
    if (prev == 2) detail::futex_wake(state_, 1);
    if (prev == 0) throw RuntimeError("release unlocked lock");
  }
  bool acquire_slow(const detail::Clock::time_point* deadline);
  // Debug mode's acquire: checks the lock order before waiting, records the lock once taken.
  bool acquire_tracked(bool blocking, const detail::Clock::time_point* deadline);
  void note_taken() noexcept;
  // Condition.wait()'s re-acquisition: recorded as held, never raises a deadlock report (the
  // waiter must return holding the lock).
  void acquire_restore() {
    if (!take()) acquire_slow(nullptr);
    if (detail::lock_order_checking()) [[unlikely]]
      note_taken();
  }

  std::atomic<std::uint32_t> state_{0};
  detail::AdaptiveSpin spin_;
  bool tracked_ = true;
};

}  // namespace pyconc::threading
