// pyconc/asyncio/gather.hpp -- aio::gather: run awaitables concurrently, collect their results.
//
// Python: asyncio.gather(*aws, return_exceptions=False).
//   auto [x, y] = co_await aio::gather(crawl_page("a"), crawl_page("b"));     // std::tuple
//   std::vector<int> all = co_await aio::gather(std::move(tasks));             // std::vector
//   auto outcomes = co_await aio::gather(std::move(tasks), aio::return_exceptions);
//   auto [o1, o2] = co_await aio::gather(aio::return_exceptions, coro1(), coro2());
// gather() schedules its coroutines as tasks when it is called, as Python does (tasks are used
// as they are): they run while the caller does something else before awaiting. What it returns
// is itself a task (Python's gathering future), so `auto g = aio::gather(...); g.cancel();`
// cancels the children. Results come in argument order; a void result is std::monostate in a tuple, and gather of a vector of Task<void>
// returns void. Without return_exceptions the first failure (in completion order; a cancelled
// child counts as CancelledError) is raised at once and the other children keep running, as in
// Python; with it, every child's value or exception is returned as an aio::Outcome<T>.
// Results are moved out of tasks nobody else holds, copied otherwise.
//
// Cancellation: cancelling the gather (or the task awaiting it) cancels every child that is not
// done; the awaiting task then throws CancelledError once they all finished (Python's behaviour).
// Thread safety: loop-thread only.
#pragma once

#include <cstddef>
#include <exception>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "pyconc/asyncio/detail/multi_wait.hpp"
#include "pyconc/asyncio/outcome.hpp"
#include "pyconc/asyncio/task.hpp"

namespace pyconc::asyncio {

struct return_exceptions_t {
  explicit return_exceptions_t() = default;
};
inline constexpr return_exceptions_t return_exceptions{};

}  // namespace pyconc::asyncio

