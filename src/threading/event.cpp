#include "pyconc/threading/event.hpp"

namespace pyconc::threading {

void Event::set() noexcept {
  std::uint32_t w = word_.load(std::memory_order_relaxed);
  do {
    if ((w & 1U) != 0) return;  // already set: nothing to publish, nobody is blocked
  } while (!word_.compare_exchange_weak(w, (w + 2U) | 1U, std::memory_order_seq_cst,
                                        std::memory_order_relaxed));
  // seq_cst on both sides (here and in wait_impl) orders "flag raised" against "sleeper
  // announced": either we see the sleeper, or its futex_wait sees the new word and returns.
  if (sleepers_.load(std::memory_order_seq_cst) != 0) detail::futex_wake_all(word_, shared_);
}

bool Event::wait_impl(const detail::Clock::time_point* deadline) {
  const std::uint32_t start = word_.load(std::memory_order_acquire);
  if ((start & 1U) != 0) return true;
  // Any change of the word from `start` (flag down) means a set() happened: clear() alone
  // cannot change a word whose flag is already down.
  const bool in_time = deadline == nullptr || detail::Clock::now() < *deadline;
  if (in_time && spin_.spin([&] { return word_.load(std::memory_order_acquire) != start; }))
    return true;
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  bool changed = false;
  for (;;) {
    if (word_.load(std::memory_order_acquire) != start) {
      changed = true;
      break;
    }
    if (deadline != nullptr && detail::Clock::now() >= *deadline) break;
    detail::futex_wait(word_, start, deadline, shared_);
  }
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
  return changed;
}

}  // namespace pyconc::threading
