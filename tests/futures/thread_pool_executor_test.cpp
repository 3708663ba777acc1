#include "pyconc/futures/thread_pool_executor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <list>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "pyconc/detail/cpu.hpp"
#include "pyconc/futures/exceptions.hpp"
#include "pyconc/threading/event.hpp"
#include "pyconc/threading/thread.hpp"

namespace {
namespace cf = pyconc::futures;
namespace th = pyconc::threading;
using namespace std::chrono_literals;

bool is_prime(long long n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (long long i = 3; i * i <= n; i += 2) {
    if (n % i == 0) return false;
  }
  return true;
}

TEST(ThreadPoolExecutor, SubmitAndResult) {
  cf::ThreadPoolExecutor pool(2);
  pyconc::Future<bool> f = pool.submit(is_prime, 112272535095293LL);
  EXPECT_TRUE(f.result(30s));
  auto g = pool.submit([](int a, int b) { return a * b; }, 6, 7);
  EXPECT_EQ(g.result(10s), 42);
  auto v = pool.submit([] {});
  v.result(10s);
  EXPECT_TRUE(v.done());
}

TEST(ThreadPoolExecutor, MoveOnlyArgumentsAndResults) {
  cf::ThreadPoolExecutor pool(2);
  auto f = pool.submit([](std::unique_ptr<int> p) { return std::make_unique<int>(*p * 2); },
                       std::make_unique<int>(21));
  EXPECT_EQ(*f.result(10s), 42);
}

TEST(ThreadPoolExecutor, DefaultMaxWorkersFollowsPython) {
  const int expected = std::min(32, pyconc::detail::process_cpu_count() + 4);
  EXPECT_EQ(cf::ThreadPoolExecutor::default_max_workers(), expected);
  cf::ThreadPoolExecutor pool;
  EXPECT_EQ(pool.max_workers(), expected);
  EXPECT_THROW(cf::ThreadPoolExecutor(0), pyconc::ValueError);
  EXPECT_THROW(cf::ThreadPoolExecutor(-3), pyconc::ValueError);
}

TEST(ThreadPoolExecutor, WorkersStartLazily) {
  cf::ThreadPoolExecutor pool(4);
  EXPECT_EQ(pool.num_threads(), 0);
  pool.submit([] {}).result(10s);
  EXPECT_GE(pool.num_threads(), 1);
  for (int i = 0; i < 100; ++i) pool.submit([] {}).result(10s);
  EXPECT_LE(pool.num_threads(), 4);
}

TEST(ThreadPoolExecutor, ExceptionTypePreserved) {
  cf::ThreadPoolExecutor pool(2);
  auto f = pool.submit([]() -> int { throw std::invalid_argument("bad arg"); });
  try {
    f.result(10s);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "bad arg");
  }
  auto g = pool.submit([] { throw pyconc::ValueError("value"); });
  EXPECT_THROW(g.result(10s), pyconc::ValueError);
}

TEST(ThreadPoolExecutor, CancelQueuedTaskNeverRuns) {
  cf::ThreadPoolExecutor pool(1);
  th::Event started, release;
  std::atomic<bool> second_ran{false};
  auto blocker = pool.submit([&] {
    started.set();
    release.wait(10s);
  });
  ASSERT_TRUE(started.wait(10s));
  auto queued = pool.submit([&] { second_ran = true; });
  EXPECT_FALSE(blocker.cancel());  // running
  EXPECT_TRUE(queued.cancel());
  EXPECT_TRUE(queued.cancelled());
  release.set();
  pool.shutdown(true);
  EXPECT_FALSE(second_ran);
  EXPECT_THROW(queued.result(), pyconc::CancelledError);
}

TEST(ThreadPoolExecutor, ShutdownCancelFutures) {
  cf::ThreadPoolExecutor pool(1);
  th::Event started, release;
  std::atomic<int> ran{0};
  auto blocker = pool.submit([&] {
    started.set();
    release.wait(10s);
  });
  ASSERT_TRUE(started.wait(10s));
  std::vector<pyconc::Future<void>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(pool.submit([&] { ++ran; }));
  pool.shutdown(false, true);
  for (auto& f : queued) EXPECT_TRUE(f.cancelled());
  release.set();
  blocker.result(10s);  // the running one finishes normally
  pool.shutdown(true);
  EXPECT_EQ(ran.load(), 0);
}

