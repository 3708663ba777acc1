#include "pyconc/threading/lock.hpp"

namespace pyconc::threading {

bool Lock::acquire_slow(const detail::Clock::time_point* deadline) {
  // Bounded spin: a holder on another core usually releases within a few hundred nanoseconds.
  for (int i = detail::spin_limit(); i > 0; --i) {
    if (state_.load(std::memory_order_relaxed) == 0 && try_lock()) return true;
    detail::cpu_relax();
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
