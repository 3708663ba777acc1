// pyconc/multiprocessing/pool.hpp -- Pool, AsyncResult, IMapUnorderedIterator.
//
// Python: multiprocessing.Pool(processes, initializer, initargs, maxtasksperchild).
//
//   mp::Pool pool(4);
//   std::vector<long> r = pool.map(job, xs);            // chunksize computed as Python does
//   auto ar = pool.apply_async(func1, std::string("malu1")); ar.get(); ar.get(1s); ar.ready();
//   pool.apply_async(func1, std::make_tuple(std::string("x")), /*callback=*/on_done);
//   for (auto x : pool.imap(job, xs)) {}   for (auto x : pool.imap_unordered(job, xs)) {}
//   pool.starmap(add, pairs); pool.close(); pool.join();   // or pool.terminate()
//
// apply/apply_async take the arguments either spread (`apply_async(f, a, b)`) or as Python's
// `args` tuple (`apply_async(f, std::make_tuple(a, b), callback, error_callback)`). A callback
// receives the result (`Stored&`, or nothing for a void function), an error_callback the
// std::exception_ptr; both run in the pool's manager thread before the AsyncResult becomes
// ready (as in Python, where they run in the result-handler thread), so they must be quick.
// map/starmap block and return std::vector of the results in input order (void functions give
// std::monostate items); map_async/starmap_async return an AsyncResult of that vector; imap
// yields results in input order as they arrive, imap_unordered in completion order. Functions,
// arguments and results follow ProcessPoolExecutor's rules (remote_call.hpp): a function
// pointer or capture-less lambda, Serializable arguments and result -- checked at compile
// time. A task that throws re-raises the same standard/pyconc type (else RemoteError) from
// get() / the iteration; an unserializable result raises MaybeEncodingError.
// Differences: a worker that dies (kill -9, a crash, abort()) breaks the pool at once -- every
// unfinished AsyncResult fails with futures::BrokenProcessPool and further calls throw it
// (Python's Pool waits forever for the lost tasks). terminate() cancels what was not sent and
// fails the running tasks with CancelledError (Python leaves their AsyncResults pending
// forever). The destructor is terminate() + join() like leaving `with Pool() as p:` -- unless
// close() was called, then it is join(): queued work finishes. A task result is an
// AsyncResult<T> whose future() is the pyconc::Future shared with every other executor.
// After close() or terminate(), new work raises ValueError("Pool not running"), as in Python.
//
// Thread safety: all members may be called from any thread; an AsyncResult may be shared
// between threads; an imap range is iterated by one thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>
#include "pyconc/detail/chrono.hpp"

#include "pyconc/detail/deadline.hpp"
#include "pyconc/future.hpp"
#include "pyconc/futures/detail/map_results.hpp"
#include "pyconc/futures/exceptions.hpp"
#include "pyconc/multiprocessing/detail/input_range.hpp"
#include "pyconc/multiprocessing/detail/pool_calls.hpp"
#include "pyconc/multiprocessing/detail/pool_tasks.hpp"
#include "pyconc/multiprocessing/detail/process_pool_core.hpp"
#include "pyconc/multiprocessing/exceptions.hpp"
#include "pyconc/multiprocessing/remote_call.hpp"
#include "pyconc/multiprocessing/start_method.hpp"
#include "pyconc/queue/simple_queue.hpp"

namespace pyconc::detail {

// apply_async(f, tuple, callback[, error_callback]): a tuple followed by something that is not
// Serializable (a callable).
template <class... Args>
inline constexpr bool is_pool_callback_form = [] {
  if constexpr (sizeof...(Args) >= 2) {
    using First = std::remove_cvref_t<std::tuple_element_t<0, std::tuple<Args...>>>;
    using Second = std::tuple_element_t<1, std::tuple<Args...>>;
    return is_std_tuple<First> && !multiprocessing::Serializable<wire_arg_t<Second>>;
  } else {
    return false;
  }
}();

}  // namespace pyconc::detail

namespace pyconc::multiprocessing {
class Pool;
}

namespace pyconc::detail {
template <>
struct PoolCallTraits<multiprocessing::Pool> {
  template <class F, class... Args>
  static constexpr bool takes_args = multiprocessing::RemoteInvocable<F, Args...>;
  template <class F, class... Args>
  static constexpr bool callback_form = is_pool_callback_form<Args...>;
};
}  // namespace pyconc::detail

