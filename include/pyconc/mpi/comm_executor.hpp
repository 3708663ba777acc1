// pyconc/mpi/comm_executor.hpp -- MPICommExecutor: an executor over the ranks of a running
// MPI job (`mpirun -n N ./app`).
//
// Python: mpi4py.futures.MPICommExecutor(comm, root) used as
//   with MPICommExecutor(MPI.COMM_WORLD, root=0) as executor:
//       if executor is not None: ...
// pyconc: every rank runs the same main():
//   mpi::MPICommExecutor ex(argc, argv);   // MPI_Init_thread if MPI is not initialized yet
//   if (!ex) return 0;                     // a worker rank: it has served, it is done
//   pyconc::Future<bool> f = ex.submit(is_prime, 112272535095293ULL);
// The constructor is collective over MPI_COMM_WORLD: it duplicates the communicator (so the
// executor's messages never meet the program's own), then the worker ranks (all but `root`)
// serve tasks inside it until the root shuts the executor down, and return an empty executor
// (`!ex`). On the root it returns a working executor at once: submit/map/starmap/shutdown as
// ProcessPoolExecutor's (detail/executor_base.hpp), tasks encoded the same way (function named
// by offset, Serializable arguments), exceptions arriving with their Python name and message.
// Several executors may follow one another in one program (each constructor pairs up with the
// same constructor on the other ranks); MPI is finalized at exit if pyconc initialized it.
//
// Faults: Open MPI 4.1 (no ULFM in Debian's build) has no way to survive a dead rank: when a
// worker rank is killed or aborts, mpirun ends the whole job and names the rank ("mpirun
// noticed that process rank 1 ... exited on signal 9"); nothing hangs. An initializer that
// throws breaks the executor: futures fail with BrokenExecutor naming the rank and exception.
// Idle cost: idle worker ranks park (MPI_Iprobe with a backoff ending in 1 ms sleeps), the
// root's manager thread sleeps on a condition variable when nothing is in flight.
// Differences: no `comm` argument (MPI_COMM_WORLD, duplicated); the root's MPI calls are made
// by its manager thread, so MPI runs at MPI_THREAD_SERIALIZED (or better) and the program must
// not make MPI calls of its own while an executor runs unless MPI_THREAD_MULTIPLE is provided.
//
// Thread safety: on the root, all members may be called from any thread, including the
// futures' done-callbacks (which run in the manager thread). Construct on the thread that
// initialized MPI (or let the constructor initialize it).
#pragma once

#include "pyconc/mpi/detail/executor_base.hpp"
#include "pyconc/multiprocessing/remote_call.hpp"

namespace pyconc::mpi {

// MPICommExecutor's keyword arguments.
struct MPICommOptions {
  int root = 0;  // the rank that gets the executor; ValueError if not a rank of the job
  multiprocessing::Initializer initializer{};  // run first on every worker rank
};

class MPICommExecutor : public detail::MPIExecutorBase {
 public:
  // MPI_Init_thread(&argc, &argv, ...) unless MPI is initialized already (Open MPI may remove
  // its own arguments from argv).
  MPICommExecutor(int& argc, char**& argv, MPICommOptions options = {});
  explicit MPICommExecutor(MPICommOptions options = {});
  ~MPICommExecutor();  // shutdown(wait = true) on the root

  // This process's rank in MPI_COMM_WORLD, and the root's.
  int rank() const noexcept { return rank_; }
  int root() const noexcept { return root_; }

 private:
  void start(int* argc, char*** argv, MPICommOptions& options);
  int rank_ = 0;
  int root_ = 0;
};

}  // namespace pyconc::mpi
