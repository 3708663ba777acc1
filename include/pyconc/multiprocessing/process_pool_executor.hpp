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
#include "pyconc/multiprocessing/detail/process_pool_core.hpp"
#include "pyconc/multiprocessing/detail/remote_submit.hpp"
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
    return detail::remote_submit(*core_, std::forward<F>(fn), std::forward<Args>(args)...);
  }

  // map(fn, iterables..., [MapOptions]): fn over the zipped items, results in input order.
  // chunksize > 1 sends the items in groups of that many (one message and one result each).
  template <class F, class... Args>
  auto map(F&& fn, Args&&... args) {
    return detail::remote_map(*core_, std::forward<F>(fn), std::forward<Args>(args)...);
  }

  // Stops accepting work; wait: blocks until the queued work is done and the workers have
  // exited; cancel_futures: cancels the work not yet sent to a worker.
  void shutdown(bool wait = true, bool cancel_futures = false);

  int max_workers() const noexcept;
  // Pids of the live worker processes (Python: the keys of executor._processes).
  std::vector<long> worker_pids() const;

 private:
  std::unique_ptr<detail::ProcessPoolCore> core_;
};

}  // namespace pyconc::futures
