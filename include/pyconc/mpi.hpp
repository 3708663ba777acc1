// pyconc/mpi.hpp -- pyconc::mpi: the process pool's tasks on MPI ranks (Open MPI), the C++
// twin of mpi4py.futures. Target pyconc::pyconc_mpi (links MPI); see docs/mpi.md.
//   MPICommExecutor  -- the ranks of `mpirun -n N ./app` (mpi/comm_executor.hpp)
//   MPIPoolExecutor  -- workers started with MPI_Comm_spawn (mpi/pool_executor.hpp)
#pragma once

#include "pyconc/mpi/comm_executor.hpp"
#include "pyconc/mpi/pool_executor.hpp"
