// bench/common.hpp -- what the benchmark binaries share: CPU-bound background threads for the
// `busy:N` variants, and a main() that measures locks the way a concurrent program uses them.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

// `n` threads that only compute (no waiting, no shared data) until destroyed: the CPU-bound
// rest of a program, such as the workers of a pool.
class BusyThreads {
 public:
  explicit BusyThreads(std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) {
      threads_.emplace_back([this] {
        std::uint64_t x = 0;
        while (!stop_.load(std::memory_order_relaxed)) benchmark::DoNotOptimize(++x);
      });
    }
  }
  BusyThreads(const BusyThreads&) = delete;
  BusyThreads& operator=(const BusyThreads&) = delete;
  ~BusyThreads() {
    stop_.store(true, std::memory_order_relaxed);
    for (auto& t : threads_) t.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// glibc (2.34+) lets pthread_mutex_lock skip its atomic instruction while the process has never
// started a second thread, which would flatter the std::mutex peers. A lock only matters in a
// multi-threaded program, so start (and join) one thread before benchmarking.
inline int run_benchmarks(int argc, char** argv) {
  std::thread([] {}).join();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
