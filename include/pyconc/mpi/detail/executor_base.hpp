// pyconc/mpi/detail/executor_base.hpp -- what MPICommExecutor and MPIPoolExecutor share:
// submit, map, starmap and shutdown over an MPIExecutorCore, spelled as ProcessPoolExecutor's
// (the same task encoding, futures and map results: remote_submit.hpp).
// Thread safety: all members may be called from any thread, including done-callbacks.
#pragma once

#include <memory>
#include <utility>

#include "pyconc/futures/detail/map_results.hpp"
#include "pyconc/futures/exceptions.hpp"
#include "pyconc/mpi/detail/executor_core.hpp"
#include "pyconc/multiprocessing/detail/remote_submit.hpp"
#include "pyconc/multiprocessing/remote_call.hpp"

namespace pyconc::detail {

class MPIExecutorBase {
 public:
  MPIExecutorBase(const MPIExecutorBase&) = delete;
  MPIExecutorBase& operator=(const MPIExecutorBase&) = delete;

  // False on a worker rank of MPICommExecutor (Python: the executor is None there), once it
  // has served the root's tasks; true where the executor can be used.
  explicit operator bool() const noexcept { return core_ != nullptr; }

  // Schedules fn(args...) on a worker rank; the Future of its result. fn is a function
  // pointer or a capture-less lambda, args and result Serializable (a compile-time error says
  // which rule is broken). RuntimeError after shutdown, BrokenExecutor once broken, RuntimeError
  // on a worker rank (the executor is empty there).
  template <class F, class... Args>
  auto submit(F&& fn, Args&&... args) {
    return remote_submit(core(), std::forward<F>(fn), std::forward<Args>(args)...);
  }

  // map(fn, iterables..., [MapOptions{.timeout, .chunksize}]): fn over the zipped items,
  // results in input order; chunksize > 1 sends the items in groups of that many.
  template <class F, class... Args>
  auto map(F&& fn, Args&&... args) {
    return remote_map(core(), std::forward<F>(fn), std::forward<Args>(args)...);
  }

  // starmap(fn, iterable of tuples, [MapOptions]): fn(*item) for each item (mpi4py's
  // executor.starmap), results in input order.
  template <class F, class R>
  auto starmap(F&& fn, R&& items, const futures::MapOptions& options = {}) {
    return remote_starmap(core(), std::forward<F>(fn), items, options);
  }

  // Stops accepting work; wait: blocks until the queued work is done and the workers have
  // been released; cancel_futures: cancels the work not yet sent to a worker. Idempotent; a
  // no-op on a worker rank.
  void shutdown(bool wait = true, bool cancel_futures = false);

  // How many worker ranks run tasks (mpi4py: executor.num_workers); 0 on a worker rank.
  int num_workers() const noexcept;

 protected:
  MPIExecutorBase() = default;
  ~MPIExecutorBase();  // shutdown(wait = true)
  MPIExecutorCore& core();

  std::unique_ptr<MPIExecutorCore> core_;
};

}  // namespace pyconc::detail
