// pyconc/multiprocessing/thread_pool.hpp -- pool::ThreadPool: Pool's interface on threads.
//
// Python: multiprocessing.pool.ThreadPool(processes, initializer, initargs).
//
//   mp::pool::ThreadPool tp(4);
//   std::vector<long> r = tp.map(job, xs);               // results in input order
//   auto ar = tp.apply_async([&](int x) { return x + offset; }, 1); ar.get(1s);
//   tp.apply_async(f, std::make_tuple(a, b), on_done, on_error);
//   for (auto x : tp.imap(job, xs)) {}  for (auto x : tp.imap_unordered(job, xs)) {}
//   tp.starmap(add, pairs); tp.close(); tp.join();
//
// The same calls, results (AsyncResult<T>, IMapIterator, IMapUnorderedIterator) and errors as
// mp::Pool (pool.hpp), run by a futures::ThreadPoolExecutor of `processes` threads. There is no
// process boundary, so any callable and any argument type works (lambdas with captures,
// references through std::ref, move-only results), nothing is serialized, and an exception
// comes back as itself. Arguments are decay-copied at the call, as std::thread does.
// Differences from Pool: a callback/error_callback runs on the worker thread that ran the task,
// just before the AsyncResult becomes ready (Pool runs it on its manager thread; Python on its
// result-handler thread) -- keep it quick; terminate() cancels the tasks not yet started
// (their results raise CancelledError) but cannot stop a running one: join() waits for it
// (Python's ThreadPool behaves the same). imap/imap_unordered take the whole iterable at the
// call. The destructor is terminate() + join() -- or join() after close().
// After close() or terminate(), new work raises ValueError("Pool not running").
// Thread safety: all members may be called from any thread; an AsyncResult may be shared
// between threads; an imap range is iterated by one thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "pyconc/detail/function.hpp"
#include "pyconc/future.hpp"
#include "pyconc/futures/detail/map_results.hpp"
#include "pyconc/futures/thread_pool_executor.hpp"
#include "pyconc/multiprocessing/detail/input_range.hpp"
#include "pyconc/multiprocessing/detail/pool_calls.hpp"
#include "pyconc/multiprocessing/detail/pool_tasks.hpp"
#include "pyconc/multiprocessing/pool.hpp"
#include "pyconc/queue/simple_queue.hpp"

namespace pyconc::multiprocessing::pool {
class ThreadPool;
}

namespace pyconc::detail {

template <>
struct PoolCallTraits<multiprocessing::pool::ThreadPool> {
  template <class F, class... Args>
  static constexpr bool takes_args = std::is_invocable_v<std::decay_t<F>&, std::decay_t<Args>&...>;
  // (tuple, callback[, error_callback]): a tuple, then something fn does not take.
  template <class F, class... Args>
  static constexpr bool callback_form = [] {
    if constexpr (sizeof...(Args) >= 2) {
      using First = std::remove_cvref_t<std::tuple_element_t<0, std::tuple<Args...>>>;
      return is_std_tuple<First> && !takes_args<F, Args...>;
    } else {
      return false;
    }
  }();
};

// The tasks of one map/imap call: a future per chunk, and the count of items.
template <class Stored>
struct ThreadPoolChunks {
  using Chunk = std::vector<futures::MapSlot<Stored>>;
  std::vector<Future<Chunk>> futures;
  std::size_t items = 0;
  using stored_type = Stored;
};

}  // namespace pyconc::detail

namespace pyconc::multiprocessing::pool {

using multiprocessing::AsyncResult;
using multiprocessing::IMapIterator;
using multiprocessing::IMapUnorderedIterator;
using multiprocessing::Pool;

// ThreadPool's keyword arguments.
struct ThreadPoolOptions {
  std::function<void()> initializer{};  // Python: initializer(*initargs), once per thread
};

// Python: multiprocessing.pool.ThreadPool.
class ThreadPool : public pyconc::detail::PoolCalls<ThreadPool> {
 public:
  // processes = the CPUs this process may use. ValueError if processes < 1.
  ThreadPool();
  explicit ThreadPool(int processes, ThreadPoolOptions options = {});
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool();

  // apply, apply_async, map, map_async, starmap, starmap_async: inherited, as Pool's
  // (detail/pool_calls.hpp).

