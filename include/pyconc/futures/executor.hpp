// pyconc/futures/executor.hpp -- Executor, the interface every pool implements.
//
// Python: concurrent.futures.Executor. submit(fn, args...) schedules fn(args...) and returns a
// pyconc::Future of its result; map(fn, iterables...) applies fn to the items (zipped when
// there are several iterables, stopping at the shortest) and returns a range yielding the
// results in input order. Like Python's, map submits every item at once; iterating waits for
// each result in turn (an exception surfaces when its item is reached, a timeout counted from
// the map() call raises TimeoutError), and leaving the range early (destroying it) cancels
// the items that have not started (a result range never iterated cancels nothing: its work
// runs, as in Python). shutdown() is the executor's own; after it, submit throws
// RuntimeError("cannot schedule new futures after shutdown").
// C++: map's keyword arguments go last as a MapOptions value:
//   pool.map(fn, xs, ys, cf::MapOptions{.timeout = 5s, .chunksize = 64});
// chunksize > 1 sends items in groups (Python uses it only for process pools; here it also cuts
// per-item overhead for tiny thread-pool tasks).
//
// Thread safety: submit, map and shutdown may be called from any thread, including the
// executor's own workers (a task may submit to its own pool and wait for the result: the
// waiting worker runs queued work of its pool instead of blocking).
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "pyconc/detail/bind_call.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/ranges.hpp"
#include "pyconc/future.hpp"
#include "pyconc/futures/detail/map_results.hpp"
#include "pyconc/futures/detail/work_item.hpp"

namespace pyconc::futures {

class Executor {
 public:
  Executor() = default;
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;
  virtual ~Executor() = default;

  // Schedules fn(args...) (callable and arguments decay-copied, as std::thread) and returns
  // the Future of its result. RuntimeError after shutdown; BrokenExecutor if broken.
  template <class F, class... Args>
  requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
  auto submit(F&& fn, Args&&... args) {
    using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;
    using T = std::conditional_t<std::is_void_v<R>, void, std::decay_t<R>>;
    auto call = detail::bind_call(std::forward<F>(fn), std::forward<Args>(args)...);
    auto task = std::make_shared<detail::WorkItem<T, decltype(call)>>(this, std::move(call));
    Future<T> future(std::shared_ptr<detail::FutureState<T>>(task, task.get()));
    enqueue(std::move(task));
    return future;
  }

  // map(fn, iterables..., [MapOptions]) -- see the header comment.
  template <class F, class... Args>
  auto map(F&& fn, Args&&... args) {
    if constexpr (sizeof...(Args) > 0 &&
                  std::is_same_v<
                      std::decay_t<std::tuple_element_t<sizeof...(Args) - 1, std::tuple<Args...>>>,
                      MapOptions>) {
      auto all = std::forward_as_tuple(std::forward<Args>(args)...);
      return map_split(std::forward<F>(fn), all, std::make_index_sequence<sizeof...(Args) - 1>());
    } else {
      return map_impl(MapOptions{}, std::forward<F>(fn), std::forward<Args>(args)...);
    }
  }

  // Stops accepting work; with wait, blocks until queued work is done; with cancel_futures,
  // cancels the work that has not started.
  virtual void shutdown(bool wait = true, bool cancel_futures = false) = 0;

 protected:
  // Queues `task`; the executor calls task->run() exactly once, or task->cancel_task().
  // Throws (RuntimeError after shutdown, BrokenExecutor when broken) without queuing.
  virtual void enqueue(std::shared_ptr<detail::WorkItemBase> task) = 0;

 private:
  template <class F, class Tuple, std::size_t... I>
  auto map_split(F&& fn, Tuple& all, std::index_sequence<I...>) {
    return map_impl(std::get<sizeof...(I)>(all), std::forward<F>(fn),
                    std::forward<std::tuple_element_t<I, Tuple>>(std::get<I>(all))...);
  }

