// bench/multiprocessing_bench.cpp -- process pools beside the physical limit: a raw pipe /
// socketpair round trip between two processes. bench/python/multiprocessing_pool.py measures
// CPython's ProcessPoolExecutor and multiprocessing.Pool on the same workloads.
//
//   ProcPool_SubmitBatched  ProcessPoolExecutor(2): submit identity(i), collecting the results
//                           every kBatch tasks (time per task)
//   ProcPool_SubmitOne      submit(identity, i).result(), one at a time; peers: a raw pipe and a
//                           socketpair round trip of 8 bytes with a forked echo process
//   ProcPool_Map            ProcessPoolExecutor.map over kBatch items, chunksize 1 (per item)
//   ProcPool_MapChunked     the same with chunksize 1000
//   MpPool_Map              mp::Pool(2).map over kBatch items (Python's default chunksize)
//   MpPool_ApplyAsync       mp::Pool(2).apply_async batched, collecting every kBatch
//   Process_Start           pyconc has no Process on this branch: ProcessPoolExecutor(1)
//                           constructed, first result, shut down (starting one re-executed
//                           worker); peer: fork + _exit + waitpid; Python: Process start+join
//   ProcPool_IsPrime        the seeds' is_prime(112272535095293) x 20 on 2 worker processes
//                           vs serial in this process
#include <benchmark/benchmark.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "common.hpp"
#include "pyconc/multiprocessing.hpp"

namespace {

namespace cf = pyconc::futures;
namespace mp = pyconc::multiprocessing;

constexpr int kBatch = 10'000;
constexpr int kWorkers = 2;

int identity(int x) {
  return x;
}

bool is_prime(long long n) {
  if (n < 2) return false;
  if (n == 2) return true;
  if (n % 2 == 0) return false;
  const auto root = static_cast<long long>(std::floor(std::sqrt(static_cast<double>(n))));
  for (long long i = 3; i <= root; i += 2) {
    if (n % i == 0) return false;
  }
  return true;
}

void BM_ProcPool_SubmitBatched_pyconc(benchmark::State& state) {
  cf::ProcessPoolExecutor pool(kWorkers);
  pool.submit(identity, 0).result();  // workers started outside the timed loop
  std::vector<pyconc::Future<int>> fs;
  fs.reserve(kBatch);
  long sum = 0;
  int i = 0;
  for (auto _ : state) {
    fs.push_back(pool.submit(identity, i));
    if (++i == kBatch) {
      for (auto& f : fs) sum += f.result();
      fs.clear();
      i = 0;
    }
  }
  for (auto& f : fs) sum += f.result();
  benchmark::DoNotOptimize(sum);
}

void BM_ProcPool_SubmitOne_pyconc(benchmark::State& state) {
  cf::ProcessPoolExecutor pool(kWorkers);
  pool.submit(identity, 0).result();
  int i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(pool.submit(identity, i++).result());
}

// An echo process at the other end of two pipes or a socketpair (forked while this process
// runs one thread: the child only reads and writes).
class Echo {
 public:
  explicit Echo(bool socket) {
    if (socket) {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) std::abort();
      to_child_[1] = sv[0];
      from_child_[0] = sv[0];
      child_in_ = sv[1];
      child_out_ = sv[1];
      own_ = {sv[0]};
      child_close_ = {sv[0]};
    } else {
      if (::pipe(to_child_) != 0 || ::pipe(from_child_) != 0) std::abort();
      child_in_ = to_child_[0];
      child_out_ = from_child_[1];
      own_ = {to_child_[1], from_child_[0]};
      child_close_ = {to_child_[1], from_child_[0]};
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      for (int fd : child_close_) ::close(fd);
      std::uint64_t v = 0;
      while (::read(child_in_, &v, sizeof v) == sizeof v) {
        if (::write(child_out_, &v, sizeof v) != sizeof v) break;
      }
      ::_exit(0);
    }
    ::close(child_in_);
    if (child_out_ != child_in_) ::close(child_out_);
  }
  ~Echo() {
    for (int fd : own_) ::close(fd);
    ::waitpid(pid_, nullptr, 0);
  }
  std::uint64_t round_trip(std::uint64_t v) {
    if (::write(to_child_[1], &v, sizeof v) != sizeof v) std::abort();
    if (::read(from_child_[0], &v, sizeof v) != sizeof v) std::abort();
    return v;
  }

 private:
  int to_child_[2] = {-1, -1};
  int from_child_[2] = {-1, -1};
  int child_in_ = -1;
  int child_out_ = -1;
  std::vector<int> own_;
  std::vector<int> child_close_;
  pid_t pid_ = -1;
};

void BM_ProcPool_SubmitOne_raw_pipe(benchmark::State& state) {
  Echo echo(false);
  std::uint64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(echo.round_trip(i++));
}

void BM_ProcPool_SubmitOne_socketpair(benchmark::State& state) {
  Echo echo(true);
  std::uint64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(echo.round_trip(i++));
}

void map_items(benchmark::State& state, std::size_t chunksize) {
  cf::ProcessPoolExecutor pool(kWorkers);
  pool.submit(identity, 0).result();
  std::vector<int> xs(kBatch);
  for (int i = 0; i < kBatch; ++i) xs[static_cast<std::size_t>(i)] = i;
  for (auto _ : state) {
    long sum = 0;
    for (int r : pool.map(identity, xs, cf::MapOptions{.chunksize = chunksize})) sum += r;
    benchmark::DoNotOptimize(sum);
  }
  state.counters["items_per_iteration"] = kBatch;
}
void BM_ProcPool_Map_pyconc(benchmark::State& state) {
  map_items(state, 1);
}
void BM_ProcPool_MapChunked_pyconc(benchmark::State& state) {
  map_items(state, 1000);
}

