// pyconc/asyncio/gather.hpp -- aio::gather: run awaitables concurrently, collect their results.
//
// Python: asyncio.gather(*aws, return_exceptions=False).
//   auto [x, y] = co_await aio::gather(crawl_page("a"), crawl_page("b"));     // std::tuple
//   std::vector<int> all = co_await aio::gather(std::move(tasks));             // std::vector
//   auto outcomes = co_await aio::gather(std::move(tasks), aio::return_exceptions);
//   auto [o1, o2] = co_await aio::gather(aio::return_exceptions, coro1(), coro2());
// Coroutines are scheduled as tasks (tasks are used as they are). Results come in argument
// order; a void result is std::monostate in a tuple, and gather of a vector of Task<void>
// returns void. Without return_exceptions the first failure (in completion order; a cancelled
// child counts as CancelledError) is raised at once and the other children keep running, as in
// Python; with it, every child's value or exception is returned as an aio::Outcome<T>.
// Results are moved out of tasks nobody else holds, copied otherwise.
//
// Cancellation: cancelling the task awaiting gather cancels every child that is not done; the
// awaiting task then throws CancelledError once they all finished (Python's behaviour).
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

}  // namespace pyconc::detail

namespace pyconc::asyncio {

template <class... Ts>
Task<std::tuple<detail::result_or_monostate<Ts>...>> gather(Task<Ts>... aws) {
  std::tuple<Task<Ts>...> tasks{ensure_future(std::move(aws))...};
  {
    auto cores = std::apply([](auto&... t) { return detail::cores_of(t...); }, tasks);
    detail::MultiWait wait(cores, detail::WaitUntil::first_error, detail::OnCancel::cancel_children,
                           /*cancelled_is_error=*/true);
    co_await wait;
    if (detail::TaskCore* f = wait.first_error()) {
      detail::retrieve_when_done(cores);
      detail::rethrow_failure(*f);
    }
  }
  co_return std::apply(
      [](auto&... t) {
        return std::tuple<detail::result_or_monostate<Ts>...>(detail::take_result(t)...);
      },
      tasks);
}

template <class... Ts>
Task<std::tuple<Outcome<Ts>...>> gather(return_exceptions_t, Task<Ts>... aws) {
  std::tuple<Task<Ts>...> tasks{ensure_future(std::move(aws))...};
  {
    auto cores = std::apply([](auto&... t) { return detail::cores_of(t...); }, tasks);
    detail::MultiWait wait(cores, detail::WaitUntil::all_done, detail::OnCancel::cancel_children,
                           true);
    co_await wait;
  }
  co_return std::apply(
      [](auto&... t) { return std::tuple<Outcome<Ts>...>(detail::take_outcome(t)...); }, tasks);
}

template <class T>
Task<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> gather(std::vector<Task<T>> aws) {
  std::vector<detail::TaskCore*> cores;
  cores.reserve(aws.size());
  for (auto& t : aws) {
    t = ensure_future(std::move(t));
    cores.push_back(&t.core());
  }
  {
    detail::MultiWait wait(cores, detail::WaitUntil::first_error, detail::OnCancel::cancel_children,
                           true);
    co_await wait;
    if (detail::TaskCore* f = wait.first_error()) {
      detail::retrieve_when_done(cores);
      detail::rethrow_failure(*f);
    }
  }
  if constexpr (std::is_void_v<T>) {
    for (auto& t : aws) t.result();
  } else {
    std::vector<T> out;
    out.reserve(aws.size());
    for (auto& t : aws) out.push_back(detail::take_result(t));
    co_return out;
  }
}

template <class T>
Task<std::vector<Outcome<T>>> gather(std::vector<Task<T>> aws, return_exceptions_t) {
  std::vector<detail::TaskCore*> cores;
  cores.reserve(aws.size());
  for (auto& t : aws) {
    t = ensure_future(std::move(t));
    cores.push_back(&t.core());
  }
  {
    detail::MultiWait wait(cores, detail::WaitUntil::all_done, detail::OnCancel::cancel_children,
                           true);
    co_await wait;
  }
  std::vector<Outcome<T>> out;
  out.reserve(aws.size());
  for (auto& t : aws) out.push_back(detail::take_outcome(t));
  co_return out;
}

}  // namespace pyconc::asyncio
