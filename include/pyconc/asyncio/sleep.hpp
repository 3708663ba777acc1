// pyconc/asyncio/sleep.hpp -- aio::sleep: suspend the current task for a while.
//
// Python: asyncio.sleep(delay, result=None).
//   co_await aio::sleep(1s);  co_await aio::sleep(0s);  int v = co_await aio::sleep(10ms, 42);
// sleep(0) (or any non-positive delay) yields once: the task goes to the back of the ready
// queue so every other ready task runs first. A sleeping task costs its timer entry (inside
// its own frame) and one slot in the loop's timer heap -- no allocation.
//
// Cancellation: cancelling the task removes the timer at once and throws CancelledError here.
// Thread safety: awaited on a loop thread, inside a task.
#pragma once

#include <coroutine>
#include <utility>

#include "pyconc/asyncio/detail/task_core.hpp"
#include "pyconc/asyncio/detail/timer_heap.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"

namespace pyconc::detail {

class [[nodiscard]] SleepAwaiter : public SuspendPoint, public TimerEntry {
 public:
  explicit SleepAwaiter(Clock::duration d) noexcept : delay_(d) {}
  SleepAwaiter(SleepAwaiter&& o) noexcept : delay_(o.delay_) {}
  ~SleepAwaiter() {
    if (task_ != nullptr) task_->loop()->timers().erase(this);
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    park(h);
    if (delay_.count() <= 0) {
      complete();  // yield: back of the ready queue
    } else {
      task_->loop()->timers().push(this, Clock::now() + delay_);
    }
  }
  void await_resume() { resume_check(); }

  void fire() noexcept override { complete(); }
  bool cancel() noexcept override {
    if (!cancellable()) return false;
    task_->loop()->timers().erase(this);
    return cancelled_now();
  }

 private:
  Clock::duration delay_;
};

template <class T>
class [[nodiscard]] SleepResultAwaiter : public SleepAwaiter {
 public:
  SleepResultAwaiter(Clock::duration d, T v) : SleepAwaiter(d), value_(std::move(v)) {}
  T await_resume() {
    SleepAwaiter::await_resume();
    return std::move(value_);
  }

 private:
  T value_;
};

}  // namespace pyconc::detail

namespace pyconc::asyncio {

template <class Rep, class Period>
detail::SleepAwaiter sleep(std::chrono::duration<Rep, Period> delay) {
  return detail::SleepAwaiter(std::chrono::duration_cast<detail::Clock::duration>(delay));
}

template <class Rep, class Period, class T>
detail::SleepResultAwaiter<T> sleep(std::chrono::duration<Rep, Period> delay, T result) {
  return detail::SleepResultAwaiter<T>(std::chrono::duration_cast<detail::Clock::duration>(delay),
                                       std::move(result));
}

}  // namespace pyconc::asyncio
