// bench/futures_bench.cpp -- ThreadPoolExecutor beside asio::thread_pool + std::promise and
// oneTBB's task_group.
//
// Names follow bench/threading_bench.cpp: BM_<Workload>/<impl>, paired by
// bench/python/summarize.py; bench/python/futures_pool.py measures CPython's
// concurrent.futures on the same workloads. All figures are wall-clock time per task.
//
//   Pool_SubmitBatched   submit empty tasks, collecting the results every kBatch tasks
//                        (TBB's task_group has no futures: its tasks write into a vector)
//   Pool_SubmitOne       submit one empty task and wait for its result, again and again (TBB
//                        is left out: its task_group::wait() runs the task in the caller)
//   Pool_Map             pool.map over kBatch items (identity function), time per item
//   Pool_IsPrime         the seeds' is_prime(112272535095293) x 20 with 2 workers vs serial
//   Pool_Idle            CPU used by the 10 parked workers of a pool during 2 s (percent of a
//                        core; the workers' own CPU clocks, read from /proc)
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <tbb/task_arena.h>
#include <tbb/task_group.h>
#include <asio/post.hpp>
#include <asio/thread_pool.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"
#include "pyconc/futures.hpp"
#include "pyconc/threading.hpp"

namespace {

namespace cf = pyconc::futures;
namespace th = pyconc::threading;
using namespace std::chrono_literals;

constexpr int kBatch = 10'000;
constexpr int kWorkers = 2;  // the machines here have 2 cores

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

// --- batched submit: one benchmark iteration = one task; results are collected every kBatch
// tasks (the last partial batch after the timed loop).
void BM_Pool_SubmitBatched_pyconc(benchmark::State& state) {
  cf::ThreadPoolExecutor pool(kWorkers);
  std::vector<pyconc::Future<int>> fs;
  fs.reserve(kBatch);
  long sum = 0;
  int i = 0;
  for (auto _ : state) {
    fs.push_back(pool.submit([i] { return i; }));
    if (++i == kBatch) {
      for (auto& f : fs) sum += f.result();
      fs.clear();
      i = 0;
    }
  }
  for (auto& f : fs) sum += f.result();
  benchmark::DoNotOptimize(sum);
}

void BM_Pool_SubmitBatched_asio(benchmark::State& state) {
  asio::thread_pool pool(kWorkers);
  std::vector<std::future<int>> fs;
  fs.reserve(kBatch);
  long sum = 0;
  int i = 0;
  for (auto _ : state) {
    std::promise<int> p;
    fs.push_back(p.get_future());
    asio::post(pool, [p = std::move(p), i]() mutable { p.set_value(i); });
    if (++i == kBatch) {
      for (auto& f : fs) sum += f.get();
      fs.clear();
      i = 0;
    }
  }
  for (auto& f : fs) sum += f.get();
  benchmark::DoNotOptimize(sum);
  pool.join();
}

void BM_Pool_SubmitBatched_tbb(benchmark::State& state) {
  tbb::task_arena arena(kWorkers);
  std::vector<int> out(kBatch);
  arena.execute([&] {  // the whole loop runs in the arena, as TBB code would
    tbb::task_group g;
    int i = 0;
    for (auto _ : state) {
      g.run([&out, i] { out[static_cast<size_t>(i)] = i; });
      if (++i == kBatch) {
        g.wait();
        i = 0;
      }
    }
    g.wait();
  });
  benchmark::DoNotOptimize(out.data());
}

// --- one at a time ------------------------------------------------------------------------
void BM_Pool_SubmitOne_pyconc(benchmark::State& state) {
  cf::ThreadPoolExecutor pool(kWorkers);
  int i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(pool.submit([i] { return i; }).result());
  ++i;
}

void BM_Pool_SubmitOne_asio(benchmark::State& state) {
  asio::thread_pool pool(kWorkers);
  int i = 0;
  for (auto _ : state) {
    std::promise<int> p;
    auto f = p.get_future();
    asio::post(pool, [p = std::move(p), i]() mutable { p.set_value(i); });
    benchmark::DoNotOptimize(f.get());
  }
  pool.join();
}

// --- map ----------------------------------------------------------------------------------
// pool.map over kBatch items. An iteration is the whole map; the counter tells
// bench/python/summarize.py to report the time per item.
void map_items(benchmark::State& state, std::size_t chunksize) {
  cf::ThreadPoolExecutor pool(kWorkers);
  std::vector<int> xs(kBatch);
  std::iota(xs.begin(), xs.end(), 0);
  for (auto _ : state) {
    long sum = 0;
    for (int r : pool.map([](int x) { return x; }, xs, cf::MapOptions{.chunksize = chunksize})) {
      sum += r;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.counters["items_per_iteration"] = kBatch;
}
void BM_Pool_Map_pyconc(benchmark::State& state) {
  map_items(state, 1);
}
void BM_Pool_Map_pyconc_chunk64(benchmark::State& state) {
  map_items(state, 64);
}

// --- the seeds' CPU-bound workload: speed-up of 2 workers over serial ----------------------
void BM_Pool_IsPrime_serial(benchmark::State& state) {
  for (auto _ : state) {
    int n = 0;
    for (int i = 0; i < 20; ++i) n += is_prime(112272535095293LL);
    benchmark::DoNotOptimize(n);
  }
}

void BM_Pool_IsPrime_pyconc(benchmark::State& state) {
  cf::ThreadPoolExecutor pool(kWorkers);
  std::vector<long long> primes(20, 112272535095293LL);
  for (auto _ : state) {
    int n = 0;
    for (bool r : pool.map(is_prime, primes)) n += r;
    benchmark::DoNotOptimize(n);
  }
}

// --- idle cost ------------------------------------------------------------------------------
// CPU time (user + system) of this process's threads whose kernel name starts with `prefix`,
// from /proc/self/task/*/stat: the pool's workers only, not other libraries' idle threads.
double threads_cpu_seconds(const std::string& prefix) {
  double total = 0;
  const long ticks = sysconf(_SC_CLK_TCK);
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(entry.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind(prefix, 0) != 0) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    unsigned long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stoul(field);
      if (i == 15) stime = std::stoul(field);
    }
    total += static_cast<double>(utime + stime) / static_cast<double>(ticks);
  }
  return total;
}

void BM_Pool_Idle_pyconc(benchmark::State& state) {
  for (auto _ : state) {
    cf::ThreadPoolExecutor pool(10, {.thread_name_prefix = "idlepool"});
    // Start all ten workers: ten tasks that wait for each other.
    th::Barrier all_started(10);
    std::vector<pyconc::Future<int>> fs;
    for (int i = 0; i < 10; ++i) fs.push_back(pool.submit([&] { return all_started.wait(10s); }));
    for (auto& f : fs) f.result();
    std::this_thread::sleep_for(100ms);  // let the workers finish spinning and park
    const double cpu0 = threads_cpu_seconds("idlepool");
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(2s);
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.counters["cpu_percent"] = 100.0 * (threads_cpu_seconds("idlepool") - cpu0) / wall;
    state.counters["workers"] = pool.num_threads();
  }
}

}  // namespace