TEST(ThreadPoolExecutor, ShutdownWaitRunsQueuedWork) {
  std::atomic<int> ran{0};
  {
    cf::ThreadPoolExecutor pool(2);
    for (int i = 0; i < 100; ++i) pool.submit([&] { ++ran; });
    pool.shutdown(true);
    EXPECT_EQ(ran.load(), 100);
    try {
      pool.submit([] {});
      FAIL();
    } catch (const pyconc::RuntimeError& e) {
      EXPECT_STREQ(e.what(), "cannot schedule new futures after shutdown");
    }
  }
  {
    cf::ThreadPoolExecutor pool(2);
    for (int i = 0; i < 100; ++i) pool.submit([&] { ++ran; });
  }  // destructor = shutdown(true)
  EXPECT_EQ(ran.load(), 200);
}

TEST(ThreadPoolExecutor, CallbacksOnEveryPath) {
  cf::ThreadPoolExecutor pool(1);
  std::atomic<int> ok{0}, failed{0}, cancelled{0};
  th::Event started, release;
  pool.submit([&] {
    started.set();
    release.wait(10s);
  });
  ASSERT_TRUE(started.wait(10s));
  auto a = pool.submit([] { return 1; });
  auto b = pool.submit([]() -> int { throw std::runtime_error("x"); });
  auto c = pool.submit([] { return 3; });
  a.add_done_callback([&](pyconc::Future<int>& f) { ok += f.result(); });
  b.add_done_callback([&](pyconc::Future<int>& f) { failed += f.exception() != nullptr; });
  c.add_done_callback([&](pyconc::Future<int>& f) { cancelled += f.cancelled(); });
  EXPECT_TRUE(c.cancel());
  EXPECT_EQ(cancelled.load(), 1);
  release.set();
  pool.shutdown(true);
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(failed.load(), 1);
}

TEST(ThreadPoolExecutor, ThrowingCallbackDoesNotBreakThePool) {
  cf::ThreadPoolExecutor pool(1);
  testing::internal::CaptureStderr();
  auto f = pool.submit([] { return 1; });
  f.add_done_callback([](pyconc::Future<int>&) { throw std::runtime_error("cb"); });
  f.result(10s);
  EXPECT_EQ(pool.submit([] { return 2; }).result(10s), 2);
  pool.shutdown(true);
  testing::internal::GetCapturedStderr();
}

TEST(ThreadPoolExecutor, ThreadNamesAndInitializer) {
  std::atomic<int> inits{0};
  cf::ThreadPoolExecutor pool(2,
                              {.thread_name_prefix = "crawler", .initializer = [&] { ++inits; }});
  const std::string name = pool.submit([] { return th::current_thread().name(); }).result(10s);
  EXPECT_EQ(name.rfind("crawler_", 0), 0U) << name;
  pool.shutdown(true);
  EXPECT_EQ(inits.load(), pool.num_threads());
}

TEST(ThreadPoolExecutor, FailingInitializerBreaksThePool) {
  testing::internal::CaptureStderr();
  cf::ThreadPoolExecutor pool(1, {.initializer = [] { throw std::runtime_error("no init"); }});
  auto f = pool.submit([] { return 1; });
  EXPECT_THROW(f.result(10s), cf::BrokenThreadPool);
  EXPECT_THROW(pool.submit([] { return 2; }), cf::BrokenThreadPool);
  EXPECT_THROW(pool.submit([] { return 2; }), pyconc::BrokenExecutor);
  pool.shutdown(true);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Exception in initializer"), std::string::npos) << err;
}

// A task submitting to its own pool and waiting: with one worker this would deadlock unless
// the waiting worker runs the queued subtask itself.
long fib(cf::ThreadPoolExecutor& pool, int n) {
  if (n < 2) return n;
  auto a = pool.submit([&pool, n] { return fib(pool, n - 1); });
  const long b = fib(pool, n - 2);
  return a.result(30s) + b;
}

TEST(ThreadPoolExecutor, RecursiveSubmitDoesNotDeadlock) {
  for (int workers : {1, 2, 4}) {
    cf::ThreadPoolExecutor pool(workers);
    EXPECT_EQ(pool.submit([&] { return fib(pool, 15); }).result(60s), 610) << workers;
  }
}

TEST(ThreadPoolExecutor, SubmitFromManyThreads) {
  cf::ThreadPoolExecutor pool(3);
  std::atomic<long> sum{0};
  std::vector<th::Thread> submitters;
  for (int t = 0; t < 4; ++t) {
    submitters.emplace_back([&] {
      std::vector<pyconc::Future<void>> fs;
      for (int i = 1; i <= 1000; ++i) fs.push_back(pool.submit([&sum, i] { sum += i; }));
      for (auto& f : fs) f.result(30s);
    });
  }
  for (auto& t : submitters) t.start();
  for (auto& t : submitters) t.join();
  EXPECT_EQ(sum.load(), 4L * 500500);
}

