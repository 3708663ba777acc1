// pyconc/threading/event.hpp -- Event, a flag threads can wait for.
//
// Python: threading.Event. set() raises the flag and wakes every waiter; clear() lowers it;
// wait() returns at once while the flag is up, else blocks until set(). As in Python, a waiter
// that was blocked when set() happened returns true even if clear() follows immediately (a
// set/clear pulse is never lost).
//
// Memory ordering: everything a thread did before set() is visible to a thread after its
// wait() returns true (and after is_set() returns true).
// Thread safety: any thread may call any member. wait() blocks (after an adaptive spin) without
// using CPU; set() costs one atomic when nobody waits.
// Implementation: one 32-bit word, bit 0 = flag, bits 1.. = a generation bumped by each set().
#pragma once

#include <atomic>
#include <cstdint>

#include "pyconc/detail/adaptive_spin.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/futex.hpp"

namespace pyconc::threading {

class Event {
 public:
  Event() = default;
  // For pyconc::multiprocessing: an Event placed in memory shared between processes.
  explicit Event(detail::ProcessShared) noexcept : shared_(true) {}
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool is_set() const noexcept { return (word_.load(std::memory_order_acquire) & 1U) != 0; }

  // Raises the flag and wakes all waiting threads. Idempotent.
  void set() noexcept;
  // Lowers the flag; later wait() calls block until the next set().
  void clear() noexcept { word_.fetch_and(~1U, std::memory_order_relaxed); }

  // Blocks until the flag is set. Returns true.
  bool wait() { return wait_impl(nullptr); }
  // Blocks at most `timeout`; returns true if the flag was set (or pulsed) meanwhile, false on
  // timeout. ValueError for a negative timeout.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    if (is_set()) return true;
    const auto deadline = detail::deadline_after(timeout);
    return wait_impl(&deadline);
  }

 private:
  bool wait_impl(const detail::Clock::time_point* deadline);

  std::atomic<std::uint32_t> word_{0};
  std::atomic<std::uint32_t> sleepers_{0};
  detail::AdaptiveSpin spin_;
  bool shared_ = false;  // futexes shared between processes
};

}  // namespace pyconc::threading
