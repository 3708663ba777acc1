#include "pyconc/threading/lock.hpp"

#include "pyconc/threading/rlock.hpp"

namespace pyconc::threading {

bool Lock::acquire_slow(const detail::Clock::time_point* deadline) {
  // A holder on another core usually releases within a few hundred nanoseconds. Poll with
  // backoff: every poll pulls the lock's cache line away from the holder.
  const bool in_time = deadline == nullptr || detail::Clock::now() < *deadline;
  if (in_time &&
      spin_.spin([this] { return state_.load(std::memory_order_relaxed) == 0 && take(); },
                 detail::AdaptiveSpin::Poll::backoff)) {
    return true;
  }
  // Mark the lock contended (2) so that release() knows to wake someone; taking it while
  // marking it is fine: a spurious wake costs one syscall, never correctness.
  while (state_.exchange(2, std::memory_order_acquire) != 0) {
    if (deadline != nullptr && detail::Clock::now() >= *deadline) return false;
    detail::futex_wait(state_, 2, deadline);
  }
  return true;
}

bool Lock::acquire_tracked(bool blocking, const detail::Clock::time_point* deadline) {
  if (tracked_ && blocking) detail::lock_order_acquiring(this, detail::LockKind::lock);
  const bool taken = take() || (blocking && acquire_slow(deadline));
  if (taken) note_taken();
  return taken;
}

void Lock::note_taken() noexcept {
  if (tracked_) detail::lock_order_acquired(this, detail::LockKind::lock);
}

bool RLock::acquire_tracked(bool blocking, const detail::Clock::time_point* deadline) {
  if (blocking) detail::lock_order_acquiring(this, detail::LockKind::rlock);
  if (!lock_.take() && (!blocking || !lock_.acquire_slow(deadline))) return false;
  detail::lock_order_acquired(this, detail::LockKind::rlock);
  become_owner();
  return true;
}

}  // namespace pyconc::threading
