// aio::Semaphore: construction, hand-over of units to waiters, cancellation, abandoned waiters.
#include "pyconc/asyncio/semaphore.hpp"

#include <string>

namespace pyconc::asyncio {

Semaphore::Semaphore(int value) : Semaphore(value, false) {}

Semaphore::Semaphore(int value, bool bounded) : value_(value), bound_(bounded ? value : -1) {
  if (value < 0) {
    throw ValueError("Semaphore initial value must be >= 0, not " + std::to_string(value));
  }
}

void Semaphore::wake_waiters() noexcept {
  // Each woken waiter is handed one unit now (the counter drops at once), so a newcomer cannot
  // take it before the waiter runs.
  while (value_ > 0) {
    detail::SemaphoreWaiter* w = waiting_.pop_front();
    if (w == nullptr) return;
    --value_;
    woken_.push_back(*w);
    w->wake();
  }
}

}  // namespace pyconc::asyncio

namespace pyconc::detail {

void SemaphoreWaiter::enqueue(std::coroutine_handle<> h) {
  (void)current_task();
  sem_->waiting_.push_back(*this);
  park(h);
}

void SemaphoreWaiter::take_after_wake() {
  if (orphaned()) throw_orphaned("Semaphore");
  asyncio::Semaphore& sem = *sem_;
  if (!sem.woken_.contains(*this)) {
    resume_check();  // cancelled before being handed a unit: throws CancelledError
    throw RuntimeError("asyncio.Semaphore: a waiter resumed without being handed a unit");
  }
  sem.woken_.erase(*this);
  try {
    resume_check();
  } catch (...) {
    // Handed a unit but cancelled before running: give it back, to the next waiter if any.
    ++sem.value_;
    sem.wake_waiters();
    throw;
  }
  // Units released while we were the woken one (newcomers had to queue behind us) go on now.
  sem.wake_waiters();
}

SemaphoreWaiter::~SemaphoreWaiter() {
  if (!linked()) return;
  asyncio::Semaphore& sem = *sem_;
  if (sem.woken_.contains(*this)) {
    sem.woken_.erase(*this);
    ++sem.value_;
    sem.wake_waiters();
  } else {
    unlink();
  }
}

}  // namespace pyconc::detail
