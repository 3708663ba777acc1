// Internal to src/mpi: the root side of an MPI executor (see executor_core.hpp).
//
// One manager thread makes every MPI call of the root (hence MPI_THREAD_SERIALIZED): it takes
// the tasks user threads queued, sends them in batches to the worker ranks (MPI_Isend of
// concatenated task messages, up to kDepth in flight per worker, a fair share of the queue
// each), receives the result batches (MPI_Iprobe + MPI_Recv) and completes the futures. User
// threads never wait for MPI: submit() queues under mu_ and wakes the manager's condition
// variable. When nothing is in flight the manager sleeps on that condition variable alone;
// while tasks are in flight it polls with a Backoff (spin 200 us, then sleeps up to 200 us).
#pragma once

#include <mpi.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/multiprocessing/detail/process_pool_core.hpp"

namespace pyconc::detail {

struct EngineConfig {
  std::string name;         // "MPICommExecutor" / "MPIPoolExecutor", for messages
  std::string initializer;  // a complete init message, or empty
  bool intercomm = false;   // comm is the spawned pool's intercommunicator (disconnect at end)
};

class MPIEngine {
 public:
  // Takes over `comm`; the workers are `ranks` of it (of its remote group for an
  // intercommunicator). Starts the manager thread.
  MPIEngine(MPI_Comm comm, std::vector<int> ranks, EngineConfig config);
  MPIEngine(const MPIEngine&) = delete;
  MPIEngine& operator=(const MPIEngine&) = delete;
  ~MPIEngine();  // shutdown(wait = true)

  void submit(std::shared_ptr<RemoteTaskBase> task);
  void submit(std::vector<std::shared_ptr<RemoteTaskBase>>& tasks);
  void shutdown(bool wait, bool cancel_futures);
  int num_workers() const noexcept { return static_cast<int>(workers_.size()); }
  bool broken() const noexcept;

 private:
  using TaskPtr = std::shared_ptr<RemoteTaskBase>;
  static constexpr std::size_t kDepth = 128;  // tasks in flight per worker, at most

  struct Worker {
    int rank = 0;
    std::uint64_t seq = 0;      // seq of the last task sent
    std::uint32_t defined = 1;  // code ids below this were sent
    std::deque<TaskPtr> in_flight;
    bool hello = false;  // its "pid host" arrived
    bool bye = false;    // its last message arrived
    long pid = 0;
    std::string host;
    int pidfd = -1;  // watched when it runs on this host
  };
  struct Send {
    std::string buffer;
    MPI_Request request = MPI_REQUEST_NULL;
  };

  void check_submit_locked() const;
  void run();
  bool receive();
  void on_results(Worker& w, std::string_view batch);
  bool dispatch();
  void send_batch(Worker& w, std::vector<TaskPtr>& tasks, bool with_init);
  bool test_sends();
  bool check_deaths();
  bool done() const;
  void break_all(const std::string& message, bool died);
  void release();
  Worker* worker_of(int rank);

  MPI_Comm comm_;
  EngineConfig config_;
  std::vector<Worker> workers_;
  std::list<Send> sends_;
  std::string rbuf_;
  bool died_ = false;  // a worker died: no more MPI towards the workers

  mutable std::mutex mu_;                // guards the members below
  std::condition_variable cv_;           // the manager waits for wake_
  std::condition_variable finished_cv_;  // shutdown(wait) waits for finished_
  std::deque<TaskPtr> pending_;
  bool wake_ = false;
  bool shutdown_ = false;
  bool broken_ = false;
  std::string broken_message_;
  bool finished_ = false;  // the manager has ended

  std::thread manager_;
};

}  // namespace pyconc::detail