namespace pyconc::multiprocessing {

// Pool's keyword arguments.
struct PoolOptions {
  Initializer initializer{};  // Python: initializer + initargs
  int maxtasksperchild = 0;   // 0: workers live as long as the pool
  // Python: context= (or ctx.Pool): how workers start -- see context.hpp. nullopt: the
  // default (mp::set_start_method, else spawn).
  std::optional<Context> context{};
};

// Python: multiprocessing.pool.AsyncResult -- the result of apply_async/map_async.
// A copyable handle (copies name the same result).
template <class T>
class AsyncResult {
 public:
  using reference = typename Future<T>::reference;

  explicit AsyncResult(Future<T> future) : future_(std::move(future)) {}

  // Blocks until ready; the value, or the task's exception rethrown.
  reference get() const { return future_.result(); }
  // As get(); TimeoutError after `timeout` (Python: multiprocessing.TimeoutError).
  template <class Rep, class Period>
  reference get(std::chrono::duration<Rep, Period> timeout) const {
    return future_.result(timeout);
  }
  // Blocks until ready (never throws the task's exception).
  void wait() const { future_.state()->wait(nullptr); }
  // Blocks at most `timeout`; returns ready(). (Python's wait returns None.)
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) const {
    const auto deadline = detail::deadline_after(timeout);
    return future_.state()->wait(&deadline);
  }
  bool ready() const noexcept { return future_.done(); }
  // Whether it finished without an exception; ValueError if not ready yet.
  bool successful() const {
    if (!ready()) throw ValueError("AsyncResult is not ready");
    return !future_.cancelled() && !future_.state()->has_exception();
  }
  // The underlying pyconc::Future (add_done_callback, co_await, cf::wait, ...).
  const Future<T>& future() const noexcept { return future_; }

 private:
  Future<T> future_;
};

// Python: multiprocessing.pool.IMapIterator -- imap's range: results in input order.
template <class R>
using IMapIterator = futures::MapResult<R>;

// Python: multiprocessing.pool.IMapUnorderedIterator -- imap_unordered's range: results in the
// order they complete. A chunk whose task failed takes one position, where its exception is
// thrown; iteration can go on after it. Iterate once, from one thread.
template <class R>
class IMapUnorderedIterator {
 public:
  using Stored = std::conditional_t<std::is_void_v<R>, std::monostate, R>;
  using Chunk = std::vector<futures::MapSlot<Stored>>;

  using iterator = detail::ResultIterator<IMapUnorderedIterator, Stored>;

  IMapUnorderedIterator(std::vector<Future<Chunk>> chunks, std::vector<std::size_t> sizes,
                        std::shared_ptr<queue::SimpleQueue<std::size_t>> completed)
      : chunks_(std::move(chunks)), sizes_(std::move(sizes)), completed_(std::move(completed)) {
    for (std::size_t s : sizes_) positions_ += s;
  }
  IMapUnorderedIterator(IMapUnorderedIterator&&) noexcept = default;
  IMapUnorderedIterator& operator=(IMapUnorderedIterator&&) noexcept = default;

  iterator begin() { return iterator(this, 0, false); }
  iterator end() { return iterator(this, positions_, true); }

  // Python: it.next(timeout) -- the next result in completion order; TimeoutError if none
  // arrives in time, std::out_of_range once all were taken (Python: StopIteration).
  template <class Rep, class Period>
  Stored& next(std::chrono::duration<Rep, Period> timeout) {
    const std::size_t i = next_++;
    if (i >= positions_) throw std::out_of_range("imap_unordered: no more results");
    return get(i, detail::deadline_after(timeout));
  }

 private:
  friend iterator;

  // The end's position: the count of positions (a failed chunk shrinks it).
  std::size_t end_position() const noexcept { return positions_; }

  Stored& get(std::size_t i, std::optional<detail::Clock::time_point> deadline = std::nullopt) {
    if (next_ < i + 1) next_ = i + 1;
    while (i >= base_ + current_len_) {
      base_ += current_len_;
      current_ = nullptr;
      current_len_ = 0;
      std::size_t k = 0;
      if (deadline) {
        try {
          k = completed_->get(detail::remaining(*deadline));
        } catch (const queue::Empty&) {
          throw TimeoutError("imap_unordered: no result in time");
        }
      } else {
        k = completed_->get();
      }
      try {
        current_ = &chunks_[k].result();
        current_len_ = sizes_[k];
      } catch (...) {  // the chunk's exception takes one position
        positions_ -= sizes_[k] - 1;
        current_len_ = 1;
        throw;
      }
    }
    if (current_ == nullptr) {  // re-dereferencing the failed position: nothing there
      throw RuntimeError("imap_unordered: this position held a failed chunk");
    }
    return (*current_)[i - base_].value;
  }

