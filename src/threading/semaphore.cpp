#include "pyconc/threading/semaphore.hpp"

namespace pyconc::threading {

Semaphore::Semaphore(int value) : count_(0) {
  if (value < 0) throw ValueError("semaphore initial value must be >= 0");
  count_.store(static_cast<std::uint32_t>(value), std::memory_order_relaxed);
}

Semaphore::Semaphore(int value, detail::ProcessShared) : Semaphore(value) {
  shared_ = true;
}

bool Semaphore::acquire_slow(const detail::Clock::time_point* deadline) {
  const bool in_time = deadline == nullptr || detail::Clock::now() < *deadline;
  if (in_time &&
      spin_.spin([this] { return count_.load(std::memory_order_relaxed) != 0 && try_take(); },
                 detail::AdaptiveSpin::Poll::backoff)) {
    return true;
  }
  for (;;) {
    // Announce ourselves before re-checking: release() increments the count and then reads
    // sleepers_ (both seq_cst), so either it sees us and wakes, or our futex_wait sees the
    // new count and does not sleep.
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    if (try_take()) {
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
      return true;
    }
    const bool in_time = detail::futex_wait(count_, 0, deadline, shared_);
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
    if (try_take()) return true;
    if (!in_time || (deadline != nullptr && detail::Clock::now() >= *deadline)) return false;
  }
}

bool Semaphore::add(std::uint32_t n, std::uint32_t bound) {
  std::uint32_t c = count_.load(std::memory_order_relaxed);
  do {
    if (n > bound || c > bound - n) return false;
  } while (!count_.compare_exchange_weak(c, c + n, std::memory_order_seq_cst,
                                         std::memory_order_relaxed));
  if (sleepers_.load(std::memory_order_seq_cst) != 0) {
    detail::futex_wake(count_, static_cast<int>(n), shared_);
  }
  return true;
}

void Semaphore::release(int n) {
  if (n < 1) throw ValueError("n must be one or more");
  if (!add(static_cast<std::uint32_t>(n), bound_)) {
    throw ValueError(bounded_ ? "Semaphore released too many times"
                              : "Semaphore value would overflow");
  }
}

}  // namespace pyconc::threading
