// pyconc/detail/bind_call.hpp -- Python's (target, args) pair as one nullary callable.
//
// bind_call(f, args...) decay-copies f and the arguments (std::ref to share, as std::thread)
// and returns a callable that invokes f with the arguments moved in: it is meant to run once,
// as a thread's target, a timer's function or an executor's task. Thread safety: a plain value.
#pragma once

#include <concepts>
#include <tuple>
#include <type_traits>
#include <utility>

namespace pyconc::detail {

template <class F, class... Args>
requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
auto bind_call(F&& f, Args&&... args) {
  return [fn = std::decay_t<F>(std::forward<F>(f)),
          tup = std::tuple<std::decay_t<Args>...>(std::forward<Args>(
              args)...)]() mutable -> std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...> {
    return std::apply(std::move(fn), std::move(tup));
  };
}

}  // namespace pyconc::detail
