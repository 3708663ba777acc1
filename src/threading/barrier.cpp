#include "pyconc/threading/barrier.hpp"

#include <mutex>

namespace pyconc::threading {

Barrier::Barrier(int parties, std::function<void()> action, std::optional<Duration> timeout)
    : action_(std::move(action)), timeout_(timeout), parties_(parties) {
  if (parties < 1) throw ValueError("parties must be >= 1");
  if (timeout && *timeout < Duration::zero()) {
    throw ValueError("'timeout' must be a non-negative duration");
  }
}

int Barrier::wait_impl(std::optional<Duration> timeout) {
  std::unique_lock guard(cond_);
  // A previous cycle may still be draining (or resetting): wait until it is done.
  cond_.wait_for([&] { return state_ != State::draining && state_ != State::resetting; });
  if (state_ == State::broken) throw BrokenBarrierError();

  const int index = count_++;
  struct Leave {  // runs on every exit path, with the lock held
    Barrier* b;
    ~Leave() {
      --b->count_;
      b->exit_locked();
    }
  } leave{this};

  if (index + 1 == parties_) {
    release_all();
    return index;
  }
  const auto filled = [&] { return state_ != State::filling; };
  const bool done = timeout ? cond_.wait_for(filled, *timeout) : cond_.wait_for(filled);
  if (!done) {
    break_locked();
    throw BrokenBarrierError("barrier wait timed out; the barrier is now broken");
  }
  if (state_ == State::broken || state_ == State::resetting) throw BrokenBarrierError();
  return index;
}

void Barrier::release_all() {
  try {
    if (action_) action_();
    state_ = State::draining;
    cond_.notify_all();
  } catch (...) {
    break_locked();
    throw;
  }
}

void Barrier::exit_locked() {
  if (count_ == 0 && (state_ == State::resetting || state_ == State::draining)) {
    state_ = State::filling;
    cond_.notify_all();
  }
}

void Barrier::break_locked() {
  state_ = State::broken;
  cond_.notify_all();
}

void Barrier::reset() {
  std::lock_guard guard(cond_);
  if (count_ > 0) {
    if (state_ == State::filling || state_ == State::broken) state_ = State::resetting;
  } else {
    state_ = State::filling;
  }
  cond_.notify_all();
}

void Barrier::abort() {
  std::lock_guard guard(cond_);
  break_locked();
}

int Barrier::n_waiting() {
  std::lock_guard guard(cond_);
  return state_ == State::filling ? count_ : 0;
}

bool Barrier::broken() {
  std::lock_guard guard(cond_);
  return state_ == State::broken;
}

}  // namespace pyconc::threading
