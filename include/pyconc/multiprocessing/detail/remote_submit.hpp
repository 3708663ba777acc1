// pyconc/multiprocessing/detail/remote_submit.hpp -- submit(), map() and starmap() of the
// executors whose tasks run in other processes: ProcessPoolExecutor here, and pyconc::mpi's
// executors on MPI ranks. Each builds the tasks of a call (pool_tasks.hpp: the one task
// encoding of remote_call.hpp) and hands them to a Sink, the executor's engine, which has
//   void submit(std::shared_ptr<RemoteTaskBase>);
//   void submit(std::vector<std::shared_ptr<RemoteTaskBase>>&);   // one lock for all
// and throws (RuntimeError after shutdown, a BrokenExecutor once broken) without queueing.
// `who` names the executor in compile-time and run-time messages.
// Thread safety: as the Sink's submit (any thread for pyconc's engines).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/errors.hpp"
#include "pyconc/future.hpp"
#include "pyconc/futures/detail/map_results.hpp"
#include "pyconc/multiprocessing/detail/input_range.hpp"
#include "pyconc/multiprocessing/detail/pool_tasks.hpp"
#include "pyconc/multiprocessing/remote_call.hpp"

namespace pyconc::detail {

// submit(fn, args...): the Future of fn(args...) run remotely.
template <class Sink, class F, class... Args>
auto remote_submit(Sink& sink, F&& fn, Args&&... args) {
  using Fn = std::decay_t<F>;
  static_assert(check_remote_call<Fn, wire_arg_t<Args>...>());
  if constexpr (multiprocessing::RemoteInvocable<F, Args...>) {
    using Sig = RemoteSig<Fn, wire_arg_t<Args>...>;
    auto task =
        make_call_task<typename Sig::T, DecodeValue<typename Sig::Stored>, Fn, wire_arg_t<Args>...>(
            Fn(fn), args...);
    auto future = future_of(task);
    sink.submit(std::move(task));
    return future;
  }
}

// Calls body(options, rest...) where options is the last argument if it is a MapOptions (else
// MapOptions{}) and rest the arguments before it.
template <class Body, class... Args>
decltype(auto) split_map_options(Body&& body, Args&&... args) {
  if constexpr (sizeof...(Args) > 0 &&
                std::is_same_v<
                    std::decay_t<std::tuple_element_t<sizeof...(Args) - 1, std::tuple<Args...>>>,
                    futures::MapOptions>) {
    auto all = std::forward_as_tuple(std::forward<Args>(args)...);
    return [&]<std::size_t... I>(std::index_sequence<I...>)->decltype(auto) {
      return body(std::get<sizeof...(Args) - 1>(all), std::get<I>(all)...);
    }
    (std::make_index_sequence<sizeof...(Args) - 1>());
  } else {
    return body(futures::MapOptions{}, args...);
  }
}

// The calls fn(a...) that feed(add) produces (it calls add(a...) once per item, in order), as
// tasks of `options.chunksize` calls each; their results in input order.
template <class Fn, class... A, class Sink, class Feed>
auto remote_map_calls(Sink& sink, const futures::MapOptions& options, const Fn& f, Feed&& feed) {
  using Sig = RemoteSig<Fn, A...>;
  using Result = futures::MapResult<typename Sig::R>;
  if (options.chunksize == 0) throw ValueError("chunksize must be >= 1");
  std::optional<Clock::time_point> deadline;
  if (options.timeout) deadline = deadline_after(*options.timeout);
  if (options.chunksize == 1) {
    std::vector<std::shared_ptr<RemoteTaskBase>> tasks;
    std::vector<Future<typename Sig::Slot>> futures;
    feed([&](const auto&... a) {
      auto task =
          make_call_task<typename Sig::Slot, DecodeSlot<typename Sig::Stored>, Fn, A...>(f, a...);
      futures.push_back(future_of(task));
      tasks.push_back(std::move(task));
    });
    sink.submit(tasks);
    return Result(std::move(futures), deadline);
  } else {
    ChunkTasks<Fn, A...> chunks(f, options.chunksize);
    feed([&](const auto&... a) { chunks.add(a...); });
    chunks.finish();
    sink.submit(chunks.tasks);
    return Result(std::move(chunks.futures), chunks.items(), options.chunksize, deadline);
  }
}

// map(fn, iterables..., [MapOptions]): fn over the zipped items (shortest iterable wins).
template <class Sink, class F, class... Args>
auto remote_map(Sink& sink, F&& fn, Args&&... args) {
  return split_map_options(
      [&](const futures::MapOptions& options, auto&... ranges) {
        static_assert(sizeof...(ranges) > 0, "map needs at least one iterable");
        static_assert((InputRange<std::remove_reference_t<decltype(ranges)>> && ...),
                      "map: the arguments after fn must be iterables");
        using Fn = std::decay_t<F>;
        static_assert(check_remote_call<
                      Fn, wire_arg_t<range_ref_t<std::remove_reference_t<decltype(ranges)>>>...>());
        if constexpr (multiprocessing::RemoteInvocable<
                          F, range_ref_t<std::remove_reference_t<decltype(ranges)>>...>) {
          auto its = std::make_tuple(std::ranges::begin(ranges)...);
          auto ends = std::make_tuple(std::ranges::end(ranges)...);
          constexpr auto idx = std::make_index_sequence<sizeof...(ranges)>();
          return remote_map_calls<
              Fn, wire_arg_t<range_ref_t<std::remove_reference_t<decltype(ranges)>>>...>(
              sink, options, Fn(fn), [&](auto&& add) {
                [&]<std::size_t... I>(std::index_sequence<I...>) {
                  while (((std::get<I>(its) != std::get<I>(ends)) && ...)) {
                    add(*std::get<I>(its)...);
                    (++std::get<I>(its), ...);
                  }
                }
                (idx);
              });
        }
      },
      std::forward<Args>(args)...);
}

// The argument types of starmap's items (tuple-like: std::tuple, std::pair, std::array).
template <class Tuple, class Seq = std::make_index_sequence<std::tuple_size_v<Tuple>>>
struct StarArgs;
template <class Tuple, std::size_t... I>
struct StarArgs<Tuple, std::index_sequence<I...>> {
  template <class F>
  static constexpr bool check() {
    return check_remote_call<F, wire_arg_t<std::tuple_element_t<I, Tuple>>...>();
  }
  template <class F>
  static constexpr bool ok = remote_call_ok<F, wire_arg_t<std::tuple_element_t<I, Tuple>>...>;
  template <class Fn, class Sink, class Feed>
  static auto map(Sink& sink, const futures::MapOptions& options, const Fn& f, Feed&& feed) {
    return remote_map_calls<Fn, wire_arg_t<std::tuple_element_t<I, Tuple>>...>(
        sink, options, f, std::forward<Feed>(feed));
  }
};

// starmap(fn, iterable_of_tuples, [MapOptions]): fn(*item) for each item, results in order.
template <class Sink, class F, class R>
auto remote_starmap(Sink& sink, F&& fn, R& items, const futures::MapOptions& options) {
  static_assert(InputRange<R>, "starmap: the argument after fn must be an iterable of tuples");
  using Item = std::remove_cvref_t<range_ref_t<R>>;
  using Star = StarArgs<Item>;
  using Fn = std::decay_t<F>;
  static_assert(Star::template check<Fn>());
  if constexpr (Star::template ok<Fn>) {
    return Star::map(sink, options, Fn(fn), [&](auto&& add) {
      for (auto&& item : items) std::apply(add, item);
    });
  }
}

}  // namespace pyconc::detail