  std::vector<Future<Chunk>> chunks_;
  std::vector<std::size_t> sizes_;
  std::shared_ptr<queue::SimpleQueue<std::size_t>> completed_;
  std::size_t positions_ = 0;  // total positions (results, or one per failed chunk)
  std::size_t base_ = 0;       // position of the current chunk's first result
  std::size_t current_len_ = 0;
  Chunk* current_ = nullptr;
  std::size_t next_ = 0;
};

class Pool : public detail::PoolCalls<Pool> {
 public:
  // processes = the CPUs this process may use. ValueError if processes < 1 or
  // maxtasksperchild < 0. The workers start now.
  Pool();
  explicit Pool(PoolOptions options);
  explicit Pool(int processes, PoolOptions options = {});
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool();

  // apply, apply_async, map, map_async, starmap, starmap_async: inherited (detail/pool_calls.hpp).

  // Results in input order as they arrive (a range; Python: imap). chunksize >= 1.
  template <class F, class Range>
  auto imap(F&& fn, Range&& iterable, std::size_t chunksize = 1) {
    if (chunksize == 0) throw ValueError("Chunksize must be 1+, not 0");
    auto chunks = build<false>(fn, iterable, chunksize);
    using R = typename std::decay_t<decltype(chunks)>::Sig::R;
    const std::size_t n = chunks.items();
    submit_chunks(chunks.tasks);
    return IMapIterator<R>(std::move(chunks.futures), n, chunksize, std::nullopt);
  }

  // Results in completion order (a range; Python: imap_unordered). chunksize >= 1.
  template <class F, class Range>
  auto imap_unordered(F&& fn, Range&& iterable, std::size_t chunksize = 1) {
    if (chunksize == 0) throw ValueError("Chunksize must be 1+, not 0");
    auto chunks = build<false>(fn, iterable, chunksize);
    using R = typename std::decay_t<decltype(chunks)>::Sig::R;
    auto completed = std::make_shared<queue::SimpleQueue<std::size_t>>();
    std::vector<std::size_t> sizes;
    const std::size_t n = chunks.items();
    for (std::size_t k = 0; k < chunks.futures.size(); ++k) {
      sizes.push_back(std::min(chunksize, n - k * chunksize));
      chunks.futures[k].add_done_callback([completed, k] { completed->put(k); });
    }
    submit_chunks(chunks.tasks);
    return IMapUnorderedIterator<R>(std::move(chunks.futures), std::move(sizes),
                                    std::move(completed));
  }

  // No more work; the workers exit once the queued work is done.
  void close();
  // Stops the workers now (see the header comment).
  void terminate();
  // Waits for the workers to exit; ValueError("Pool is still running") before close() or
  // terminate().
  void join();

  int processes() const noexcept;
  std::vector<long> worker_pids() const;

 private:
  friend detail::PoolCalls<Pool>;

  template <class F, class Callback, class ErrorCallback, class... Args>
  auto apply_impl(F& fn, Callback callback, ErrorCallback error_callback, const Args&... args) {
    using Fn = std::decay_t<F>;
    static_assert(detail::check_remote_call<Fn, detail::wire_arg_t<Args>...>());
    if constexpr (RemoteInvocable<F, Args...>) {
      using Sig = detail::RemoteSig<Fn, detail::wire_arg_t<Args>...>;
      auto task = detail::make_call_task<typename Sig::T, detail::DecodeValue<typename Sig::Stored>,
                                         Fn, detail::wire_arg_t<Args>...>(Fn(fn), args...);
      set_callbacks<typename Sig::Stored>(*task, std::move(callback), std::move(error_callback));
      AsyncResult<typename Sig::T> result(detail::future_of(task));
      std::vector<std::shared_ptr<detail::RemoteTaskBase>> one;
      one.push_back(std::move(task));
      submit_chunks(one);
      return result;
    }
  }

  template <class Stored, class Task, class Callback, class ErrorCallback>
  static void set_callbacks(Task& task, Callback callback, ErrorCallback error_callback) {
    if constexpr (!std::is_same_v<Callback, std::nullptr_t>) {
      static_assert(std::is_invocable_v<Callback&, Stored&> || std::is_invocable_v<Callback&>,
                    "Pool: callback must be callable with the result (or with nothing for a "
                    "function returning void)");
      task.on_result = [cb = std::move(callback)](Stored& v) mutable {
        if constexpr (std::is_invocable_v<Callback&, Stored&>) {
          cb(v);
        } else {
          cb();
        }
      };
    }
    if constexpr (!std::is_same_v<ErrorCallback, std::nullptr_t>) {
      static_assert(std::is_invocable_v<ErrorCallback&, const std::exception_ptr&>,
                    "Pool: error_callback must be callable with a std::exception_ptr");
      task.on_error = std::move(error_callback);
    }
  }