namespace pyconc::detail {

template <class T>
using result_or_monostate = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// Takes a finished task's value (moving when this handle is the only one).
template <class T>
result_or_monostate<T> take_result(asyncio::Task<T>& t) {
  t.result();  // rethrows failures, marks retrieved
  if constexpr (std::is_void_v<T>) {
    return {};
  } else if constexpr (std::is_copy_constructible_v<T>) {
    if (!t.core().sole_owner()) return t.result();
    return T(std::move(t.result()));
  } else {
    return T(std::move(t.result()));
  }
}

template <class T>
asyncio::Outcome<T> take_outcome(asyncio::Task<T>& t) {
  if (t.cancelled()) {
    t.core().mark_retrieved();
    return asyncio::Outcome<T>(std::make_exception_ptr(CancelledError("the task was cancelled")));
  }
  if (auto e = t.exception()) return asyncio::Outcome<T>(e);
  if constexpr (std::is_void_v<T>) {
    return asyncio::Outcome<T>();
  } else {
    return asyncio::Outcome<T>(take_result(t));
  }
}

// Python's gather marks the exceptions of children that fail after it already raised as
// retrieved (no "never retrieved" report for them).
void retrieve_when_done(const std::vector<TaskCore*>& tasks);

[[noreturn]] inline void rethrow_failure(TaskCore& t) {
  t.mark_retrieved();
  if (t.cancelled()) throw CancelledError("a gathered task was cancelled");
  std::rethrow_exception(t.raw_exception());
}

template <class... Ts>
std::vector<TaskCore*> cores_of(const asyncio::Task<Ts>&... ts) {
  return {&ts.core()...};
}
template <class T>
std::vector<TaskCore*> cores_of(const std::vector<asyncio::Task<T>>& ts) {
  std::vector<TaskCore*> cores;
  cores.reserve(ts.size());
  for (const auto& t : ts) cores.push_back(&t.core());
  return cores;
}

// Schedules a coroutine as a task (a task stays as it is).
template <class T>
void ensure_task(asyncio::Task<T>& t) {
  if (!t.core().is_task()) t = asyncio::create_task(std::move(t));
}
template <class... Ts>
void ensure_tasks(std::tuple<asyncio::Task<Ts>...>& ts) {
  std::apply([](auto&... t) { (ensure_task(t), ...); }, ts);  // in argument order
}
template <class T>
void ensure_tasks(std::vector<asyncio::Task<T>>& ts) {
  for (auto& t : ts) ensure_task(t);
}

// The coroutine that waits for the children (scheduled as a task by gather() itself).
template <class... Ts>
asyncio::Task<std::tuple<result_or_monostate<Ts>...>> gather_tuple(
    std::tuple<asyncio::Task<Ts>...> tasks) {
  ensure_tasks(tasks);
  {
    auto cores = std::apply([](auto&... t) { return cores_of(t...); }, tasks);
    MultiWait wait(cores, WaitUntil::first_error, OnCancel::cancel_children,
                   /*cancelled_is_error=*/true);
    co_await wait;
    if (TaskCore* f = wait.first_error()) {
      retrieve_when_done(cores);
      rethrow_failure(*f);
    }
  }
  co_return std::apply(
      [](auto&... t) { return std::tuple<result_or_monostate<Ts>...>(take_result(t)...); }, tasks);
}

template <class... Ts>
asyncio::Task<std::tuple<asyncio::Outcome<Ts>...>> gather_outcomes(
    std::tuple<asyncio::Task<Ts>...> tasks) {
  ensure_tasks(tasks);
  {
    auto cores = std::apply([](auto&... t) { return cores_of(t...); }, tasks);
    MultiWait wait(cores, WaitUntil::all_done, OnCancel::cancel_children, true);
    co_await wait;
  }
  co_return std::apply(
      [](auto&... t) { return std::tuple<asyncio::Outcome<Ts>...>(take_outcome(t)...); }, tasks);
}

template <class T>
asyncio::Task<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> gather_vector(
    std::vector<asyncio::Task<T>> aws) {
  ensure_tasks(aws);
  {
    const std::vector<TaskCore*> cores = cores_of(aws);
    MultiWait wait(cores, WaitUntil::first_error, OnCancel::cancel_children, true);
    co_await wait;
    if (TaskCore* f = wait.first_error()) {
      retrieve_when_done(cores);
      rethrow_failure(*f);
    }
  }
  if constexpr (std::is_void_v<T>) {
    for (auto& t : aws) t.result();
  } else {
    std::vector<T> out;
    out.reserve(aws.size());
    for (auto& t : aws) out.push_back(take_result(t));
    co_return out;
  }
}

template <class T>
asyncio::Task<std::vector<asyncio::Outcome<T>>> gather_vector_outcomes(
    std::vector<asyncio::Task<T>> aws) {
  ensure_tasks(aws);
  {
    const std::vector<TaskCore*> cores = cores_of(aws);
    MultiWait wait(cores, WaitUntil::all_done, OnCancel::cancel_children, true);
    co_await wait;
  }
  std::vector<asyncio::Outcome<T>> out;
  out.reserve(aws.size());
  for (auto& t : aws) out.push_back(take_outcome(t));
  co_return out;
}

// With a running loop: schedules the children now, in order, and the waiting coroutine as a
// task, so that cancelling what gather() returned -- even before anyone awaits it -- cancels
// the children (Python's _GatheringFuture). Without one (`loop.run_until_complete(gather(ts))`
// before the loop runs) both happen when the gather is first run.
template <class R, class... Children>
asyncio::Task<R> start_gather(asyncio::Task<R> (*wait)(Children...), Children... children) {
  LoopCore* loop = running_loop_or_null();
  if (loop != nullptr) ensure_tasks(children...);
  asyncio::Task<R> g = wait(std::move(children)...);
  if (loop != nullptr) {
    g.core().start_task(*loop, "gather");
    g.core().mark_future();
  }
  return g;
}

}  // namespace pyconc::detail

namespace pyconc::asyncio {

// Python: asyncio.gather(*aws). The children are scheduled as tasks now, in argument order
// (they run while the caller goes on); the returned task collects their results.
template <class... Ts>
Task<std::tuple<detail::result_or_monostate<Ts>...>> gather(Task<Ts>... aws) {
  return detail::start_gather(&detail::gather_tuple<Ts...>,
                              std::tuple<Task<Ts>...>{std::move(aws)...});
}

template <class... Ts>
Task<std::tuple<Outcome<Ts>...>> gather(return_exceptions_t, Task<Ts>... aws) {
  return detail::start_gather(&detail::gather_outcomes<Ts...>,
                              std::tuple<Task<Ts>...>{std::move(aws)...});
}

template <class T>
Task<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> gather(std::vector<Task<T>> aws) {
  return detail::start_gather(&detail::gather_vector<T>, std::move(aws));
}

template <class T>
Task<std::vector<Outcome<T>>> gather(std::vector<Task<T>> aws, return_exceptions_t) {
  return detail::start_gather(&detail::gather_vector_outcomes<T>, std::move(aws));
}

}  // namespace pyconc::asyncio
