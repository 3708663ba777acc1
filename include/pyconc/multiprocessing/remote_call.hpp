// pyconc/multiprocessing/remote_call.hpp -- what a process pool can run, and Initializer.
//
// Python pickles the function and its arguments; C++ sends a function pointer (or a
// capture-less lambda / empty function object such as std::plus<>) named by its offset in
// the program, plus Serializable arguments (see serialize.hpp). C strings cross as
// std::string. RemoteInvocable<F, Args...> says whether pool.submit(fn, args...) /
// pool.apply_async(fn, args...) compiles; when it does not, the compiler prints which rule
// was broken (a static_assert per rule).
//
// Initializer is Python's `initializer=f, initargs=(...)` pair, for the pools' options:
//   cf::ProcessPoolExecutor pool(2, {.initializer = {set_up, std::string("db.sqlite")}});
//   mp::Pool pool(4, {.initializer = set_up_logging});
// It runs first in every worker process; if it throws, the pool is broken
// (BrokenProcessPool naming the initializer's exception).
// Thread safety: Initializer is an immutable value once built.
#pragma once

#include <string>
#include <type_traits>
#include <utility>

#include "pyconc/multiprocessing/detail/remote_call.hpp"

namespace pyconc::multiprocessing {

// Whether fn(args...) can run in a worker process: F is a function pointer or an empty
// default-constructible callable, every argument and the result are Serializable (or the
// result is void), and F is invocable with the arguments as decayed values.
template <class F, class... Args>
concept RemoteInvocable = detail::remote_call_ok<std::decay_t<F>, detail::wire_arg_t<Args>...>;

class Initializer {
 public:
  Initializer() = default;
  // fn(args...) in every new worker; its result, if any, is dropped.
  template <class F, class... Args>
  requires detail::RemoteCallable<std::decay_t<F>> Initializer(
      F&& fn, Args&&... args) {  // NOLINT(google-explicit-constructor): `= fn`
    using Fn = std::decay_t<F>;
    static_assert(detail::check_remote_call<Fn, detail::wire_arg_t<Args>...>());
    if constexpr (RemoteInvocable<F, Args...>) {
      const std::uint32_t inv =
          detail::invoker_id<&detail::invoke_call<Fn, detail::wire_arg_t<Args>...>>();
      const std::uint32_t tgt = detail::target_id(Fn(fn));
      const std::size_t start =
          detail::begin_call_message(message_, detail::WireKind::init, inv, tgt);
      detail::dump_args_into<detail::wire_arg_t<Args>...>(message_, args...);
      detail::finish_message(message_, start);
    }
  }

  explicit operator bool() const noexcept { return !message_.empty(); }
  // The init message sent to each worker (pyconc's pools use it).
  const std::string& message() const noexcept { return message_; }

 private:
  std::string message_;
};

}  // namespace pyconc::multiprocessing