void BM_MpPool_Map_pyconc(benchmark::State& state) {
  mp::Pool pool(kWorkers);
  std::vector<int> xs(kBatch);
  for (int i = 0; i < kBatch; ++i) xs[static_cast<std::size_t>(i)] = i;
  pool.apply(identity, 0);
  for (auto _ : state) benchmark::DoNotOptimize(pool.map(identity, xs));
  state.counters["items_per_iteration"] = kBatch;
}

void BM_MpPool_ApplyAsync_pyconc(benchmark::State& state) {
  mp::Pool pool(kWorkers);
  pool.apply(identity, 0);
  std::vector<mp::AsyncResult<int>> rs;
  rs.reserve(kBatch);
  long sum = 0;
  int i = 0;
  for (auto _ : state) {
    rs.push_back(pool.apply_async(identity, i));
    if (++i == kBatch) {
      for (auto& r : rs) sum += r.get();
      rs.clear();
      i = 0;
    }
  }
  for (auto& r : rs) sum += r.get();
  benchmark::DoNotOptimize(sum);
}

// A one-worker ProcessPoolExecutor: started (an exec of this program: spawn), one task, shut
// down. The name is historical: mp::Process is BM_Process_StartJoin below.
void BM_Process_Start_pyconc(benchmark::State& state) {
  for (auto _ : state) {
    cf::ProcessPoolExecutor pool(1);
    benchmark::DoNotOptimize(pool.submit(identity, 1).result());
  }
}

// A one-worker pool started, used once and shut down, per start method (the fork server is
// started by the first forkserver iteration and reused, as a program's pools share it).
template <mp::StartMethod Method>
void BM_PoolStart_pyconc(benchmark::State& state) {
  const mp::Context ctx(Method);
  for (auto _ : state) {
    cf::ProcessPoolExecutor pool(1, {.mp_context = ctx});
    benchmark::DoNotOptimize(pool.submit(identity, 1).result());
  }
}

// mp::Process itself: fork, the child runs an empty target and exits; start + join. (What
// BM_Process_Start/pyconc measures is a spawned pool worker -- an exec of this program -- not
// mp::Process.)
void BM_Process_StartJoin_pyconc(benchmark::State& state) {
  for (auto _ : state) {
    mp::Process p([] {});
    p.start();
    p.join();
  }
}

void BM_Process_Start_fork_exit(benchmark::State& state) {
  for (auto _ : state) {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    ::waitpid(pid, nullptr, 0);
  }
}

void BM_ProcPool_IsPrime_serial(benchmark::State& state) {
  for (auto _ : state) {
    int n = 0;
    for (int i = 0; i < 20; ++i) n += is_prime(112272535095293LL) ? 1 : 0;
    benchmark::DoNotOptimize(n);
  }
}

void BM_ProcPool_IsPrime_pyconc(benchmark::State& state) {
  cf::ProcessPoolExecutor pool(kWorkers);
  pool.submit(identity, 0).result();
  const std::vector<long long> primes(20, 112272535095293LL);
  for (auto _ : state) {
    int n = 0;
    for (bool r : pool.map(is_prime, primes)) n += r ? 1 : 0;
    benchmark::DoNotOptimize(n);
  }
}

}  // namespace

BENCHMARK(BM_ProcPool_SubmitBatched_pyconc)
    ->Name("BM_ProcPool_SubmitBatched/pyconc")
    ->UseRealTime();
BENCHMARK(BM_ProcPool_SubmitOne_pyconc)->Name("BM_ProcPool_SubmitOne/pyconc")->UseRealTime();
BENCHMARK(BM_ProcPool_SubmitOne_raw_pipe)->Name("BM_ProcPool_SubmitOne/raw_pipe")->UseRealTime();
BENCHMARK(BM_ProcPool_SubmitOne_socketpair)
    ->Name("BM_ProcPool_SubmitOne/socketpair")
    ->UseRealTime();
BENCHMARK(BM_ProcPool_Map_pyconc)
    ->Name("BM_ProcPool_Map/pyconc")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ProcPool_MapChunked_pyconc)
    ->Name("BM_ProcPool_MapChunked/pyconc")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MpPool_Map_pyconc)
    ->Name("BM_MpPool_Map/pyconc")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MpPool_ApplyAsync_pyconc)->Name("BM_MpPool_ApplyAsync/pyconc")->UseRealTime();
BENCHMARK(BM_Process_Start_pyconc)
    ->Name("BM_Process_Start/pyconc")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PoolStart_pyconc<mp::StartMethod::spawn>)
    ->Name("BM_PoolStart_spawn/pyconc")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PoolStart_pyconc<mp::StartMethod::fork>)
    ->Name("BM_PoolStart_fork/pyconc")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PoolStart_pyconc<mp::StartMethod::forkserver>)
    ->Name("BM_PoolStart_forkserver/pyconc")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Process_StartJoin_pyconc)
    ->Name("BM_Process_StartJoin/pyconc")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Process_Start_fork_exit)
    ->Name("BM_Process_Start/fork_exit")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ProcPool_IsPrime_serial)
    ->Name("BM_ProcPool_IsPrime/serial")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ProcPool_IsPrime_pyconc)
    ->Name("BM_ProcPool_IsPrime/pyconc")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  return run_benchmarks(argc, argv);
}
