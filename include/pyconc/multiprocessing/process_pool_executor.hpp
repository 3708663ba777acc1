// pyconc/multiprocessing/process_pool_executor.hpp -- ProcessPoolExecutor.
//
// Python: concurrent.futures.ProcessPoolExecutor(max_workers, initializer, initargs,
// max_tasks_per_child). It lives with multiprocessing (it needs the worker processes and the
// serialization layer) but in namespace pyconc::futures, so cf::ProcessPoolExecutor works:
//
//   cf::ProcessPoolExecutor procs(2);
//   pyconc::Future<bool> f = procs.submit(is_prime, 112272535095293LL);
//   for (bool r : procs.map(is_prime, primes, cf::MapOptions{.chunksize = 16})) { ... }
//
// submit() returns the same pyconc::Future<T> as ThreadPoolExecutor; map() the same MapResult
// (input order, MapOptions{.timeout, .chunksize}, several iterables zipped). The function must
// be a function pointer or a capture-less lambda, and the arguments and result Serializable
// (see remote_call.hpp; a violation is a compile-time error saying which rule). A task that
// throws fails its future with the same standard/pyconc exception type, or RemoteError. A
// result that cannot be serialized fails its future with mp::MaybeEncodingError; the pool goes
// on. A worker that dies (killed, crashed, abort()) breaks the pool at once: every unfinished
// future fails with BrokenProcessPool and submit throws BrokenProcessPool -- nothing hangs.
// A future is "running" (no longer cancellable) once its task is sent to a worker; tasks are
// sent shortly before a worker can run them, so cancel() and shutdown(cancel_futures=true)
// work for the queued rest. Default max_workers: the CPUs this process may use (affinity and
// cgroup quota). Workers start at the first submit; the destructor is shutdown(wait=true).
// Differences: workers are the program itself executed again in worker mode (like Python's
// "spawn", never a fork of a threaded process), whatever the platform; state cannot cross
// (capturing lambdas are refused at compile time, Python fails at pickling time); callbacks
// of the returned futures run in the pool's manager thread (Python: its management thread);
// not derived from futures::Executor, whose submit() accepts any closure -- code written
// against Executor& would compile and fail at run time, here it does not compile.
//
// Thread safety: all members may be called from any thread, including done-callbacks.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/future.hpp"
#include "pyconc/futures/detail/map_results.hpp"
#include "pyconc/futures/exceptions.hpp"
#include "pyconc/multiprocessing/detail/input_range.hpp"
#include "pyconc/multiprocessing/detail/pool_tasks.hpp"
#include "pyconc/multiprocessing/detail/process_pool_core.hpp"
#include "pyconc/multiprocessing/exceptions.hpp"
#include "pyconc/multiprocessing/remote_call.hpp"
#include "pyconc/multiprocessing/start_method.hpp"

namespace pyconc::futures {

// ProcessPoolExecutor's keyword arguments.
struct ProcessPoolOptions {
  multiprocessing::Initializer initializer{};  // Python: initializer + initargs
  int max_tasks_per_child = 0;  // 0: workers live as long as the pool; ValueError if < 0
  // Python: mp_context=: how workers start (multiprocessing/context.hpp). nullopt: the default
  // (mp::set_start_method, else spawn).
  std::optional<multiprocessing::Context> mp_context{};
};

class ProcessPoolExecutor {
 public:
  // max_workers = the CPUs this process may use.
  ProcessPoolExecutor();
  explicit ProcessPoolExecutor(ProcessPoolOptions options);
  // ValueError("max_workers must be greater than 0") when max_workers <= 0.
  explicit ProcessPoolExecutor(int max_workers, ProcessPoolOptions options = {});
  ProcessPoolExecutor(const ProcessPoolExecutor&) = delete;
  ProcessPoolExecutor& operator=(const ProcessPoolExecutor&) = delete;
  ~ProcessPoolExecutor();  // shutdown(wait = true)

  // Schedules fn(args...) in a worker process; the Future of its result. RuntimeError after
  // shutdown, BrokenProcessPool once broken.
  template <class F, class... Args>
  auto submit(F&& fn, Args&&... args) {
    using Fn = std::decay_t<F>;
    static_assert(detail::check_remote_call<Fn, detail::wire_arg_t<Args>...>());
    if constexpr (multiprocessing::RemoteInvocable<F, Args...>) {
      using Sig = detail::RemoteSig<Fn, detail::wire_arg_t<Args>...>;
      auto task = detail::make_call_task<typename Sig::T, detail::DecodeValue<typename Sig::Stored>,
                                         Fn, detail::wire_arg_t<Args>...>(Fn(fn), args...);
      auto future = detail::future_of(task);
      core_->submit(std::move(task));
      return future;
    }
  }

