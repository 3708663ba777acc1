// MPICommExecutor and MPIPoolExecutor: their start (collective dup + serving on the worker
// ranks; or MPI_Comm_spawn), and the members they share (executor_base.hpp).
#include <string>
#include <vector>

#include "engine.hpp"
#include "environment.hpp"
#include "pyconc/detail/cpu.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/mpi/comm_executor.hpp"
#include "pyconc/mpi/pool_executor.hpp"
#include "spawn.hpp"
#include "worker.hpp"

namespace pyconc {

namespace detail {

namespace {

std::vector<int> all_ranks(int n, int except) {
  std::vector<int> ranks;
  for (int r = 0; r < n; ++r) {
    if (r != except) ranks.push_back(r);
  }
  return ranks;
}

std::unique_ptr<MPIExecutorCore> make_core(MPI_Comm comm, std::vector<int> ranks,
                                           EngineConfig config) {
  return std::make_unique<MPIExecutorCore>(
      std::make_unique<MPIEngine>(comm, std::move(ranks), std::move(config)));
}

}  // namespace

MPIExecutorBase::~MPIExecutorBase() = default;

MPIExecutorCore& MPIExecutorBase::core() {
  if (!core_) {
    throw RuntimeError("this MPI executor is empty: this is a worker rank (check `if (!ex)`)");
  }
  return *core_;
}

void MPIExecutorBase::shutdown(bool wait, bool cancel_futures) {
  if (core_) core_->shutdown(wait, cancel_futures);
}

int MPIExecutorBase::num_workers() const noexcept {
  return core_ ? core_->num_workers() : 0;
}

}  // namespace detail

namespace mpi {

MPICommExecutor::MPICommExecutor(int& argc, char**& argv, MPICommOptions options) {
  start(&argc, &argv, options);
}

MPICommExecutor::MPICommExecutor(MPICommOptions options) {
  start(nullptr, nullptr, options);
}

MPICommExecutor::~MPICommExecutor() {
  shutdown(true, false);
}

void MPICommExecutor::start(int* argc, char*** argv, MPICommOptions& options) {
  constexpr const char* who = "MPICommExecutor";
  detail::ensure_mpi(argc, argv, who);
  int size = 1;
  MPI_Comm comm = MPI_COMM_NULL;
  {
    std::lock_guard serial(detail::mpi_mutex());
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (options.root < 0 || options.root >= size) {
      throw ValueError("MPICommExecutor: root " + std::to_string(options.root) +
                       " is not a rank of MPI_COMM_WORLD (size " + std::to_string(size) + ")");
    }
    root_ = options.root;
    // One process (./app without mpirun): a spawned worker serves it, as mpi4py does.
    if (size > 1) detail::check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm), who, "MPI_Comm_dup");
  }
  detail::EngineConfig config{who, options.initializer.message(), false};
  if (size == 1) {
    config.intercomm = true;
    MPI_Comm inter = detail::spawn_workers(1, {}, true, who);
    core_ = detail::make_core(inter, {0}, std::move(config));
    return;
  }
  if (rank_ != root_) {
    detail::serve_tasks(comm, root_);  // until the root shuts its executor down
    std::lock_guard serial(detail::mpi_mutex());
    MPI_Comm_free(&comm);
    return;  // empty: `!ex`
  }
  core_ = detail::make_core(comm, detail::all_ranks(size, root_), std::move(config));
}

MPIPoolExecutor::MPIPoolExecutor(MPIPoolOptions options) {
  constexpr const char* who = "MPIPoolExecutor";
  if (options.max_workers < 0) throw ValueError("max_workers must be greater than 0");
  detail::ensure_mpi(nullptr, nullptr, who);
  int n = options.max_workers;
  if (n == 0) {
    std::lock_guard serial(detail::mpi_mutex());
    int size = 1;
    int flag = 0;
    int* universe = nullptr;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_UNIVERSE_SIZE, &universe, &flag);
    n = flag != 0 && universe != nullptr && *universe > size ? *universe - size
                                                             : detail::process_cpu_count();
  }
  MPI_Comm inter = detail::spawn_workers(n, options.mpi_info, options.oversubscribe, who);
  std::vector<int> ranks;
  for (int r = 0; r < n; ++r) ranks.push_back(r);
  core_ = detail::make_core(inter, std::move(ranks),
                            detail::EngineConfig{who, options.initializer.message(), true});
}

MPIPoolExecutor::~MPIPoolExecutor() {
  shutdown(true, false);
}

}  // namespace mpi

}  // namespace pyconc
