// pyconc/mpi/pool_executor.hpp -- MPIPoolExecutor: a pool of worker processes started with
// MPI_Comm_spawn.
//
// Python: mpi4py.futures.MPIPoolExecutor(max_workers, initializer, initargs, mpi_info=...).
//   mpi::MPIPoolExecutor pool({.max_workers = 4});
//   for (bool b : pool.map(is_prime, numbers, cf::MapOptions{.chunksize = 16})) { ... }
// The program runs as one process (./app, or `mpirun -n 1 ./app` to place the workers with a
// hostfile); the constructor initializes MPI if needed and spawns max_workers copies of this
// same binary (/proc/self/exe, with a marker argument) which, before main() runs, become worker
// ranks of an intercommunicator: they serve tasks until the pool shuts down, then exit. The
// binary's path must be valid wherever the workers are placed. submit/map/starmap/shutdown are
// ProcessPoolExecutor's (detail/executor_base.hpp): the same task encoding, pyconc::Future,
// exceptions with their Python name and message.
//
// Faults: a worker that dies (SIGKILL, abort()) takes its spawned job down (Open MPI 4.1 has
// no ULFM), while this process goes on: the pool watches its workers on this host (pidfds)
// and breaks at once -- every unfinished future fails with BrokenExecutor naming the rank and
// pid, submit throws it -- nothing hangs. (A worker on another host cannot be watched that
// way: see docs/mpi.md.) An initializer that throws breaks the pool the same way.
// Idle cost: idle workers park (MPI_Iprobe with a backoff ending in 1 ms sleeps), the
// manager thread sleeps on a condition variable when nothing is in flight.
// Differences: workers start in the constructor (mpi4py: at the first submit), and MPI_Comm_spawn
// failures throw RuntimeError from it; the program must not make MPI calls of its own while a
// pool runs unless MPI_THREAD_MULTIPLE is provided.
//
// Thread safety: all members may be called from any thread, including the futures'
// done-callbacks (which run in the manager thread).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "pyconc/mpi/detail/executor_base.hpp"
#include "pyconc/multiprocessing/remote_call.hpp"

namespace pyconc::mpi {

// MPIPoolExecutor's keyword arguments.
struct MPIPoolOptions {
  // 0: MPI_UNIVERSE_SIZE - 1 when the launcher sets a universe, else the CPUs this process
  // may use. ValueError if < 0.
  int max_workers = 0;
  multiprocessing::Initializer initializer{};  // Python: initializer + initargs
  // MPI_Info keys for MPI_Comm_spawn (mpi4py's mpi_info): {"host", "node1,node2"},
  // {"hostfile", "hosts.txt"}, {"wdir", "/tmp"}...
  std::vector<std::pair<std::string, std::string>> mpi_info{};
  // Adds Open MPI's {"map_by", ":OVERSUBSCRIBE"} unless mpi_info has "map_by": more workers
  // than free slots (cores) are allowed, as a process pool would.
  bool oversubscribe = true;
};

class MPIPoolExecutor : public detail::MPIExecutorBase {
 public:
  explicit MPIPoolExecutor(MPIPoolOptions options = {});
  ~MPIPoolExecutor();  // shutdown(wait = true)
};

}  // namespace pyconc::mpi