  // map(fn, iterables..., [MapOptions]): fn over the zipped items, results in input order.
  // chunksize > 1 sends the items in groups of that many (one message and one result each).
  template <class F, class... Args>
  auto map(F&& fn, Args&&... args) {
    if constexpr (sizeof...(Args) > 0 &&
                  std::is_same_v<
                      std::decay_t<std::tuple_element_t<sizeof...(Args) - 1, std::tuple<Args...>>>,
                      MapOptions>) {
      auto all = std::forward_as_tuple(std::forward<Args>(args)...);
      return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return map_impl(std::get<sizeof...(Args) - 1>(all), std::forward<F>(fn),
                        std::get<I>(all)...);
      }
      (std::make_index_sequence<sizeof...(Args) - 1>());
    } else {
      return map_impl(MapOptions{}, std::forward<F>(fn), args...);
    }
  }

  // Stops accepting work; wait: blocks until the queued work is done and the workers have
  // exited; cancel_futures: cancels the work not yet sent to a worker.
  void shutdown(bool wait = true, bool cancel_futures = false);

  int max_workers() const noexcept;
  // Pids of the live worker processes (Python: the keys of executor._processes).
  std::vector<long> worker_pids() const;

 private:
  template <class F, class... Ranges>
  auto map_impl(const MapOptions& options, F&& fn, Ranges&... ranges) {
    static_assert(sizeof...(Ranges) > 0, "ProcessPoolExecutor::map needs at least one iterable");
    static_assert((detail::InputRange<Ranges> && ...),
                  "ProcessPoolExecutor::map: the arguments after fn must be iterables");
    using Fn = std::decay_t<F>;
    static_assert(
        detail::check_remote_call<Fn, detail::wire_arg_t<detail::range_ref_t<Ranges>>...>());
    if constexpr (multiprocessing::RemoteInvocable<F, detail::range_ref_t<Ranges>...>) {
      using Sig = detail::RemoteSig<Fn, detail::wire_arg_t<detail::range_ref_t<Ranges>>...>;
      using Result = MapResult<typename Sig::R>;
      if (options.chunksize == 0) throw ValueError("chunksize must be >= 1");
      std::optional<detail::Clock::time_point> deadline;
      if (options.timeout) deadline = detail::deadline_after(*options.timeout);
      auto its = std::make_tuple(std::ranges::begin(ranges)...);
      auto ends = std::make_tuple(std::ranges::end(ranges)...);
      auto at_end = [&]<std::size_t... I>(std::index_sequence<I...>) {
        return ((std::get<I>(its) == std::get<I>(ends)) || ...);
      };
      auto advance = [&]<std::size_t... I>(std::index_sequence<I...>) {
        (++std::get<I>(its), ...);
      };
      constexpr auto idx = std::index_sequence_for<Ranges...>();
      const Fn f(fn);
      if (options.chunksize == 1) {
        std::vector<std::shared_ptr<detail::RemoteTaskBase>> tasks;
        std::vector<Future<typename Sig::Slot>> futures;
        while (!at_end(idx)) {
          auto task = [&]<std::size_t... I>(std::index_sequence<I...>) {
            return detail::make_call_task<typename Sig::Slot,
                                          detail::DecodeSlot<typename Sig::Stored>, Fn,
                                          detail::wire_arg_t<detail::range_ref_t<Ranges>>...>(
                f, *std::get<I>(its)...);
          }
          (idx);
          futures.push_back(detail::future_of(task));
          tasks.push_back(std::move(task));
          advance(idx);
        }
        core_->submit(tasks);
        return Result(std::move(futures), deadline);
      } else {
        detail::ChunkTasks<Fn, detail::wire_arg_t<detail::range_ref_t<Ranges>>...> chunks(
            f, options.chunksize);
        while (!at_end(idx)) {
          [&]<std::size_t... I>(std::index_sequence<I...>) {
            chunks.add(*std::get<I>(its)...);
          }
          (idx);
          advance(idx);
        }
        chunks.finish();
        core_->submit(chunks.tasks);
        return Result(std::move(chunks.futures), chunks.items(), options.chunksize, deadline);
      }
    }
  }

  std::unique_ptr<detail::ProcessPoolCore> core_;
};

}  // namespace pyconc::futures
