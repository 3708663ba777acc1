// aio::Barrier: the round state machine (filling -> draining -> filling; resetting; broken).
#include "pyconc/asyncio/barrier.hpp"

#include <string>

namespace pyconc::asyncio {

Barrier::Barrier(int parties) : parties_(parties) {
  if (parties < 1) throw ValueError("parties must be >= 1, not " + std::to_string(parties));
}

bool Barrier::arrive(detail::BarrierWait& w) noexcept {
  w.index_ = count_++;
  w.inside_ = true;
  if (w.index_ + 1 < parties_) {
    w.phase_ = detail::BarrierWait::Phase::filling;
    return false;
  }
  w.phase_ = detail::BarrierWait::Phase::passed;
  release_round();
  return true;
}

void Barrier::release_round() noexcept {
  state_ = State::draining;
  // Indices in arrival order among the tasks actually released: a waiter cancelled earlier
  // left a gap that Python would fill with a duplicate index.
  int index = 0;
  while (detail::BarrierWait* f = filling_.pop_front()) {
    f->index_ = index++;
    woken_.push_back(*f);
    f->wake();
  }
}

void Barrier::leave(detail::BarrierWait& w) noexcept {
  w.inside_ = false;
  if (--count_ > 0) return;
  // The last one out ends a drain or a reset; the next round may fill.
  if (state_ == State::draining || state_ == State::resetting) state_ = State::filling;
  admit_blocked();
}

void Barrier::admit_blocked() noexcept {
  while (state_ == State::filling) {
    detail::BarrierWait* w = blocked_.pop_front();
    if (w == nullptr) return;
    if (arrive(*w)) {
      woken_.push_back(*w);  // completed the round: released with the others
      w->wake();
    } else {
      filling_.push_back(*w);
    }
  }
}

std::suspend_never Barrier::reset() {
  if (count_ > 0) {
    if (state_ != State::resetting) {
      state_ = State::resetting;
      // Those still waiting for the round raise BrokenBarrierError; the last to leave ends
      // the reset.
      while (detail::BarrierWait* f = filling_.pop_front()) {
        woken_.push_back(*f);
        f->wake();
      }
    }
  } else {
    state_ = State::filling;
    admit_blocked();
  }
  return {};
}

std::suspend_never Barrier::abort() {
  state_ = State::broken;
  while (detail::BarrierWait* f = filling_.pop_front()) {
    woken_.push_back(*f);
    f->wake();
  }
  // Tasks queued for the next round raise at once (they were never counted in).
  while (detail::BarrierWait* w = blocked_.pop_front()) w->wake();
  return {};
}

}  // namespace pyconc::asyncio

namespace pyconc::detail {

bool BarrierWait::await_ready() {
  asyncio::Barrier& b = *b_;
  using State = asyncio::Barrier::State;
  if (b.state_ == State::broken) throw asyncio::BrokenBarrierError("Barrier aborted");
  if (b.state_ == State::draining || b.state_ == State::resetting) {
    phase_ = Phase::blocked;
    return false;
  }
  return b.arrive(*this);
}

void BarrierWait::await_suspend(std::coroutine_handle<> h) {
  (void)current_task();
  (phase_ == Phase::blocked ? b_->blocked_ : b_->filling_).push_back(*this);
  park(h);
}

int BarrierWait::await_resume() {
  if (!parked()) {  // completed the round on arrival
    b_->leave(*this);
    return index_;
  }
  if (orphaned()) throw_orphaned("Barrier");
  asyncio::Barrier& b = *b_;
  if (!b.woken_.contains(*this)) {
    // Never counted in: cancelled while waiting (cancel() already left), or woken from the
    // queue for the next round by abort().
    resume_check();
    throw asyncio::BrokenBarrierError("Barrier aborted");
  }
  b.woken_.erase(*this);
  using State = asyncio::Barrier::State;
  // Python checks the state when the released task runs: a reset or abort that came in
  // between breaks it too. The task that completed the round is not affected.
  const bool broke =
      phase_ == Phase::filling && (b.state_ == State::broken || b.state_ == State::resetting);
  b.leave(*this);
  resume_check();
  if (broke) throw asyncio::BrokenBarrierError("Barrier aborted or reset");
  return index_;
}

bool BarrierWait::cancel() noexcept {
  if (!cancellable()) return false;  // released already: counts as passed, raises at resume
  if (linked()) {
    const bool counted = b_->filling_.contains(*this);
    unlink();
    if (counted) b_->leave(*this);
  }
  return cancelled_now();
}

BarrierWait::~BarrierWait() {
  if (!linked()) return;
  const bool counted = !b_->blocked_.contains(*this);
  unlink();
  if (counted && inside_) b_->leave(*this);
}

}  // namespace pyconc::detail
