// bench/asyncio_prims_bench.cpp -- the asyncio primitives: aio::Queue and aio::Lock.
//
// Workloads, named `BM_<Workload>/<impl>` as in the other suites (bench/python/summarize.py
// pairs them with CPython's figures from bench/python/asyncio_prims.py, asyncio and uvloop):
//   AsyncQueue_PingPong    one round trip between two tasks of one loop: a put on one queue,
//                          the partner's get and put on a second queue, the get back.
//   AsyncLock_Uncontended  `async with lock: pass` on a free lock (acquire + release).
// Both are single-threaded (one event loop), so the figure is the thread's CPU time per
// operation, as for the single-thread workloads of bench/threading_bench.cpp; the loop's
// polling system calls count in it.
#include <benchmark/benchmark.h>

#include "common.hpp"
#include "pyconc/asyncio.hpp"

namespace {

namespace aio = pyconc::asyncio;

aio::Task<> echo_partner(aio::Queue<int>& in, aio::Queue<int>& out) {
  while (true) {
    const int v = co_await in.get();
    if (v < 0) co_return;
    co_await out.put(v + 1);
  }
}

aio::Task<> queue_ping_pong(benchmark::State& state) {
  aio::Queue<int> ping, pong;
  auto partner = aio::create_task(echo_partner(ping, pong));
  int next = 0;
  for (auto _ : state) {
    co_await ping.put(next);
    next = co_await pong.get();
  }
  co_await ping.put(-1);
  co_await partner;
  benchmark::DoNotOptimize(next);
}

void BM_AsyncQueue_PingPong(benchmark::State& state) {
  aio::run(queue_ping_pong(state));
}

aio::Task<> lock_uncontended(benchmark::State& state) {
  aio::Lock lock;
  for (auto _ : state) {
    auto held = co_await lock.acquire();
    benchmark::DoNotOptimize(held);
  }
  co_return;
}

void BM_AsyncLock_Uncontended(benchmark::State& state) {
  aio::run(lock_uncontended(state));
}

}  // namespace

BENCHMARK(BM_AsyncQueue_PingPong)->Name("BM_AsyncQueue_PingPong/pyconc");
BENCHMARK(BM_AsyncLock_Uncontended)->Name("BM_AsyncLock_Uncontended/pyconc");

int main(int argc, char** argv) {
  return run_benchmarks(argc, argv);
}
