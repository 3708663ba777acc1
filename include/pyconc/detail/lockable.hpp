// pyconc/detail/lockable.hpp -- C++'s Lockable / TimedLockable spellings over Python's
// acquire()/release().
//
// A class with Python's `bool acquire(bool blocking = true)`, `bool acquire(bool, duration)`
// and `void release()` derives from Lockable<Self> to get lock(), unlock(), try_lock(),
// try_lock_for() and try_lock_until(), so std::lock_guard, std::unique_lock and
// std::scoped_lock work with it (`with lock:`). threading's Lock, RLock, Semaphore,
// BoundedSemaphore and Condition and multiprocessing's shared primitives all get them here; a
// class may hide one of them with its own (Lock's noexcept one-instruction try_lock,
// BoundedSemaphore's bounded unlock). Thread safety: that of the derived class.
#pragma once

#include "pyconc/detail/chrono.hpp"

namespace pyconc::detail {

template <class Self>
class Lockable {
 public:
  void lock() { self().acquire(); }
  void unlock() { self().release(); }
  bool try_lock() { return self().acquire(false); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout) {
    return self().acquire(true, timeout);
  }
  template <class ClockT, class Duration>
  bool try_lock_until(std::chrono::time_point<ClockT, Duration> when) {
    const auto left = when - ClockT::now();
    return self().acquire(true, left < decltype(left)::zero() ? decltype(left)::zero() : left);
  }

 private:
  Self& self() noexcept { return static_cast<Self&>(*this); }
};

}  // namespace pyconc::detail
