#include "pyconc/threading/lock.hpp"

namespace pyconc::threading {

bool Lock::acquire_slow(const detail::Clock::time_point* deadline) {
  // A holder on another core usually releases within a few hundred nanoseconds. Poll with
  // backoff: every poll pulls the lock's cache line away from the holder.
  const bool in_time = deadline == nullptr || detail::Clock::now() < *deadline;
  if (in_time &&
      spin_.spin([this] { return state_.load(std::memory_order_relaxed) == 0 && try_lock(); },
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

}  // namespace pyconc::threading
