// bench/busy_threads.hpp -- CPU-bound background threads for the `busy:N` benchmark variants.
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
