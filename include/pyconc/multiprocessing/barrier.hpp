// pyconc/multiprocessing/barrier.hpp -- Barrier shared between processes.
//
// Python: multiprocessing.Barrier(parties, action=None, timeout=None). A handle to a barrier in
// shared memory: copies (and forked children's copies) name the same barrier. Same contract as
// threading::Barrier: `parties` threads (of any processes) call wait(); all return together,
// each with its arrival index; the last to arrive runs `action` (the action is the handle's:
// the copy in that process runs); a timeout or abort() breaks it, and every waiter then raises
// BrokenBarrierError until reset().
// Robustness: if a process dies holding the barrier's internal lock, the barrier breaks
// (instead of hanging or miscounting). A party that dies while waiting is not detected: the
// others wait until their timeout, as in Python -- give wait() a timeout when parties may die.
// (Up to 2 * parties + 8 threads may wait at once: one cycle filling while the last drains.)
//
// Memory ordering: everything each party did before wait() is visible to all parties after
// their wait() returns.
// Thread safety: any thread of any process may call any member.
#pragma once

#include <memory>
#include <optional>
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/function.hpp"

#include "pyconc/detail/barrier_core.hpp"
#include "pyconc/multiprocessing/condition.hpp"
#include "pyconc/multiprocessing/detail/shared_object.hpp"
#include "pyconc/multiprocessing/lock.hpp"
#include "pyconc/threading/exceptions.hpp"

namespace pyconc::multiprocessing {

using threading::BrokenBarrierError;

class Barrier {
 public:
  using Duration = detail::Clock::duration;

  // ValueError when parties < 1 or the timeout is negative.
  explicit Barrier(int parties, std::function<void()> action = {},
                   std::optional<Duration> timeout = std::nullopt)
      : cond_(Lock(),
              {.max_waiters = 2 * static_cast<std::uint32_t>(parties < 1 ? 1 : parties) + 8}),
        core_(detail::make_shared_object<detail::BarrierCore>(parties)),
        action_(std::move(action)),
        timeout_(timeout) {
    if (timeout && *timeout < Duration::zero()) {
      throw ValueError("'timeout' must be a non-negative duration");
    }
  }

  // Waits for all parties; returns this thread's arrival index. Uses the constructor's timeout.
  int wait() { return core_->wait(cond_, action_, timeout_); }
  // As wait(), with its own timeout; on timeout the barrier breaks (BrokenBarrierError).
  template <class Rep, class Period>
  int wait(std::chrono::duration<Rep, Period> timeout) {
    return core_->wait(cond_, action_, std::chrono::ceil<Duration>(timeout));
  }

  void reset() { core_->reset(cond_); }
  void abort() { core_->abort(cond_); }
  int parties() const noexcept { return core_->parties(); }
  int n_waiting() { return core_->n_waiting(cond_); }
  bool broken() { return core_->broken(cond_); }

 private:
  Condition cond_;
  std::shared_ptr<detail::BarrierCore> core_;
  std::function<void()> action_;
  std::optional<Duration> timeout_;
};

}  // namespace pyconc::multiprocessing
