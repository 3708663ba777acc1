// pyconc/multiprocessing/detail/pool_calls.hpp -- the calls Pool and ThreadPool share:
// apply, apply_async (spread or `args` tuple, callbacks), map/map_async, starmap/starmap_async.
//
// Internal to multiprocessing. A CRTP base: the pool specializes PoolCallTraits<Pool> (before
// its class, so that it is complete when PoolCalls<Pool> is instantiated) with
//   template <class F, class... Args> static constexpr bool takes_args  -- fn(args...) is a call
//   template <class F, class... Args> static constexpr bool callback_form -- (tuple, callback...)
// and supplies, befriending PoolCalls<Pool>,
//   apply_impl(fn, callback, error_callback, args...) -> AsyncResult<T>
//   gather<Star>(fn, iterable, chunksize, callback, error_callback) -> AsyncResult<vector>. What differs (processes vs threads) stays in the pool.
// Thread safety: as the pool's members.
#pragma once

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace pyconc::detail {

template <class T>
inline constexpr bool is_std_tuple = false;
template <class... Ts>
inline constexpr bool is_std_tuple<std::tuple<Ts...>> = true;

template <class Pool>
struct PoolCallTraits;

template <class Pool>
class PoolCalls {
  using Traits = PoolCallTraits<Pool>;

 public:
  // fn(args...) in a worker; blocks for the result (Python: pool.apply).
  template <class F, class... Args>
  auto apply(F&& fn, Args&&... args) {
    auto ar = apply_async(std::forward<F>(fn), std::forward<Args>(args)...);
    using T = typename decltype(ar)::reference;
    if constexpr (std::is_void_v<std::remove_reference_t<T>>) {
      ar.get();
    } else {
      return std::remove_cvref_t<T>(std::move(ar.get()));
    }
  }

  // fn(args...) in a worker; an AsyncResult. `apply_async(f, std::make_tuple(a, b))` spreads
  // the tuple (Python's args=(a, b)) when f does not take the tuple itself.
  template <class F, class... Args>
  requires(!Traits::template callback_form<F, Args...>) auto apply_async(F&& fn, Args&&... args) {
    if constexpr (sizeof...(Args) == 1 && (is_std_tuple<std::remove_cvref_t<Args>> && ...) &&
                  !Traits::template takes_args<F, Args...>) {
      return std::apply(
          [&](const auto&... a) { return self().apply_impl(fn, nullptr, nullptr, a...); }, args...);
    } else {
      return self().apply_impl(fn, nullptr, nullptr, args...);
    }
  }

  // Python's apply_async(func, args, callback=..., error_callback=...). callback(result) or
  // callback() for a void function; error_callback(std::exception_ptr). Pass nullptr to skip.
  template <class F, class... TA, class Callback, class ErrorCallback = std::nullptr_t>
  requires(Traits::template callback_form<F, std::tuple<TA...>, Callback>) auto apply_async(
      F&& fn, const std::tuple<TA...>& args, Callback callback,
      ErrorCallback error_callback = nullptr) {
    return std::apply(
        [&](const auto&... a) {
          return self().apply_impl(fn, std::move(callback), std::move(error_callback), a...);
        },
        args);
  }

  // fn over iterable, blocking; results in input order. chunksize 0: Python's choice,
  // ceil(len / (4 * processes)).
  template <class F, class Range>
  auto map(F&& fn, Range&& iterable, std::size_t chunksize = 0) {
    return map_async(std::forward<F>(fn), std::forward<Range>(iterable), chunksize).get();
  }
  template <class F, class Range, class Callback = std::nullptr_t,
            class ErrorCallback = std::nullptr_t>
  auto map_async(F&& fn, Range&& iterable, std::size_t chunksize = 0, Callback callback = nullptr,
                 ErrorCallback error_callback = nullptr) {
    return self().template gather<false>(fn, iterable, chunksize, std::move(callback),
                                         std::move(error_callback));
  }

  // fn(*item) for each tuple-like item (Python: starmap).
  template <class F, class Range>
  auto starmap(F&& fn, Range&& iterable, std::size_t chunksize = 0) {
    return starmap_async(std::forward<F>(fn), std::forward<Range>(iterable), chunksize).get();
  }
  template <class F, class Range, class Callback = std::nullptr_t,
            class ErrorCallback = std::nullptr_t>
  auto starmap_async(F&& fn, Range&& iterable, std::size_t chunksize = 0,
                     Callback callback = nullptr, ErrorCallback error_callback = nullptr) {
    return self().template gather<true>(fn, iterable, chunksize, std::move(callback),
                                        std::move(error_callback));
  }

 private:
  Pool& self() noexcept { return static_cast<Pool&>(*this); }
};

}  // namespace pyconc::detail
