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

#include <concepts>
#include <exception>
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

}  // namespace pyconc::asyncio

namespace pyconc::detail {

// The scope of timeout()/timeout_at(): `make(scope)` gives what to await under the deadline
// (the body's task, or the one awaitable of the short form).
template <class R, class Make>
asyncio::Task<R> timeout_scope(std::optional<Clock::time_point> when, Make make) {
  asyncio::Timeout scope(when);
  try {
    if constexpr (std::is_void_v<R>) {
      co_await make(scope);
      scope.leave(false);
    } else {
      R r = co_await make(scope);
      scope.leave(false);
      co_return r;
    }
  } catch (...) {
    // Caught as `...` and sorted here: CancelledError is no std::exception.
    if (scope.leave(is_cancelled_error(std::current_exception()))) {
      throw TimeoutError("timed out");
    }
    throw;
  }
}

template <class T>
std::true_type is_task_test(const asyncio::Task<T>*);
std::false_type is_task_test(...);
// Aw is an aio::Task<T> (or a ScheduledTask<T>).
template <class Aw>
inline constexpr bool is_task_v = decltype(is_task_test(static_cast<Aw*>(nullptr)))::value;

template <class Aw>
using timeout_result_t = std::remove_cvref_t<await_result_t<Aw>>;
template <class F>
using timeout_body_result_t = typename std::invoke_result_t<F&, asyncio::Timeout&>::value_type;

}  // namespace pyconc::detail

namespace pyconc::asyncio {

// Python: `async with asyncio.timeout_at(when) as cm: <body>` -- the documented scoped form:
//   co_await aio::timeout_at(loop.time() + 2s, [&](aio::Timeout& cm) -> aio::Task<> { ... });
// `body` is called once with the scope object (cm.reschedule(), cm.expired(), cm.when()) and
// returns an aio::Task<R>; the scope returns its R, or throws TimeoutError once the deadline
// passed (an outside cancel() stays CancelledError). nullopt: no deadline (yet).
template <class F>
requires std::invocable<F&, Timeout&> Task<detail::timeout_body_result_t<F>> timeout_at(
    std::optional<detail::Clock::time_point> when, F body) {
  return detail::timeout_scope<detail::timeout_body_result_t<F>>(when, std::move(body));
}

// The short form: one awaitable under the deadline (`async with timeout_at(w): return await aw`).
// Any awaitable: a Task, Event::wait(), Queue::get(), a pyconc::Future, an aio::Future, ...
template <class Aw>
requires(!std::invocable<Aw&, Timeout&>) Task<detail::timeout_result_t<Aw>> timeout_at(
    std::optional<detail::Clock::time_point> when, Aw aw) {
  return detail::timeout_scope<detail::timeout_result_t<Aw>>(
      when, [aw = std::move(aw)](Timeout&) mutable -> Aw&& { return std::move(aw); });
}

// Python: asyncio.timeout(delay): timeout_at(now + delay, ...); the body form or one awaitable.
template <class BodyOrAw, class Rep, class Period>
auto timeout(std::chrono::duration<Rep, Period> delay, BodyOrAw x) {
  return timeout_at(detail::deadline_after(delay < delay.zero() ? delay.zero() : delay),
                    std::move(x));
}

// Python: asyncio.wait_for(aw, timeout): the result of `aw`, or TimeoutError once `delay`
// passed -- `aw` is then cancelled and has finished before the TimeoutError is raised. A
// coroutine is made a task first (as Python does, when wait_for is awaited); any other
// awaitable (Event::wait(), Queue::get(), a pyconc::Future, an aio::Future) is awaited in the
// calling task under the deadline, which is what Python's wait_for does with it.
template <class T, class Rep, class Period>
Task<T> wait_for(Task<T> aw, std::chrono::duration<Rep, Period> delay) {
  Task<T> task = ensure_future(std::move(aw));
  if constexpr (std::is_void_v<T>) {
    co_await timeout(delay, task);
  } else {
    co_return T(co_await timeout(delay, std::move(task)));
  }
}
template <class Aw, class Rep, class Period>
requires(!detail::is_task_v<Aw>) Task<detail::timeout_result_t<Aw>> wait_for(
    Aw aw, std::chrono::duration<Rep, Period> delay) {
  return timeout(delay, std::move(aw));
}

}  // namespace pyconc::asyncio
