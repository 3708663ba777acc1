#include "pyconc/futures/wait.hpp"

#include "pyconc/detail/futex.hpp"

namespace pyconc::detail {

void CompletionCounter::on_done(FutureStateBase& state) noexcept {
  {
    std::lock_guard g(mu);
    finished.push_back(&state);  // capacity was reserved for every registered future
  }
  count_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(count_);
}

bool CompletionCounter::wait_change(std::uint32_t seen, const Clock::time_point* deadline) {
  while (count_.load(std::memory_order_acquire) == seen) {
    if (deadline != nullptr && Clock::now() >= *deadline) return false;
    futex_wait(count_, seen, deadline);
  }
  return true;
}

}  // namespace pyconc::detail
