// The cost of a trace point (pyconc/detail/trace.hpp), off and on. Tracing is decided at
// start-up, so bench/run.sh runs this binary twice: as is (the "off" rows) and with
// PYCONC_TRACE set (the "on" rows); each run registers the rows of its own state.
//   off: a loop body with a trace point beside the same body without one (the difference is
//        the branch), and a ThreadPoolExecutor task (submit + result) whose run path holds
//        the executors' trace points.
//   on:  trace_complete (a span with two integer arguments), trace_instant, a TraceSpan, and
//        the same thread-pool task, recorded.
// On-rows run a fixed number of iterations: the recorder keeps at most 2^20 events a thread.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <pyconc/detail/trace.hpp>
#include <pyconc/futures.hpp>

namespace {

namespace d = pyconc::detail;

std::int64_t work(std::int64_t x) {
  benchmark::DoNotOptimize(x);
  return x * 3 + 1;
}

void BM_Baseline_NoTracePoint(benchmark::State& state) {
  std::int64_t x = 1;
  for (auto _ : state) {
    x = work(x);
    benchmark::ClobberMemory();
  }
}

void BM_TracePoint(benchmark::State& state) {
  std::int64_t x = 1;
  for (auto _ : state) {
    const std::int64_t t0 = d::tracing() ? d::trace_now_ns() : 0;
    x = work(x);
    if (d::tracing()) [[unlikely]] {
      d::TraceArgs a;
      a.k1 = "x";
      a.v1 = x;
      d::trace_complete("bench", "point", t0, d::trace_now_ns(), std::move(a));
    }
    benchmark::ClobberMemory();
  }
}

void BM_TraceInstant(benchmark::State& state) {
  for (auto _ : state) d::trace_instant("bench", "instant");
}

void BM_TraceSpan(benchmark::State& state) {
  std::int64_t x = 1;
  for (auto _ : state) {
    d::TraceSpan span("bench", "span");
    x = work(x);
  }
}

void BM_ThreadPoolTask(benchmark::State& state) {
  pyconc::futures::ThreadPoolExecutor pool(1);
  for (auto _ : state) pool.submit([] { return 1; }).result();
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (!d::tracing()) {
    benchmark::RegisterBenchmark("BM_TracePoint/no_trace_point", BM_Baseline_NoTracePoint);
    benchmark::RegisterBenchmark("BM_TracePoint/pyconc_off", BM_TracePoint);
    benchmark::RegisterBenchmark("BM_TraceThreadPoolTask/pyconc_off", BM_ThreadPoolTask);
  } else {
    // Fixed iterations: 3 rows x 5 repetitions x 50,000 stay under the recorder's cap of 2^20 events a
    // thread (a row past the cap would time the drop path).
    benchmark::RegisterBenchmark("BM_TracePoint/pyconc_on", BM_TracePoint)->Iterations(50000);
    benchmark::RegisterBenchmark("BM_TraceInstant/pyconc_on", BM_TraceInstant)->Iterations(50000);
    benchmark::RegisterBenchmark("BM_TraceSpan/pyconc_on", BM_TraceSpan)->Iterations(50000);
    benchmark::RegisterBenchmark("BM_TraceThreadPoolTask/pyconc_on", BM_ThreadPoolTask)
        ->Iterations(20000);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
