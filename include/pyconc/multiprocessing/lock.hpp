// pyconc/multiprocessing/lock.hpp -- Lock and RLock shared between processes.
//
// Python: multiprocessing.Lock / multiprocessing.RLock. A Lock (or RLock) object is a handle
// to a lock in shared memory: copies -- including the copy a forked child gets, or the one
// bound into a Process's arguments -- name the same lock, as Python's objects do. Create it
// before starting the processes that use it.
//
//   mp::Lock l;  mp::Process p(job, v, 1, l);   // job(mp::Value<int> v, int num, mp::Lock l)
//   { std::lock_guard g(l); ... }               // with l:
//   l.acquire(); l.release(); l.acquire(true, 100ms) -> bool;
//
// Robust: when the process (or thread) holding the lock dies -- killed, crashed, exited --
// the next acquire() succeeds instead of hanging, owner_died() returns true to that new holder
// until it releases, and a line on stderr reports it (the data the lock protects may be
// half-updated: check it, or rebuild it). Nothing is ever silently lost or hung.
// Differences from Python: only the holder may release (Python lets any process release a
// Lock) -- that ownership is what lets the kernel detect a dead holder; use a Semaphore(1) for
// a lock released by someone else. Acquiring a Lock twice from one thread deadlocks (or times
// out), as in Python.
// C++: Lockable and TimedLockable (lock/unlock/try_lock/try_lock_for/try_lock_until), so
// std::lock_guard, std::unique_lock and std::scoped_lock work.
//
// Memory ordering: everything a thread did before release() is visible to the thread (of any
// process) whose acquire() then succeeds.
// Thread safety: any thread of any process may call any member; acquire() spins briefly, then
// sleeps in the kernel (futex) without using CPU.
#pragma once

#include <memory>
#include "pyconc/detail/chrono.hpp"

#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/lockable.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/detail/shared_lock.hpp"
#include "pyconc/multiprocessing/detail/shared_object.hpp"

namespace pyconc::multiprocessing {

class Condition;

}  // namespace pyconc::multiprocessing

namespace pyconc::detail {

// What Lock and RLock share: the handle to a SharedLockCore and the Python interface.
class SharedLockHandle : public Lockable<SharedLockHandle> {
 public:
  // acquire(blocking=True): waits until the lock is free, then takes it; with blocking=false
  // only takes it if it is free right now. Returns whether it took it.
  bool acquire(bool blocking = true) { return core_->acquire(blocking, nullptr); }
  // acquire(blocking=True, timeout=...): false on timeout. ValueError for a negative timeout,
  // or for a timeout with blocking=false.
  template <class Rep, class Period>
  bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout) {
    if (!blocking) throw ValueError("can't specify a timeout for a non-blocking call");
    const auto deadline = deadline_after(timeout);
    return core_->acquire(true, &deadline);
  }
  // RuntimeError("release unlocked lock") / ("cannot release un-acquired lock") when the
  // calling thread does not hold it.
  void release() { core_->release(); }

  // Whether some thread of some process holds it (a snapshot).
  bool locked() const noexcept { return core_->locked(); }
  // Whether the calling thread's current hold was taken over from a holder that died.
  bool owner_died() const noexcept { return core_->is_owned() && core_->owner_died(); }

  // Two handles to the same lock compare equal.
  friend bool operator==(const SharedLockHandle& a, const SharedLockHandle& b) noexcept {
    return a.core_ == b.core_;
  }

 protected:
  explicit SharedLockHandle(bool recursive)
      : core_(make_shared_object<SharedLockCore>(recursive)) {}
  bool is_mine() const noexcept { return core_->is_owned(); }

 private:
  friend class multiprocessing::Condition;
  std::shared_ptr<SharedLockCore> core_;
};

}  // namespace pyconc::detail

namespace pyconc::multiprocessing {

// Python: multiprocessing.Lock -- a non-recursive lock shared between processes.
class Lock : public detail::SharedLockHandle {
 public:
  Lock() : SharedLockHandle(false) {}
};

// Python: multiprocessing.RLock -- the holder may acquire it again; it is free once released
// as many times. Releasing it from a thread that does not hold it raises RuntimeError.
class RLock : public detail::SharedLockHandle {
 public:
  RLock() : SharedLockHandle(true) {}
  // Whether the calling thread holds it (Python's private RLock._is_mine()).
  bool is_owned() const noexcept { return is_mine(); }
};

}  // namespace pyconc::multiprocessing
