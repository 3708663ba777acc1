#include "pyconc/asyncio/timeout.hpp"

namespace pyconc::asyncio {
Timeout::Timeout(std::optional<detail::Clock::time_point> when)
    : task_(&detail::task_or_raise("Timeout should be used inside a task")),
      cancelling_(task_->cancelling()) {
  reschedule(when);
}

Timeout::~Timeout() {
  if (armed()) task_->loop()->timers().erase(this);
}

void Timeout::reschedule(std::optional<detail::Clock::time_point> when) {
  if (state_ != State::entered)
    throw RuntimeError("Timeout: cannot reschedule after expiry or exit");
  if (armed()) task_->loop()->timers().erase(this);
  when_ = when;
  if (when) task_->loop()->timers().push(this, *when);  // a past deadline fires next iteration
}

void Timeout::fire() noexcept {
  state_ = State::expiring;
  task_->cancel();
}

bool Timeout::leave(bool on_cancelled_error) noexcept {
  if (armed()) task_->loop()->timers().erase(this);
  if (state_ == State::expiring) {
    state_ = State::expired;
    // Ours if no other cancel() is outstanding beyond those before the scope began.
    return task_->uncancel() <= cancelling_ && on_cancelled_error;
  }
  if (state_ == State::entered) state_ = State::left;
  return false;
}

}  // namespace pyconc::asyncio
