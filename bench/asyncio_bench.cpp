// bench/asyncio_bench.cpp -- the asyncio core: tasks, yields, sleeping tasks -- beside Asio's
// C++20 coroutines (asio::awaitable on an io_context) in the same binary; CPython's asyncio and
// uvloop run the same workloads in bench/python/asyncio_core.py.
//
//   Aio_GatherTasks   create_task + gather of 100,000 trivial coroutines (per task)
//   Aio_Sleep0        `await sleep(0)` in one task (per yield)
//   Aio_SleepingTasks 1,000,000 tasks all sleeping at once: creation cost per task, plus the
//                     memory they hold (bytes per task, counters `rss_per_task`, `heap_per_task`)
#include <benchmark/benchmark.h>
#include <unistd.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "common.hpp"
#include "pyconc/asyncio.hpp"

namespace aio = pyconc::asyncio;
using namespace std::chrono_literals;

// Heap bytes in use, counted by replacing the global operator new/delete (sized delete gives
// the size back; the unsized forms keep a header).
namespace {
std::atomic<std::int64_t> g_heap{0};
struct alignas(std::max_align_t) Header {
  std::size_t size;
};
void* counted_alloc(std::size_t n) {
  void* p = std::malloc(n + sizeof(Header));
  if (p == nullptr) throw std::bad_alloc();
  static_cast<Header*>(p)->size = n;
  g_heap.fetch_add(static_cast<std::int64_t>(n), std::memory_order_relaxed);
  return static_cast<Header*>(p) + 1;
}
void counted_free(void* p) noexcept {
  if (p == nullptr) return;
  Header* h = static_cast<Header*>(p) - 1;
  g_heap.fetch_sub(static_cast<std::int64_t>(h->size), std::memory_order_relaxed);
  std::free(h);
}
}  // namespace
void* operator new(std::size_t n) {
  return counted_alloc(n);
}
void* operator new[](std::size_t n) {
  return counted_alloc(n);
}
void operator delete(void* p) noexcept {
  counted_free(p);
}
void operator delete[](void* p) noexcept {
  counted_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  counted_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  counted_free(p);
}

