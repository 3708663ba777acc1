// A small traced program for the tracing tests: a thread pool, a process pool (start method from
// argv[1]: spawn, fork or forkserver), and an event loop with named tasks. Run it with
// PYCONC_TRACE=file.json; the tests check the merged file and render it in a browser.
#include <pyconc/asyncio.hpp>
#include <pyconc/futures.hpp>
#include <pyconc/multiprocessing.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace aio = pyconc::asyncio;
namespace cf = pyconc::futures;
namespace mp = pyconc::multiprocessing;

// Deterministic CPU work (~ tens of microseconds): no sleeps in the traced tasks.
long long spin(long long n) {
  long long acc = 0;
  for (long long i = 0; i < n; ++i) acc += (i * i) % 7;
  return acc;
}

aio::Task<int> stepper(int steps) {
  int done = 0;
  for (int i = 0; i < steps; ++i) {
    spin(20000);
    co_await aio::sleep(std::chrono::milliseconds(1));
    ++done;
  }
  co_return done;
}

aio::Task<int> amain() {
  auto a = aio::create_task(stepper(3), "stepper-a");
  auto b = aio::create_task(stepper(4), "stepper-b");
  const int x = co_await a;
  const int y = co_await b;
  co_return x + y;
}

int main(int argc, char** argv) {
  const std::string method = argc > 1 ? argv[1] : "spawn";
  long long total = 0;
  {
    cf::ThreadPoolExecutor pool(3);
    std::vector<pyconc::Future<long long>> fs;
    for (int i = 0; i < 24; ++i) fs.push_back(pool.submit(spin, 50000LL + i));
    for (auto& f : fs) total += f.result();
  }
  {
    cf::ProcessPoolOptions options;
    options.mp_context = mp::get_context(method);
    cf::ProcessPoolExecutor pool(2, options);
    std::vector<pyconc::Future<long long>> fs;
    for (int i = 0; i < 12; ++i) fs.push_back(pool.submit(spin, 80000LL + i));
    for (auto& f : fs) total += f.result();
  }
  const int steps = aio::run(amain());
  std::printf("total %lld steps %d\n", total, steps);
  return steps == 7 ? 0 : 1;
}
