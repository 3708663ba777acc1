// pyconc/asyncio/barrier.hpp -- aio::Barrier: a rendezvous point for a fixed number of tasks.
//
//   aio::Barrier b(3);
//   int index = co_await b.wait();    // in each of 3 tasks: all return once the third arrives
//
// Python: asyncio.Barrier(parties) (3.11). wait() suspends until `parties` tasks are waiting,
// then all return, each with a distinct index in [0, parties) (the arrival order; the last to
// arrive gets parties - 1 and does not suspend). The barrier is reusable: tasks arriving while
// the previous round is still leaving wait for it to drain first. abort() breaks it: current
// and later waiters raise BrokenBarrierError. reset() returns it to the empty state; tasks then
// waiting raise BrokenBarrierError. parties, n_waiting and broken are Python's properties.
// Differences: reset() and abort() act at once (Python's are coroutines, only because they take
// an internal lock); they return a ready awaitable, so `co_await b.abort();` still reads as
// Python. A task that arrives while a round drains joins the next round as soon as it ends
// (Python re-checks when the task next runs). A waiter cancelled before the barrier released
// it leaves at once (n_waiting drops; Python counts it until its task runs), and the indices
// of a round stay distinct (Python may hand out one twice after such a cancel).
//
// Cancellation: a task cancelled while it waits leaves the barrier (which stays intact) and
// raises CancelledError. One cancelled after the barrier released it (before it ran) still
// counts as having passed (the others are released), and raises CancelledError.
// Thread safety: loop-thread only.
#pragma once

#include <coroutine>

#include "pyconc/asyncio/detail/primitive_waiters.hpp"
#include "pyconc/asyncio/exceptions.hpp"

namespace pyconc::asyncio {
class Barrier;
}

namespace pyconc::detail {

class [[nodiscard]] BarrierWait final : public PrimitiveWaiter, public WaitHook<> {
 public:
  explicit BarrierWait(asyncio::Barrier& b) noexcept : b_(&b) {}
  BarrierWait(BarrierWait&& o) noexcept : PrimitiveWaiter(), WaitHook<>(), b_(o.b_) {}
  ~BarrierWait();

  bool await_ready();  // BrokenBarrierError when broken; ready when this task completes the round
  void await_suspend(std::coroutine_handle<> h);
  int await_resume();
  bool cancel() noexcept override;

 private:
  friend class asyncio::Barrier;
  enum class Phase : unsigned char { blocked, filling, passed };

  asyncio::Barrier* b_;
  int index_ = -1;
  Phase phase_ = Phase::filling;
  bool inside_ = false;  // counted in the barrier (arrived, not yet left)
};

}  // namespace pyconc::detail

namespace pyconc::asyncio {

class Barrier {
 public:
  // ValueError if parties < 1.
  explicit Barrier(int parties);
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;
  ~Barrier() = default;

  // co_await: this task's arrival index, once all parties arrived. BrokenBarrierError if the
  // barrier is or gets broken or reset meanwhile.
  detail::BarrierWait wait() noexcept { return detail::BarrierWait(*this); }

  // Back to the empty state; tasks waiting now raise BrokenBarrierError. Acts at once.
  std::suspend_never reset();
  // Breaks the barrier: tasks waiting now and later raise BrokenBarrierError. Acts at once.
  std::suspend_never abort();

  int parties() const noexcept { return parties_; }
  // Tasks waiting for the current round to fill (0 while a round drains or is reset).
  int n_waiting() const noexcept { return state_ == State::filling ? count_ : 0; }
  bool broken() const noexcept { return state_ == State::broken; }

 private:
  friend class detail::BarrierWait;
  enum class State : unsigned char { filling, draining, resetting, broken };

  // Counts `w` in; true if it completes the round (which is then released).
  bool arrive(detail::BarrierWait& w) noexcept;
  // `w` leaves (after its wait() ended one way or another).
  void leave(detail::BarrierWait& w) noexcept;
  void release_round() noexcept;
  // After a drain or reset: let the tasks that queued for the next round in.
  void admit_blocked() noexcept;

  detail::WaitList<detail::BarrierWait> blocked_;  // arrived while draining/resetting
  detail::WaitList<detail::BarrierWait> filling_;  // in the current round
  detail::WaitList<detail::BarrierWait> woken_;    // released (or broken), not yet running
  int parties_;
  int count_ = 0;  // tasks inside: arrived and not yet left
  State state_ = State::filling;
};

}  // namespace pyconc::asyncio
