// Internal to src/mpi: starting worker processes with MPI_Comm_spawn, and the hook that turns
// such a process into a worker rank before main() runs.
#pragma once

#include <mpi.h>

#include <string>
#include <utility>
#include <vector>

namespace pyconc::detail {

// The argument that marks a spawned copy of the program as a worker.
inline constexpr const char* kMPIWorkerFlag = "--pyconc-mpi-worker";

// Spawns `n` copies of this program (/proc/self/exe) in worker mode; their intercommunicator.
// RuntimeError naming MPI's error if the spawn fails.
MPI_Comm spawn_workers(int n, const std::vector<std::pair<std::string, std::string>>& info,
                       bool oversubscribe, const char* who);

}  // namespace pyconc::detail
