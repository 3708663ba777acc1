// pyconc/asyncio/timeout.hpp -- deadlines for awaits: timeout / timeout_at / wait_for.
//
// Python: asyncio.timeout(delay), asyncio.timeout_at(when), asyncio.wait_for(aw, timeout).
//   int r = co_await aio::timeout(2s, fetch(url));          // `async with timeout(2): await ...`
//   int c = co_await aio::wait_for(crawl_page("c"), 2s);     // TimeoutError, and c is cancelled
// timeout()/timeout_at() run the awaitable inline in the current task; when the deadline passes
// the task is cancelled (Python's mechanism: cancel + uncancel), the CancelledError unwinds the
// awaited operation, and the scope turns it into TimeoutError. wait_for() first makes the
// awaitable a task, so on timeout that task is cancelled and awaited before TimeoutError is
// raised. An outside cancel() arriving at the same time stays a CancelledError.
// aio::Timeout is the scope object itself, for code that wants to reschedule() a deadline or
// ask expired() (Python's Timeout class); it must be created inside a task.
//
// Cancellation: as above -- the deadline *is* a cancellation. Thread safety: loop-thread only.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "pyconc/asyncio/detail/await_traits.hpp"
#include "pyconc/asyncio/detail/task_core.hpp"
#include "pyconc/asyncio/detail/timer_heap.hpp"
#include "pyconc/asyncio/task.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::asyncio {

class Timeout final : private detail::TimerEntry {
 public:
  // Arms the deadline for the current task (RuntimeError outside a task). nullopt: none.
  explicit Timeout(std::optional<detail::Clock::time_point> when);
  Timeout(const Timeout&) = delete;
  Timeout& operator=(const Timeout&) = delete;
  ~Timeout();

  std::optional<detail::Clock::time_point> when() const noexcept { return when_; }
  // Moves the deadline (nullopt: none). RuntimeError once expired or left.
  void reschedule(std::optional<detail::Clock::time_point> when);
  bool expired() const noexcept { return state_ == State::expiring || state_ == State::expired; }

  // Leaves the scope. `on_cancelled_error`: the scope is being left by a CancelledError.
  // Returns true when that CancelledError is ours and must become TimeoutError.
  bool leave(bool on_cancelled_error) noexcept;

 private:
  enum class State : unsigned char { entered, expiring, expired, left };
  void fire() noexcept override;

  detail::TaskCore* task_;
  std::optional<detail::Clock::time_point> when_;
  int cancelling_;
  State state_ = State::entered;
};

template <class Aw>
Task<detail::await_result_t<Aw>> timeout_at(std::optional<detail::Clock::time_point> when, Aw aw) {
  using R = detail::await_result_t<Aw>;
  Timeout scope(when);
  bool cancelled = false;
  try {
    if constexpr (std::is_void_v<R>) {
      co_await std::move(aw);
      scope.leave(false);
      co_return;
    } else {
      R r = co_await std::move(aw);
      scope.leave(false);
      co_return std::forward<R>(r);
    }
  } catch (const CancelledError&) {
    cancelled = true;
    if (scope.leave(true)) throw TimeoutError("timed out");
    throw;
  } catch (...) {
    if (!cancelled) scope.leave(false);
    throw;
  }
}

template <class Aw, class Rep, class Period>
auto timeout(std::chrono::duration<Rep, Period> delay, Aw aw) {
  return timeout_at(detail::deadline_after(delay < delay.zero() ? delay.zero() : delay),
                    std::move(aw));
}

// Python: asyncio.wait_for(aw, timeout).
template <class T, class Rep, class Period>
Task<T> wait_for(Task<T> aw, std::chrono::duration<Rep, Period> delay) {
  Task<T> task = ensure_future(std::move(aw));
  if constexpr (std::is_void_v<T>) {
    co_await timeout(delay, task);
  } else {
    co_return T(co_await timeout(delay, std::move(task)));
  }
}

}  // namespace pyconc::asyncio
