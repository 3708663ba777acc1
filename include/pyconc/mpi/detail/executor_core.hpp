// pyconc/mpi/detail/executor_core.hpp -- the engine under MPICommExecutor and MPIPoolExecutor:
// the Sink of remote_submit.hpp (it queues RemoteTasks, the process pool's task encoding) in
// front of the root's manager thread, which sends them to the worker ranks and completes
// their futures. The MPI side (mpi.h, communicators) is private to src/mpi/.
// Thread safety: every member may be called from any thread, done-callbacks included.
#pragma once

#include <memory>
#include <vector>

#include "pyconc/multiprocessing/detail/process_pool_core.hpp"

namespace pyconc::detail {

class MPIEngine;  // src/mpi/engine.hpp

class MPIExecutorCore {
 public:
  explicit MPIExecutorCore(std::unique_ptr<MPIEngine> engine);
  MPIExecutorCore(const MPIExecutorCore&) = delete;
  MPIExecutorCore& operator=(const MPIExecutorCore&) = delete;
  ~MPIExecutorCore();  // shutdown(wait = true)

  // Queues tasks. RuntimeError after shutdown, BrokenExecutor once broken: nothing is queued.
  void submit(std::shared_ptr<RemoteTaskBase> task);
  void submit(std::vector<std::shared_ptr<RemoteTaskBase>>& tasks);
  void shutdown(bool wait, bool cancel_futures);
  int num_workers() const noexcept;
  bool broken() const noexcept;

 private:
  std::unique_ptr<MPIEngine> engine_;
};

}  // namespace pyconc::detail
