// pyconc/detail/adaptive_spin.hpp -- how long a blocking primitive polls before it parks.
//
// Spinning pays when the thread we wait for runs on another core and acts within microseconds
// (a futex park + wake costs 5-30 us on these machines); it only burns a time slice when that
// thread shares our core or is descheduled (an oversubscribed machine). So each primitive keeps
// a budget that adapts, like glibc's adaptive mutex: doubled when a spin saw the condition come
// true, halved when the thread had to park anyway, between spin_limit()/64 and spin_limit()
// pauses (0 on one CPU). A low budget is self-confirming -- when both sides of a hand-off park,
// each wake-up takes longer than a short spin -- so one wait in 32 per thread probes with the
// full budget, which breaks the cycle once the other thread runs again. Racy updates of the
// budget are harmless: it is a heuristic, read and written with relaxed atomics.
//
// Polls are spaced (every 4 pauses, or with exponential backoff up to 64 for locks): a poll of
// a line another core is about to write slows that core down.
// Thread safety: any thread may call spin() on a shared AdaptiveSpin.
#pragma once

#include <atomic>

#include "pyconc/detail/futex.hpp"

namespace pyconc::detail {

class AdaptiveSpin {
 public:
  enum class Poll { steady, backoff };

  // Polls ready() for up to the current budget (in pauses); returns whether it became true.
  template <class Ready>
  bool spin(Ready ready, Poll poll = Poll::steady) noexcept {
    const int stored = budget_.load(std::memory_order_relaxed);
    const int budget = probe_now() ? max_spin() : stored;
    if (budget <= 0) return ready();
    int spent = 0;
    int gap = poll == Poll::backoff ? 1 : kSteadyGap;
    bool ok = false;
    while (spent < budget) {
      if (ready()) {
        ok = true;
        break;
      }
      for (int i = 0; i < gap; ++i) cpu_relax();
      spent += gap;
      if (poll == Poll::backoff && gap < kMaxGap) gap *= 2;
    }
    int next;
    if (ok) {
      next = (stored < 1 ? 1 : stored) * 2;
      if (next > max_spin()) next = max_spin();
    } else {
      next = stored / 2;
      if (next < min_spin()) next = min_spin();
    }
    if (next != stored) budget_.store(next, std::memory_order_relaxed);
    return ok;
  }

 private:
  static constexpr int kSteadyGap = 4;
  static constexpr int kMaxGap = 64;
  static int max_spin() noexcept { return spin_limit(); }
  static int min_spin() noexcept { return spin_limit() / 64; }
  static bool probe_now() noexcept {
    static thread_local unsigned waits = 0;
    return (++waits & 31U) == 0;
  }

  std::atomic<int> budget_{max_spin()};
};

}  // namespace pyconc::detail