  // Results in input order as they arrive (Python: imap). chunksize >= 1.
  template <class F, class Range>
  auto imap(F&& fn, Range&& iterable, std::size_t chunksize = 1) {
    if (chunksize == 0) throw ValueError("Chunksize must be 1+, not 0");
    auto chunks = chunk_tasks<false>(fn, iterable, chunksize);
    using Stored = typename decltype(chunks)::stored_type;
    return IMapIterator<Result<Stored>>(std::move(chunks.futures), chunks.items, chunksize,
                                        std::nullopt);
  }

  // Results in completion order (Python: imap_unordered). chunksize >= 1.
  template <class F, class Range>
  auto imap_unordered(F&& fn, Range&& iterable, std::size_t chunksize = 1) {
    if (chunksize == 0) throw ValueError("Chunksize must be 1+, not 0");
    auto completed = std::make_shared<queue::SimpleQueue<std::size_t>>();
    auto chunks = chunk_tasks<false>(fn, iterable, chunksize, completed);
    using Stored = typename decltype(chunks)::stored_type;
    std::vector<std::size_t> sizes;
    for (std::size_t k = 0; k < chunks.futures.size(); ++k) {
      const std::size_t left = chunks.items - k * chunksize;
      sizes.push_back(left < chunksize ? left : chunksize);
    }
    return IMapUnorderedIterator<Result<Stored>>(std::move(chunks.futures), std::move(sizes),
                                                 std::move(completed));
  }

  // No more work; the threads exit once the queued work is done.
  void close();
  // Cancels the work not started (see the header comment).
  void terminate();
  // Waits for the threads to exit; ValueError("Pool is still running") before close() or
  // terminate().
  void join();
  int processes() const noexcept { return processes_; }

 private:
  friend pyconc::detail::PoolCalls<ThreadPool>;

  // What a chunk stores for a result of type Stored (void -> monostate).
  template <class Stored>
  using Slot = futures::MapSlot<Stored>;
  // The R of IMapIterator<R> for a stored type: monostate stands for void.
  template <class Stored>
  using Result = std::conditional_t<std::is_same_v<Stored, std::monostate>, void, Stored>;

  void check_running() const;

  template <class F, class Callback, class ErrorCallback, class... Args>
  auto apply_impl(F& fn, Callback callback, ErrorCallback error_callback, const Args&... args) {
    check_running();
    using Fn = std::decay_t<F>;
    using R = std::invoke_result_t<Fn&, std::decay_t<Args>&...>;
    using T = std::conditional_t<std::is_void_v<R>, void, std::decay_t<R>>;
    auto future = exec_.submit([fn = Fn(fn), callback = std::move(callback),
                                error_callback = std::move(error_callback),
                                ... a = std::decay_t<Args>(args)]() mutable -> T {
      if constexpr (std::is_void_v<T>) {
        run_guarded(error_callback, [&] { std::apply(fn, std::tie(a...)); });
        if constexpr (!std::is_same_v<Callback, std::nullptr_t>) quietly([&] { callback(); });
      } else {
        T r = run_guarded(error_callback, [&] { return T(std::apply(fn, std::tie(a...))); });
        if constexpr (!std::is_same_v<Callback, std::nullptr_t>) {
          quietly([&] {
            if constexpr (std::is_invocable_v<Callback&, T&>) {
              callback(r);
            } else {
              callback();
            }
          });
        }
        return r;
      }
    });
    return AsyncResult<T>(std::move(future));
  }

  // body(), calling error_callback with its exception before letting it through.
  template <class ErrorCallback, class Body>
  static decltype(auto) run_guarded(ErrorCallback& error_callback, Body&& body) {
    if constexpr (std::is_same_v<ErrorCallback, std::nullptr_t>) {
      return body();
    } else {
      static_assert(std::is_invocable_v<ErrorCallback&, const std::exception_ptr&>,
                    "ThreadPool: error_callback must be callable with a std::exception_ptr");
      try {
        return body();
      } catch (...) {
        const std::exception_ptr e = std::current_exception();
        quietly([&] { error_callback(e); });
        throw;
      }
    }
  }
  // A callback's exception must not take the task's result with it (Python logs it).
  template <class Fn>
  static void quietly(Fn&& fn) noexcept {
    try {
      fn();
    } catch (...) {
    }
  }