  // Python's default chunksize for map/starmap.
  std::size_t auto_chunksize(std::size_t n) const noexcept {
    const std::size_t per = 4 * static_cast<std::size_t>(processes());
    std::size_t c = n / per;
    if (n % per != 0) ++c;
    return c == 0 ? 1 : c;
  }

  // Chunk tasks for fn over iterable (each item an argument, or with Star a tuple of them).
  template <bool Star, class F, class Range>
  auto build(F& fn, Range& iterable, std::size_t chunksize) {
    static_assert(detail::InputRange<Range>, "Pool: the second argument must be iterable");
    using Item = detail::range_ref_t<Range>;
    using Fn = std::decay_t<F>;
    if constexpr (Star) {
      using Tuple = std::remove_cvref_t<Item>;
      return [&]<std::size_t... I>(std::index_sequence<I...>) {
        using A = std::tuple<detail::wire_arg_t<std::tuple_element_t<I, Tuple>>...>;
        static_assert(detail::check_remote_call<Fn, std::tuple_element_t<I, A>...>());
        detail::ChunkTasks<Fn, std::tuple_element_t<I, A>...> chunks(Fn(fn), chunksize);
        for (auto&& item : iterable) chunks.add(std::get<I>(item)...);
        chunks.finish();
        return chunks;
      }
      (std::make_index_sequence<std::tuple_size_v<Tuple>>());
    } else {
      static_assert(detail::check_remote_call<Fn, detail::wire_arg_t<Item>>());
      detail::ChunkTasks<Fn, detail::wire_arg_t<Item>> chunks(Fn(fn), chunksize);
      for (auto&& item : iterable) chunks.add(item);
      chunks.finish();
      return chunks;
    }
  }

  template <bool Star, class F, class Range, class Callback, class ErrorCallback>
  auto gather(F& fn, Range& iterable, std::size_t chunksize, Callback callback,
              ErrorCallback error_callback) {
    if constexpr (detail::SizedRange<Range>) {
      const auto n = static_cast<std::size_t>(std::ranges::size(iterable));
      return gather_sized<Star>(fn, iterable, n, chunksize, std::move(callback),
                                std::move(error_callback));
    } else {  // Python: list(iterable) when it has no len()
      std::vector<std::remove_cvref_t<detail::range_ref_t<Range>>> items;
      for (auto&& item : iterable) items.emplace_back(std::forward<decltype(item)>(item));
      return gather_sized<Star>(fn, items, items.size(), chunksize, std::move(callback),
                                std::move(error_callback));
    }
  }

  template <bool Star, class F, class Range, class Callback, class ErrorCallback>
  auto gather_sized(F& fn, Range& iterable, std::size_t n, std::size_t chunksize, Callback callback,
                    ErrorCallback error_callback) {
    if (chunksize == 0) chunksize = auto_chunksize(n);
    auto chunks = build<Star>(fn, iterable, chunksize);
    using Sig = typename std::decay_t<decltype(chunks)>::Sig;
    using Stored = typename Sig::Stored;
    using Values = std::vector<Stored>;

    auto g = std::make_shared<detail::MapGather<Stored>>();
    g->values.resize(n);
    g->remaining = chunks.futures.size();
    if constexpr (!std::is_same_v<Callback, std::nullptr_t>) g->callback = std::move(callback);
    if constexpr (!std::is_same_v<ErrorCallback, std::nullptr_t>) {
      g->error_callback = std::move(error_callback);
    }
    AsyncResult<Values> result(g->out);
    if (chunks.futures.empty()) {
      g->finish(nullptr);
      return result;
    }
    for (std::size_t k = 0; k < chunks.futures.size(); ++k) {
      auto* state = chunks.futures[k].state().get();
      const std::size_t offset = k * chunksize;
      chunks.futures[k].add_done_callback([g, state, offset] { g->chunk_done(*state, offset); });
    }
    submit_chunks(chunks.tasks);
    return result;
  }

  void submit_chunks(std::vector<std::shared_ptr<detail::RemoteTaskBase>>& tasks);

  int processes_;
  std::unique_ptr<detail::ProcessPoolCore> core_;
  std::atomic<int> state_{0};  // 0 running, 1 closed, 2 terminated
};

}  // namespace pyconc::multiprocessing