TEST(ThreadPoolExecutorMap, InputOrder) {
  cf::ThreadPoolExecutor pool(4);
  std::vector<int> xs(100);
  std::iota(xs.begin(), xs.end(), 0);
  std::vector<int> out;
  for (int r : pool.map([](int x) { return x * x; }, xs)) out.push_back(r);
  ASSERT_EQ(out.size(), 100U);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(out[i], i * i);
}

TEST(ThreadPoolExecutorMap, SeveralIterablesZipToTheShortest) {
  cf::ThreadPoolExecutor pool(2);
  std::vector<int> xs{1, 2, 3, 4};
  std::list<std::string> ys{"a", "b", "c"};
  auto results = pool.map([](int x, const std::string& y) { return y + std::to_string(x); }, xs, ys)
                     .to_vector();
  EXPECT_EQ(results, (std::vector<std::string>{"a1", "b2", "c3"}));
}

TEST(ThreadPoolExecutorMap, ExceptionSurfacesAtItsItem) {
  cf::ThreadPoolExecutor pool(2);
  std::vector<int> xs{1, 2, 3};
  auto results = pool.map(
      [](int x) {
        if (x == 2) throw std::domain_error("two");
        return x;
      },
      xs);
  auto it = results.begin();
  EXPECT_EQ(*it, 1);
  ++it;
  EXPECT_THROW(*it, std::domain_error);
}

TEST(ThreadPoolExecutorMap, ChunksizeVoidAndOptions) {
  cf::ThreadPoolExecutor pool(2);
  std::vector<int> xs(1000);
  std::iota(xs.begin(), xs.end(), 1);
  long sum = 0;
  for (int r : pool.map([](int x) { return x; }, xs, cf::MapOptions{.chunksize = 64})) sum += r;
  EXPECT_EQ(sum, 500500);
  std::atomic<int> calls{0};
  auto voids = pool.map([&](int) { ++calls; }, xs, cf::MapOptions{.timeout = 30s, .chunksize = 7});
  EXPECT_EQ(voids.to_vector().size(), 1000U);
  EXPECT_EQ(calls.load(), 1000);
  EXPECT_THROW(pool.map([](int x) { return x; }, xs, cf::MapOptions{.chunksize = 0}),
               pyconc::ValueError);
}

TEST(ThreadPoolExecutorMap, TimeoutAndEarlyExitCancels) {
  cf::ThreadPoolExecutor pool(1);
  th::Event started, release;
  std::atomic<int> ran{0};
  std::vector<int> xs{0, 1, 2, 3};
  {
    auto results = pool.map(
        [&](int x) {
          if (x == 0) {
            started.set();
            release.wait(10s);
          }
          ++ran;
          return x;
        },
        xs, cf::MapOptions{.timeout = 20ms});
    // Item 0 runs (a slow machine may take longer than the timeout to start it: then it would
    // be cancelled with the others), items 1..3 wait behind it on the single worker.
    ASSERT_TRUE(started.wait(10s));
    EXPECT_THROW(*results.begin(), pyconc::TimeoutError);
  }  // leaving the loop: items 1..3 never started and are cancelled
  release.set();
  pool.shutdown(true);
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace

namespace {
TEST(ThreadPoolExecutorMap, NeverIteratedResultCancelsNothing) {
  std::atomic<int> ran{0};
  {
    cf::ThreadPoolExecutor pool(2);
    pool.map([&](int) { ++ran; }, std::vector<int>(20, 1));  // discarded, as Python allows
    cf::MapResult<int> later;                                // `results = executor.map(...)`
    later = pool.map([&](int x) { return ++ran + x; }, std::vector<int>(20, 1));
  }
  EXPECT_EQ(ran.load(), 40);
}

TEST(ThreadPoolExecutorMap, ReferencesIntoTheResults) {
  cf::ThreadPoolExecutor pool(2);
  std::vector<std::string> names{"a", "b"};
  std::vector<std::string> out;
  for (auto& s : pool.map([](const std::string& x) { return x + x; }, names))
    out.push_back(std::move(s));
  EXPECT_EQ(out, (std::vector<std::string>{"aa", "bb"}));
}
}  // namespace