  template <class F, class... Ranges>
  requires(sizeof...(Ranges) > 0 &&
           (std::ranges::input_range<Ranges> && ...)) auto map_impl(const MapOptions& options,
                                                                    F&& fn, Ranges&&... ranges) {
    using R = std::invoke_result_t<std::decay_t<F>&, std::ranges::range_reference_t<Ranges>...>;
    using Stored = typename MapResult<R>::Stored;
    using Chunk = typename MapResult<R>::Chunk;
    if (options.chunksize == 0) throw ValueError("chunksize must be >= 1");
    std::optional<detail::Clock::time_point> deadline;
    if (options.timeout) deadline = detail::deadline_after(*options.timeout);

    auto shared_fn = std::make_shared<std::decay_t<F>>(std::forward<F>(fn));
    auto its = std::make_tuple(std::ranges::begin(ranges)...);
    auto ends = std::make_tuple(std::ranges::end(ranges)...);
    auto any_at_end = [&]<std::size_t... I>(std::index_sequence<I...>) {
      return ((std::get<I>(its) == std::get<I>(ends)) || ...);
    };
    constexpr auto idx = std::index_sequence_for<Ranges...>();

    if (options.chunksize == 1) {  // one task per item, as Python's thread pools do
      std::vector<Future<MapSlot<Stored>>> singles;
      if constexpr ((std::ranges::sized_range<Ranges> && ...)) {
        std::size_t shortest = static_cast<std::size_t>(-1);
        ((shortest = static_cast<std::size_t>(std::ranges::size(ranges)) < shortest
                         ? static_cast<std::size_t>(std::ranges::size(ranges))
                         : shortest),
         ...);
        singles.reserve(shortest);
      }
      // Each task needs the callable. A small trivially copyable one (function pointer,
      // lambda capturing a few values) is copied into every task; anything else is shared, at
      // the price of a reference count that every task touches.
      auto submit_all = [&](auto holder) {
        auto submit_one = [&]<std::size_t... I>(std::index_sequence<I...>) {
          singles.push_back(submit(
              [h = holder](auto&&... a) mutable {
                if constexpr (std::is_void_v<R>) {
                  (*h)(std::forward<decltype(a)>(a)...);
                  return MapSlot<Stored>{};
                } else {
                  return MapSlot<Stored>{(*h)(std::forward<decltype(a)>(a)...)};
                }
              },
              *std::get<I>(its)...));
          (++std::get<I>(its), ...);
        };
        while (!any_at_end(idx)) submit_one(idx);
      };
      using Fn = std::decay_t<F>;
      if constexpr (std::is_trivially_copyable_v<Fn> && sizeof(Fn) <= 64) {
        struct Copy {  // a by-value holder with the shared holder's call syntax
          Fn fn;
          Fn& operator*() { return fn; }
        };
        submit_all(Copy{*shared_fn});
      } else {
        submit_all(shared_fn);
      }
      return MapResult<R>(std::move(singles), deadline);
    }

    // Zip the inputs (stopping at the shortest) into argument tuples, grouped by chunksize.
    using ArgTuple = std::tuple<std::decay_t<std::ranges::range_reference_t<Ranges>>...>;
    std::vector<Future<Chunk>> chunks;
    std::vector<ArgTuple> pending;
    std::size_t size = 0;
    auto flush = [&] {
      chunks.push_back(submit([f = shared_fn, items = std::move(pending)]() mutable {
        Chunk out;
        out.reserve(items.size());
        for (auto& t : items) {
          if constexpr (std::is_void_v<R>) {
            std::apply(*f, std::move(t));
            out.push_back(MapSlot<Stored>{});
          } else {
            out.push_back(MapSlot<Stored>{std::apply(*f, std::move(t))});
          }
        }
        return out;
      }));
      pending = {};
    };
    auto take = [&]<std::size_t... I>(std::index_sequence<I...>) {
      pending.emplace_back(*std::get<I>(its)...);
      (++std::get<I>(its), ...);
    };
    while (!any_at_end(idx)) {
      take(idx);
      ++size;
      if (pending.size() == options.chunksize) flush();
    }
    if (!pending.empty()) flush();
    return MapResult<R>(std::move(chunks), size, options.chunksize, deadline);
  }
};

}  // namespace pyconc::futures
