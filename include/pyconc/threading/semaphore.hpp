// pyconc/threading/semaphore.hpp -- Semaphore and BoundedSemaphore.
//
// Python: threading.Semaphore(value=1) / threading.BoundedSemaphore(value=1). A counter:
// acquire() takes one unit, waiting while there is none; release(n) returns n units and wakes
// up to n waiters. A negative initial value is a ValueError. BoundedSemaphore additionally
// raises ValueError("Semaphore released too many times") when a release would lift the
// counter above its initial value (the counter is left unchanged) -- also when it is released
// through a Semaphore& (the bound is data in the object, not a virtual override: the object
// may live in memory shared between processes, where a vtable pointer would not be valid).
// C++: Lockable and TimedLockable (one unit per lock()), so std::lock_guard works; also
// acquire(blocking, timeout) -> bool as in Python.
//
// Memory ordering: what a thread did before release() is visible to the thread whose acquire()
// takes the unit it released.
// Thread safety: any thread may call any member. acquire() blocks (after a bounded spin)
// without using CPU. Not FIFO: a waiter woken by release() competes with newcomers, as in
// CPython.
#pragma once

#include <atomic>
#include <cstdint>

#include "pyconc/detail/adaptive_spin.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/futex.hpp"
#include "pyconc/detail/lockable.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::threading {

class Semaphore : public detail::Lockable<Semaphore> {
 public:
  explicit Semaphore(int value = 1);
  // For pyconc::multiprocessing: a Semaphore placed in memory shared between processes.
  Semaphore(int value, detail::ProcessShared);
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  bool acquire(bool blocking = true) {
    if (try_take()) return true;
    if (!blocking) return false;
    return acquire_slow(nullptr);
  }
  template <class Rep, class Period>
  bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout) {
    if (!blocking) throw ValueError("can't specify a timeout for a non-blocking call");
    const auto deadline = detail::deadline_after(timeout);
    if (try_take()) return true;
    return acquire_slow(&deadline);
  }

  // Returns n units (n >= 1, else ValueError("n must be one or more")). For a
  // BoundedSemaphore (however it is reached), ValueError("Semaphore released too many times")
  // if the counter would exceed the initial value.
  void release(int n = 1);

  // The current counter (a snapshot; Python's private Semaphore._value).
  int value() const noexcept { return static_cast<int>(count_.load(std::memory_order_relaxed)); }

  // --- C++ Lockable / TimedLockable: lock, unlock, try_lock_for, try_lock_until come from
  // detail::Lockable (one unit each); try_lock is the non-blocking take itself. ---
  bool try_lock() noexcept { return try_take(); }

 protected:
  std::uint32_t bound() const noexcept { return bound_; }
  // BoundedSemaphore: release() never lifts the counter above `bound`.
  void set_bound(std::uint32_t bound) noexcept {
    bound_ = bound;
    bounded_ = true;
  }

 private:
  // Adds n units, failing (returning false, counter unchanged) if the result exceeds `bound`.
  bool add(std::uint32_t n, std::uint32_t bound);

  bool try_take() noexcept {
    std::uint32_t c = count_.load(std::memory_order_relaxed);
    while (c != 0) {
      if (count_.compare_exchange_weak(c, c - 1, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }
  bool acquire_slow(const detail::Clock::time_point* deadline);

  std::atomic<std::uint32_t> count_;
  std::atomic<std::uint32_t> sleepers_{0};
  detail::AdaptiveSpin spin_;
  bool shared_ = false;  // futexes shared between processes
  // The highest value release() may reach: a BoundedSemaphore's initial value, else the range
  // of the counter.
  bool bounded_ = false;
  std::uint32_t bound_ = 0x7fffffff;
};

class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(int value = 1) : Semaphore(value) {
    set_bound(static_cast<std::uint32_t>(value));
  }
  BoundedSemaphore(int value, detail::ProcessShared tag) : Semaphore(value, tag) {
    set_bound(static_cast<std::uint32_t>(value));
  }
  // The initial value, which release() never lets the counter exceed.
  int initial_value() const noexcept { return static_cast<int>(bound()); }

  // release(n) and unlock() are Semaphore's, which check the bound set here.
};

}  // namespace pyconc::threading
