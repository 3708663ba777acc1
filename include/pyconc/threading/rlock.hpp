// pyconc/threading/rlock.hpp -- RLock, the re-entrant lock.
//
// Python: threading.RLock. The owning thread may acquire it again; it is free once released
// as many times as acquired. Releasing it from a thread that does not own it raises
// RuntimeError("cannot release un-acquired lock").
// C++: Lockable and TimedLockable, so std::lock_guard / std::scoped_lock work.
//
// Memory ordering: as Lock -- what the owner did before the final release() is visible to the
// next thread whose acquire() succeeds.
// Thread safety: any thread may call any member; acquire() blocks without using CPU.
// Debug mode: checked for lock-order inversions as Lock (see lock_order.hpp).
#pragma once

#include <atomic>
#include <cstdint>

#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/lockable.hpp"
#include "pyconc/detail/thread_id.hpp"
#include "pyconc/threading/lock.hpp"

namespace pyconc::threading {

class Condition;

class RLock : public detail::Lockable<RLock> {
 public:
  // `where` is recorded (in debug mode only) to name the lock in deadlock reports.
  RLock(detail::SourceSite where = detail::SourceSite::current()) noexcept {  // NOLINT
    if (detail::lock_order_checking()) [[unlikely]] {
      detail::lock_order_created(this, detail::LockKind::rlock, where);
    }
  }
  RLock(const RLock&) = delete;
  RLock& operator=(const RLock&) = delete;
  ~RLock() {
    if (detail::lock_order_checking()) [[unlikely]]
      detail::lock_order_destroyed(this);
  }

  // acquire(blocking=True): returns at once (count + 1) when the caller already owns it.
  // Debug mode: may raise instead of waiting, as Lock::acquire; re-entry is never checked.
  bool acquire(bool blocking = true) {
    if (reenter()) return true;
    if (detail::lock_order_checking()) [[unlikely]]
      return acquire_tracked(blocking, nullptr);
    if (!lock_.take() && (!blocking || !lock_.acquire_slow(nullptr))) return false;
    become_owner();
    return true;
  }
  // acquire(blocking=True, timeout=...): false on timeout; ValueError as Lock::acquire.
  template <class Rep, class Period>
  bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout) {
    if (!blocking) throw ValueError("can't specify a timeout for a non-blocking call");
    if (reenter()) return true;
    const auto deadline = detail::deadline_after(timeout);
    if (detail::lock_order_checking()) [[unlikely]]
      return acquire_tracked(true, &deadline);
    if (!lock_.take() && !lock_.acquire_slow(&deadline)) return false;
    become_owner();
    return true;
  }

  // Undoes one acquire(); the lock is free when the count reaches zero.
  // RuntimeError("cannot release un-acquired lock") when the caller does not own it.
  void release() {
    if (!owned_by_me()) throw RuntimeError("cannot release un-acquired lock");
    if (--count_ == 0) {
      if (detail::lock_order_checking()) [[unlikely]]
        detail::lock_order_released(this);
      owner_.store(0, std::memory_order_relaxed);
      lock_.give();
    }
  }

  // Whether any thread holds it (Python 3.14's RLock.locked()).
  bool locked() const noexcept { return lock_.locked(); }
  // Whether the calling thread holds it (Python's private RLock._is_owned()).
  bool is_owned() const noexcept { return owned_by_me(); }

  // C++ Lockable / TimedLockable (lock, unlock, try_lock, try_lock_for, try_lock_until): from
  // detail::Lockable, over acquire() and release().

 private:
  friend class Condition;

  // owner_ is only ever compared with the caller's own id: a thread reads back its own store,
  // or a value that is not its id, so relaxed ordering is enough; count_ is touched only by the
  // owner, under lock_.
  bool owned_by_me() const noexcept {
    return owner_.load(std::memory_order_relaxed) == detail::this_thread_id();
  }
  bool reenter() noexcept {
    if (!owned_by_me()) return false;
    ++count_;
    return true;
  }
  void become_owner() noexcept {
    owner_.store(detail::this_thread_id(), std::memory_order_relaxed);
    count_ = 1;
  }
  bool acquire_tracked(bool blocking, const detail::Clock::time_point* deadline);
  // Condition.wait(): release completely, remembering the recursion depth, and restore it.
  // (Debug mode records the re-acquisition but never raises from it: wait() must return with
  // the lock held.)
  unsigned release_save() {
    const unsigned saved = count_;
    count_ = 0;
    if (detail::lock_order_checking()) [[unlikely]]
      detail::lock_order_released(this);
    owner_.store(0, std::memory_order_relaxed);
    lock_.give();
    return saved;
  }
  void acquire_restore(unsigned saved) {
    lock_.acquire_restore();
    if (detail::lock_order_checking()) [[unlikely]] {
      detail::lock_order_acquired(this, detail::LockKind::rlock);
    }
    owner_.store(detail::this_thread_id(), std::memory_order_relaxed);
    count_ = saved;
  }

  Lock lock_{detail::UntrackedLock{}};
  std::atomic<std::uintptr_t> owner_{0};
  unsigned count_ = 0;
};

}  // namespace pyconc::threading