BENCHMARK(BM_Pool_SubmitBatched_pyconc)->Name("BM_Pool_SubmitBatched/pyconc")->UseRealTime();
BENCHMARK(BM_Pool_SubmitBatched_asio)->Name("BM_Pool_SubmitBatched/asio_promise")->UseRealTime();
BENCHMARK(BM_Pool_SubmitBatched_tbb)->Name("BM_Pool_SubmitBatched/tbb_task_group")->UseRealTime();
BENCHMARK(BM_Pool_SubmitOne_pyconc)->Name("BM_Pool_SubmitOne/pyconc")->UseRealTime();
BENCHMARK(BM_Pool_SubmitOne_asio)->Name("BM_Pool_SubmitOne/asio_promise")->UseRealTime();
BENCHMARK(BM_Pool_Map_pyconc)->Name("BM_Pool_Map/pyconc")->UseRealTime();
BENCHMARK(BM_Pool_Map_pyconc_chunk64)->Name("BM_Pool_Map/pyconc_chunksize64")->UseRealTime();
BENCHMARK(BM_Pool_IsPrime_serial)
    ->Name("BM_Pool_IsPrime/serial")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Pool_IsPrime_pyconc)
    ->Name("BM_Pool_IsPrime/pyconc")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Pool_Idle_pyconc)
    ->Name("BM_Pool_Idle/pyconc")
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  return run_benchmarks(argc, argv);
}
