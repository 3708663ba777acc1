// Internal to src/mpi: the loop of a worker rank.
#pragma once

#include <mpi.h>

namespace pyconc::detail {

// Serves the executor whose root is `root` on `comm` (for an intercommunicator: rank `root` of
// the remote group): says hello, then runs the task batches it receives, in order, sending
// their results back, until the exit message. Returns then (the caller frees `comm`).
void serve_tasks(MPI_Comm comm, int root);

}  // namespace pyconc::detail
