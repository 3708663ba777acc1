// bench/mpi_bench.cpp -- pyconc::mpi's MPICommExecutor on the ranks of `mpirun -n 3`, the
// workloads of mpi4py.futures' figures (bench/python/mpi_futures.py runs them the mpi4py way),
// plus the physical limit: a raw 64-byte MPI round trip between two ranks. Run by bench/mpi.sh
// (also for TCP: --mca btl tcp,self), which prints both sides and the ratios.
//
// Output lines (rank 0 only; median of --repetitions runs):
//   MPI_SubmitBatched <tasks/s>     20,000 submit(noop), then every result
//   MPI_MapChunked <items/s>        map(ident, 200,000 ints, chunksize=64)
//   MPI_SubmitOne <us/task>         submit(noop).result(), one at a time (2,000)
//   MPI_RawRoundTrip <us>           MPI_Send/MPI_Recv of 64 bytes, rank 0 <-> rank 1
//   MPI_IdleWorkerCpu <% of a core> a worker rank's CPU over 1 s with nothing to do
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/mpi.hpp"

namespace cf = pyconc::futures;
namespace mpi = pyconc::mpi;
using Clock = std::chrono::steady_clock;

namespace {

void noop() {}
int ident(int x) {
  return x;
}
long worker_pid() {
  return static_cast<long>(::getpid());
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

long cpu_ticks(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  long total = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) total += std::stol(field);
  }
  return total;
}

// 64-byte ping-pong between ranks 0 and 1 (rank 2 waits at the barrier).
double raw_round_trip_us(int rank) {
  char buf[64] = {};
  const int n = 20000;
  MPI_Barrier(MPI_COMM_WORLD);
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    if (rank == 0) {
      MPI_Send(buf, 64, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
      MPI_Recv(buf, 64, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 1) {
      MPI_Recv(buf, 64, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(buf, 64, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
    }
  }
  const double us = seconds_since(t0) * 1e6 / n;
  MPI_Barrier(MPI_COMM_WORLD);
  return us;
}

void run_root(int argc, char** argv, int reps, double raw);

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--repetitions") reps = std::max(1, std::atoi(argv[i + 1]));
  }
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const double raw = raw_round_trip_us(rank);
  if (rank == 0)
    run_root(argc, argv, reps, raw);
  else
    mpi::MPICommExecutor(argc, argv);  // a worker rank: serves, then returns
  MPI_Finalize();                      // this program initialized MPI: it finalizes it
  return 0;
}

namespace {

void run_root(int argc, char** argv, int reps, double raw) {
  mpi::MPICommExecutor ex(argc, argv);
  std::vector<double> batched;
  std::vector<double> chunked;
  std::vector<double> one;
  std::vector<int> items(200000);
  for (int i = 0; i < static_cast<int>(items.size()); ++i) items[i] = i;
  ex.submit(noop).result();  // warm up: code definitions sent, workers awake
  for (int r = 0; r < reps; ++r) {
    {
      auto t0 = Clock::now();
      std::vector<pyconc::Future<void>> fs;
      fs.reserve(20000);
      for (int i = 0; i < 20000; ++i) fs.push_back(ex.submit(noop));
      for (auto& f : fs) f.result();
      batched.push_back(20000 / seconds_since(t0));
    }
    {
      auto t0 = Clock::now();
      long sum = 0;
      for (int v : ex.map(ident, items, cf::MapOptions{.chunksize = 64})) sum += v;
      chunked.push_back(static_cast<double>(items.size()) / seconds_since(t0));
      if (sum != 19999900000L) std::fprintf(stderr, "map: wrong sum %ld\n", sum);
    }
    {
      auto t0 = Clock::now();
      for (int i = 0; i < 2000; ++i) ex.submit(noop).result();
      one.push_back(seconds_since(t0) * 1e6 / 2000);
    }
  }
  // Idle cost of a worker rank (after its spin phase).
  const long pid = ex.submit(worker_pid).result();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const long before = cpu_ticks(pid);
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const double idle = static_cast<double>(cpu_ticks(pid) - before) /
                      static_cast<double>(::sysconf(_SC_CLK_TCK)) / seconds_since(t0) * 100;
  ex.shutdown();
  std::printf("MPI_SubmitBatched %.0f\n", median(batched));
  std::printf("MPI_MapChunked %.0f\n", median(chunked));
  std::printf("MPI_SubmitOne %.2f\n", median(one));
  std::printf("MPI_RawRoundTrip %.2f\n", raw);
  std::printf("MPI_IdleWorkerCpu %.2f\n", idle);
  std::fflush(stdout);
}

}  // namespace