namespace {

constexpr int kGather = 100'000;
constexpr int kSleepers = 1'000'000;

std::int64_t rss_bytes() {
  long pages = 0, resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<std::int64_t>(resident) * ::sysconf(_SC_PAGESIZE);
}

// --- create_task + gather ---

aio::Task<int> trivial(int i) {
  co_return i;
}

void BM_Aio_GatherTasks_pyconc(benchmark::State& state) {
  for (auto _ : state) {
    auto main = []() -> aio::Task<long> {
      std::vector<aio::Task<int>> tasks;
      tasks.reserve(kGather);
      for (int i = 0; i < kGather; ++i) tasks.push_back(aio::create_task(trivial(i)));
      std::vector<int> r = co_await aio::gather(std::move(tasks));
      co_return static_cast<long>(r.size());
    };
    benchmark::DoNotOptimize(aio::run(main()));
  }
  state.counters["items_per_iteration"] = kGather;
}

asio::awaitable<int> asio_trivial(int i) {
  co_return i;
}

void BM_Aio_GatherTasks_asio(benchmark::State& state) {
  for (auto _ : state) {
    asio::io_context io(1);
    std::vector<int> results(kGather);
    int done = 0;
    // co_spawn each coroutine with a completion handler that stores the result: Asio's way
    // of starting many coroutines and collecting what they return.
    for (int i = 0; i < kGather; ++i) {
      asio::co_spawn(io, asio_trivial(i), [&results, &done, i](std::exception_ptr, int v) {
        results[i] = v;
        ++done;
      });
    }
    io.run();
    benchmark::DoNotOptimize(done);
  }
  state.counters["items_per_iteration"] = kGather;
}

// --- sleep(0): one yield to the loop ---

constexpr int kYields = 100'000;

void BM_Aio_Sleep0_pyconc(benchmark::State& state) {
  for (auto _ : state) {
    aio::run([]() -> aio::Task<> {
      for (int i = 0; i < kYields; ++i) co_await aio::sleep(0s);
    }());
  }
  state.counters["items_per_iteration"] = kYields;
}

void BM_Aio_Sleep0_asio(benchmark::State& state) {
  for (auto _ : state) {
    asio::io_context io(1);
    asio::co_spawn(
        io,
        []() -> asio::awaitable<void> {
          auto ex = co_await asio::this_coro::executor;
          for (int i = 0; i < kYields; ++i) co_await asio::post(ex, asio::use_awaitable);
        },
        asio::detached);
    io.run();
  }
  state.counters["items_per_iteration"] = kYields;
}

// --- a million sleeping tasks ---

aio::Task<> sleeper() {
  co_await aio::sleep(1h);
}

void BM_Aio_SleepingTasks_pyconc(benchmark::State& state) {
  double rss_per = 0, heap_per = 0;
  for (auto _ : state) {
    aio::run([&]() -> aio::Task<> {
      const auto rss0 = rss_bytes();
      const auto heap0 = g_heap.load();
      for (int i = 0; i < kSleepers; ++i) aio::create_task(sleeper());
      co_await aio::sleep(0s);  // every task has started and is sleeping now
      rss_per = static_cast<double>(rss_bytes() - rss0) / kSleepers;
      heap_per = static_cast<double>(g_heap.load() - heap0) / kSleepers;
      for (auto& t : aio::all_tasks()) {
        if (t != aio::current_task()) t.cancel();
      }
    }());
  }
  state.counters["items_per_iteration"] = kSleepers;
  state.counters["rss_per_task"] = rss_per;
  state.counters["heap_per_task"] = heap_per;
}

void BM_Aio_SleepingTasks_asio(benchmark::State& state) {
  double rss_per = 0, heap_per = 0;
  for (auto _ : state) {
    asio::io_context io(1);
    const auto rss0 = rss_bytes();
    const auto heap0 = g_heap.load();
    std::vector<std::unique_ptr<asio::steady_timer>> timers;
    timers.reserve(kSleepers);
    for (int i = 0; i < kSleepers; ++i) {
      timers.push_back(std::make_unique<asio::steady_timer>(io, 1h));
      asio::co_spawn(
          io,
          [](asio::steady_timer& t) -> asio::awaitable<void> {
            try {
              co_await t.async_wait(asio::use_awaitable);
            } catch (...) {
            }
          }(*timers.back()),
          asio::detached);
    }
    io.run_for(std::chrono::milliseconds(0));
    io.poll();
    rss_per = static_cast<double>(rss_bytes() - rss0) / kSleepers;
    heap_per = static_cast<double>(g_heap.load() - heap0) / kSleepers;
    for (auto& t : timers) t->cancel();
    io.run();
  }
  state.counters["items_per_iteration"] = kSleepers;
  state.counters["rss_per_task"] = rss_per;
  state.counters["heap_per_task"] = heap_per;
}

}  // namespace

BENCHMARK(BM_Aio_GatherTasks_pyconc)
    ->Name("BM_Aio_GatherTasks/pyconc")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Aio_GatherTasks_asio)
    ->Name("BM_Aio_GatherTasks/asio_coroutines")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Aio_Sleep0_pyconc)
    ->Name("BM_Aio_Sleep0/pyconc")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Aio_Sleep0_asio)
    ->Name("BM_Aio_Sleep0/asio_coroutines")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Aio_SleepingTasks_pyconc)
    ->Name("BM_Aio_SleepingTasks/pyconc")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();
BENCHMARK(BM_Aio_SleepingTasks_asio)
    ->Name("BM_Aio_SleepingTasks/asio_coroutines")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();

int main(int argc, char** argv) {
  return run_benchmarks(argc, argv);
}
