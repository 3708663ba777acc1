// The installed pyconc::pyconc_mpi: an MPICommExecutor run as one process (it spawns its worker).
#include <pyconc/mpi.hpp>

#include <cstdio>

int twice(int x) {
  return 2 * x;
}

int main(int argc, char** argv) {
  pyconc::mpi::MPICommExecutor ex(argc, argv);
  if (!ex) return 0;
  const int r = ex.submit(twice, 21).result();
  std::printf("mpi consumer: %d\n", r);
  return r == 42 ? 0 : 1;
}
