// MPI_Comm_spawn of worker copies of this program, and the worker-mode hook (see spawn.hpp).
#include "spawn.hpp"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "environment.hpp"
#include "pyconc/errors.hpp"
#include "worker.hpp"

namespace pyconc::detail {

namespace {

[[noreturn]] void leave(int code) {
  std::fflush(nullptr);  // what tasks printed
  ::_exit(code);         // never main()'s statics' destructors: main() never ran here
}

// In a spawned worker, before main(): serve the pool, then exit. glibc passes argc/argv to
// ELF constructors; this one lives in the object every MPI executor needs, so it is linked
// into every program that can spawn.
__attribute__((constructor)) void pyconc_mpi_worker_hook(int argc, char** argv, char**) {
  if (argc < 2 || std::strcmp(argv[1], kMPIWorkerFlag) != 0) return;
  int provided = 0;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) leave(5);
  MPI_Comm parent = MPI_COMM_NULL;
  MPI_Comm_get_parent(&parent);
  if (parent == MPI_COMM_NULL) {
    std::fprintf(stderr, "%s: %s is for workers started by pyconc::mpi::MPIPoolExecutor\n", argv[0],
                 kMPIWorkerFlag);
    leave(2);
  }
  serve_tasks(parent, 0);
  MPI_Comm_disconnect(&parent);
  MPI_Finalize();
  leave(0);
}

}  // namespace

MPI_Comm spawn_workers(int n, const std::vector<std::pair<std::string, std::string>>& info,
                       bool oversubscribe, const char* who) {
  char exe[PATH_MAX];
  if (::realpath("/proc/self/exe", exe) == nullptr) {
    throw OSError(errno, "/proc/self/exe");
  }
  std::lock_guard serial(mpi_mutex());
  MPI_Info mpi_info = MPI_INFO_NULL;
  MPI_Info_create(&mpi_info);
  bool map_by = false;
  for (const auto& [key, value] : info) {
    MPI_Info_set(mpi_info, key.c_str(), value.c_str());
    map_by |= key == "map_by";
  }
  if (oversubscribe && !map_by) MPI_Info_set(mpi_info, "map_by", ":OVERSUBSCRIBE");
  char flag[64];
  std::snprintf(flag, sizeof flag, "%s", kMPIWorkerFlag);
  char* args[] = {flag, nullptr};
  std::vector<int> errcodes(static_cast<std::size_t>(n), MPI_SUCCESS);
  MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
  MPI_Comm inter = MPI_COMM_NULL;
  const int rc = MPI_Comm_spawn(exe, args, n, mpi_info, 0, MPI_COMM_SELF, &inter, errcodes.data());
  MPI_Info_free(&mpi_info);
  check_mpi(rc, who, "MPI_Comm_spawn");
  for (int code : errcodes) check_mpi(code, who, "MPI_Comm_spawn (a worker)");
  return inter;
}

}  // namespace pyconc::detail