  // One task per chunk of `chunksize` items; each yields its chunk's results. With
  // `completed`, a finished chunk's index is put there (imap_unordered).
  template <bool Star, class F, class Range>
  auto chunk_tasks(F& fn, Range& iterable, std::size_t chunksize,
                   std::shared_ptr<queue::SimpleQueue<std::size_t>> completed = nullptr) {
    static_assert(pyconc::detail::InputRange<Range>,
                  "ThreadPool: the second argument must be iterable");
    check_running();
    using Item = std::remove_cvref_t<pyconc::detail::range_ref_t<Range>>;
    using Fn = std::decay_t<F>;
    using R = decltype(call_item<Star>(std::declval<Fn&>(), std::declval<Item&>()));
    using Stored = std::conditional_t<std::is_void_v<R>, std::monostate, std::decay_t<R>>;
    using Chunk = std::vector<Slot<Stored>>;
    pyconc::detail::ThreadPoolChunks<Stored> out;
    auto items = std::make_shared<std::vector<Item>>();
    for (auto&& item : iterable) items->emplace_back(std::forward<decltype(item)>(item));
    auto shared_fn = std::make_shared<Fn>(fn);
    const std::size_t n = items->size();
    auto& futures = out.futures;
    out.items = n;
    for (std::size_t begin = 0; begin < n; begin += chunksize) {
      const std::size_t end = begin + chunksize < n ? begin + chunksize : n;
      futures.push_back(exec_.submit([items, shared_fn, begin, end] {
        Chunk chunk;
        chunk.reserve(end - begin);
        for (std::size_t i = begin; i < end; ++i) {
          if constexpr (std::is_void_v<R>) {
            call_item<Star>(*shared_fn, (*items)[i]);
            chunk.push_back({std::monostate{}});
          } else {
            chunk.push_back({Stored(call_item<Star>(*shared_fn, (*items)[i]))});
          }
        }
        return chunk;
      }));
      if (completed) {
        futures.back().add_done_callback(
            [completed, k = futures.size() - 1] { completed->put(k); });
      }
    }
    return out;
  }

  template <bool Star, class Fn, class Item>
  static decltype(auto) call_item(Fn& fn, Item& item) {
    if constexpr (Star) {
      return std::apply(fn, item);
    } else {
      return std::apply(fn, std::tie(item));
    }
  }

  template <bool Star, class F, class Range, class Callback, class ErrorCallback>
  auto gather(F& fn, Range& iterable, std::size_t chunksize, Callback callback,
              ErrorCallback error_callback) {
    std::size_t size_hint = 0;
    if constexpr (pyconc::detail::SizedRange<Range>) {
      size_hint = static_cast<std::size_t>(std::ranges::size(iterable));
    }
    if (chunksize == 0) {  // Python's choice (1 for a range without size)
      const std::size_t per = 4 * static_cast<std::size_t>(processes_);
      chunksize = (size_hint + per - 1) / per;
      if (chunksize == 0) chunksize = 1;
    }
    auto chunks = chunk_tasks<Star>(fn, iterable, chunksize);
    auto& futures = chunks.futures;
    const std::size_t n = chunks.items;
    using Stored = typename decltype(chunks)::stored_type;
    auto g = std::make_shared<pyconc::detail::MapGather<Stored>>();
    g->values.resize(n);
    g->remaining = futures.size();
    if constexpr (!std::is_same_v<Callback, std::nullptr_t>) g->callback = std::move(callback);
    if constexpr (!std::is_same_v<ErrorCallback, std::nullptr_t>) {
      g->error_callback = std::move(error_callback);
    }
    AsyncResult<std::vector<Stored>> result(g->out);
    if (futures.empty()) {
      g->finish(nullptr);
      return result;
    }
    for (std::size_t k = 0; k < futures.size(); ++k) {
      auto* state = futures[k].state().get();
      futures[k].add_done_callback(
          [g, state, offset = k * chunksize] { g->chunk_done(*state, offset); });
    }
    return result;
  }

  int processes_;
  futures::ThreadPoolExecutor exec_;
  std::atomic<int> state_{0};  // 0 running, 1 closed, 2 terminated
};

}  // namespace pyconc::multiprocessing::pool
