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
#pragma once

#include <atomic>
#include <cstdint>

#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/lockable.hpp"
#include "pyconc/detail/thread_id.hpp"
#include "pyconc/threading/lock.hpp"

namespace pyconc::threading {

class Condition;

class RLock : public detail::Lockable<RLock> {
 public:
  RLock() = default;
  RLock(const RLock&) = delete;
  RLock& operator=(const RLock&) = delete;

  // acquire(blocking=True): returns at once (count + 1) when the caller already owns it.
  bool acquire(bool blocking = true) {
    if (reenter()) return true;
    if (!lock_.acquire(blocking)) return false;
    take();
    return true;
  }
  // acquire(blocking=True, timeout=...): false on timeout; ValueError as Lock::acquire.
  template <class Rep, class Period>
  bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout) {
    if (!blocking) throw ValueError("can't specify a timeout for a non-blocking call");
    if (reenter()) return true;
    if (!lock_.acquire(true, timeout)) return false;
    take();
    return true;
  }

  // Undoes one acquire(); the lock is free when the count reaches zero.
  // RuntimeError("cannot release un-acquired lock") when the caller does not own it.
  void release() {
    if (!owned_by_me()) throw RuntimeError("cannot release un-acquired lock");
    if (--count_ == 0) {
      owner_.store(0, std::memory_order_relaxed);
      lock_.release();
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
  void take() noexcept {
    owner_.store(detail::this_thread_id(), std::memory_order_relaxed);
    count_ = 1;
  }
  // Condition.wait(): release completely, remembering the recursion depth, and restore it.
  unsigned release_save() {
    const unsigned saved = count_;
    count_ = 0;
    owner_.store(0, std::memory_order_relaxed);
    lock_.release();
    return saved;
  }
  void acquire_restore(unsigned saved) {
    lock_.acquire();
    owner_.store(detail::this_thread_id(), std::memory_order_relaxed);
    count_ = saved;
  }

  Lock lock_;
  std::atomic<std::uintptr_t> owner_{0};
  unsigned count_ = 0;
};

}  // namespace pyconc::threading
