// pyconc/detail/barrier_core.hpp -- the state machine of Python's Barrier, over any condition.
//
// threading::Barrier runs it over a threading::Condition with the state in the object;
// multiprocessing::Barrier over a process-shared Condition with the state in shared memory.
// The algorithm is CPython's: a barrier fills up (arrivals count up), the last arrival runs
// the action and lets everyone go (draining), the next cycle starts once all have left; a
// timeout or an abort breaks it (every waiter raises BrokenBarrierError) until reset().
// `Cond` is Lockable and has wait_for(pred), wait_for(pred, duration) and notify_all(); if it
// also has owner_died() (a robust lock taken from a holder that died), the barrier breaks, as
// its state may be half-updated.
// Thread safety: every function takes the condition's lock itself.
#pragma once

#include <mutex>
#include <optional>

#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {

class BarrierCore {
 public:
  using Duration = Clock::duration;
  enum class State { filling, draining, resetting, broken };

  explicit BarrierCore(int parties) : parties_(parties) {
    if (parties < 1) throw ValueError("parties must be >= 1");
  }

  int parties() const noexcept { return parties_; }

  // `action` is nullary and testable for emptiness (std::function, unique_function).
  template <class Cond, class Action>
  int wait(Cond& cond, Action& action, std::optional<Duration> timeout) {
    std::unique_lock guard(cond);
    check_holder(cond);
    // A previous cycle may still be draining (or resetting): wait until it is done.
    cond.wait_for([&] { return state_ != State::draining && state_ != State::resetting; });
    if (state_ == State::broken) throw BrokenBarrierError();

    const int index = count_++;
    struct Leave {  // runs on every exit path, with the lock held
      BarrierCore* b;
      Cond& c;
      ~Leave() {
        --b->count_;
        if (b->count_ == 0 && (b->state_ == State::resetting || b->state_ == State::draining)) {
          b->state_ = State::filling;
          c.notify_all();
        }
      }
    } leave{this, cond};

    if (index + 1 == parties_) {
      try {
        if (action) action();
        state_ = State::draining;
        cond.notify_all();
      } catch (...) {
        break_locked(cond);
        throw;
      }
      return index;
    }
    const auto filled = [&] { return state_ != State::filling; };
    const bool done = timeout ? cond.wait_for(filled, *timeout) : cond.wait_for(filled);
    check_holder(cond);
    if (!done) {
      break_locked(cond);
      throw BrokenBarrierError("barrier wait timed out; the barrier is now broken");
    }
    if (state_ == State::broken || state_ == State::resetting) {
      throw BrokenBarrierError();
    }
    return index;
  }

  template <class Cond>
  void reset(Cond& cond) {
    std::lock_guard guard(cond);
    if (count_ > 0) {
      if (state_ == State::filling || state_ == State::broken) state_ = State::resetting;
    } else {
      state_ = State::filling;
    }
    cond.notify_all();
  }

  template <class Cond>
  void abort(Cond& cond) {
    std::lock_guard guard(cond);
    break_locked(cond);
  }

  template <class Cond>
  int n_waiting(Cond& cond) {
    std::lock_guard guard(cond);
    check_holder(cond);
    return state_ == State::filling ? count_ : 0;
  }

  template <class Cond>
  bool broken(Cond& cond) {
    std::lock_guard guard(cond);
    check_holder(cond);
    return state_ == State::broken;
  }

 private:
  template <class Cond>
  void break_locked(Cond& cond) {
    state_ = State::broken;
    cond.notify_all();
  }
  template <class Cond>
  void check_holder(Cond& cond) {
    if constexpr (requires { cond.owner_died(); }) {
      if (cond.owner_died() && state_ != State::broken) break_locked(cond);
    }
  }

  int parties_;
  int count_ = 0;
  State state_ = State::filling;
};

}  // namespace pyconc::detail
