// pyconc/threading/barrier.hpp -- Barrier, a rendezvous point for a fixed number of threads.
//
// Python: threading.Barrier(parties, action=None, timeout=None). Each of `parties` threads
// calls wait(); all block until the last arrives, then all return, each with a distinct index
// in [0, parties) (the arrival order). The last to arrive runs `action` first; if the action
// throws, the barrier breaks and the exception reaches that thread. The barrier is reusable.
// A wait() that times out breaks the barrier; abort() breaks it; every waiter of a broken
// barrier (and every later wait()) raises BrokenBarrierError until reset(). reset() returns
// it to the empty state, failing the threads then waiting with BrokenBarrierError.
//
// Memory ordering: everything each party did before wait() is visible to all parties after
// their wait() returns.
// Thread safety: any thread may call any member; wait() blocks without using CPU.
#pragma once

#include <optional>

#include "pyconc/detail/barrier_core.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/function.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/threading/condition.hpp"
#include "pyconc/threading/exceptions.hpp"
#include "pyconc/threading/lock.hpp"

namespace pyconc::threading {

class Barrier {
 public:
  using Duration = detail::Clock::duration;

  // ValueError when parties < 1.
  explicit Barrier(int parties, std::function<void()> action = {},
                   std::optional<Duration> timeout = std::nullopt);
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  // Waits for all parties; returns this thread's arrival index. Uses the constructor's timeout.
  int wait() { return wait_impl(timeout_); }
  // As wait(), with its own timeout; on timeout the barrier breaks (BrokenBarrierError).
  template <class Rep, class Period>
  int wait(std::chrono::duration<Rep, Period> timeout) {
    return wait_impl(std::chrono::ceil<Duration>(timeout));
  }

  // Returns the barrier to its initial state; current waiters get BrokenBarrierError.
  void reset();
  // Puts the barrier in the broken state; current and future waiters get BrokenBarrierError.
  void abort();

  int parties() const noexcept { return core_.parties(); }
  // Threads currently waiting (a snapshot).
  int n_waiting();
  bool broken();

 private:
  int wait_impl(std::optional<Duration> timeout) { return core_.wait(cond_, action_, timeout); }

  Lock lock_{detail::UntrackedLock{}};  // a leaf: not in the lock-order check
  Condition cond_{lock_};
  std::function<void()> action_;
  std::optional<Duration> timeout_;
  detail::BarrierCore core_;
};

}  // namespace pyconc::threading
