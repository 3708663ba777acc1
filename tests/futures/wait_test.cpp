#include "pyconc/futures/wait.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "pyconc/futures/thread_pool_executor.hpp"
#include "pyconc/threading/event.hpp"

namespace {
namespace cf = pyconc::futures;
namespace th = pyconc::threading;
using namespace std::chrono_literals;

TEST(Wait, EmptySetReturnsAtOnce) {
  std::vector<pyconc::Future<int>> none;
  auto [done, not_done] = cf::wait(none);
  EXPECT_TRUE(done.empty());
  EXPECT_TRUE(not_done.empty());
  auto r = cf::wait(none, 1ms, cf::FIRST_COMPLETED);
  EXPECT_TRUE(r.done.empty() && r.not_done.empty());
}

TEST(Wait, FirstCompleted) {
  pyconc::Future<int> a, b, c;
  th::Event go;
  cf::ThreadPoolExecutor pool(1);
  pool.submit([&] {
    go.wait(10s);
    b.set_result(2);
  });
  go.set();
  auto [done, not_done] = cf::wait(std::vector{a, b, c}, 10s, cf::FIRST_COMPLETED);
  ASSERT_EQ(done.size(), 1U);
  EXPECT_TRUE(done[0] == b);
  EXPECT_EQ(not_done.size(), 2U);
}

TEST(Wait, FirstExceptionIgnoresCancelled) {
  pyconc::Future<int> a, b, c;
  a.cancel();
  cf::ThreadPoolExecutor pool(1);
  pool.submit([&] { c.set_exception(std::runtime_error("c failed")); });
  auto [done, not_done] = cf::wait(std::vector{a, b, c}, 10s, cf::FIRST_EXCEPTION);
  EXPECT_EQ(done.size(), 2U);  // a (cancelled) and c (failed)
  ASSERT_EQ(not_done.size(), 1U);
  EXPECT_TRUE(not_done[0] == b);
}

TEST(Wait, AllCompletedAndTimeout) {
  pyconc::Future<int> a, b;
  a.set_result(1);
  const auto t0 = std::chrono::steady_clock::now();
  auto r = cf::wait(std::vector{a, b}, 20ms);  // ALL_COMPLETED: times out, never throws
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
  EXPECT_EQ(r.done.size(), 1U);
  EXPECT_EQ(r.not_done.size(), 1U);
  b.set_result(2);
  auto all = cf::wait(std::vector{a, b});
  EXPECT_EQ(all.done.size(), 2U);
}

TEST(Wait, DuplicatesCountOnce) {
  pyconc::Future<int> a;
  a.set_result(1);
  auto r = cf::wait(std::vector{a, a, a});
  EXPECT_EQ(r.done.size(), 1U);
}

TEST(Wait, MixOfExecutors) {
  cf::ThreadPoolExecutor p1(1), p2(2);
  std::vector<pyconc::Future<int>> fs;
  for (int i = 0; i < 10; ++i) {
    fs.push_back(p1.submit([i] { return i; }));
    fs.push_back(p2.submit([i] { return -i; }));
  }
  pyconc::Future<int> manual;
  fs.push_back(manual);
  manual.set_result(100);
  auto [done, not_done] = cf::wait(fs, 30s);
  EXPECT_EQ(done.size(), 21U);
  EXPECT_TRUE(not_done.empty());
}

TEST(AsCompleted, FinishedFirstThenInCompletionOrder) {
  pyconc::Future<std::string> early, mid, late;
  early.set_result("early");
  cf::ThreadPoolExecutor pool(1);
  th::Event first_taken;
  std::vector<std::string> order;
  pool.submit([&] {
    first_taken.wait(10s);
    mid.set_result("mid");
    late.set_result("late");
  });
  for (auto& f : cf::as_completed(std::vector{late, mid, early, early}, 10s)) {
    order.push_back(f.result());
    first_taken.set();
  }
  EXPECT_EQ(order, (std::vector<std::string>{"early", "mid", "late"}));
}

TEST(AsCompleted, TimeoutWithPendingFutures) {
  pyconc::Future<int> done, pending1, pending2;
  done.set_result(1);
  std::vector<int> got;
  try {
    for (auto& f : cf::as_completed(std::vector{done, pending1, pending2}, 20ms)) {
      got.push_back(f.result());
    }
    FAIL() << "expected TimeoutError";
  } catch (const pyconc::TimeoutError& e) {
    EXPECT_STREQ(e.what(), "2 (of 3) futures unfinished");
  }
  EXPECT_EQ(got, std::vector<int>{1});
  // The range unregistered itself: completing the futures now is harmless.
  pending1.set_result(2);
  pending2.set_result(3);
}

TEST(AsCompleted, ManyFuturesFromAPool) {
  cf::ThreadPoolExecutor pool(4);
  std::vector<pyconc::Future<int>> fs;
  for (int i = 0; i < 1000; ++i) fs.push_back(pool.submit([i] { return i; }));
  long sum = 0;
  int n = 0;
  for (auto& f : cf::as_completed(fs)) {
    sum += f.result();
    ++n;
  }
  EXPECT_EQ(n, 1000);
  EXPECT_EQ(sum, 999L * 1000 / 2);
}

TEST(AsCompleted, BreakingEarlyIsSafe) {
  cf::ThreadPoolExecutor pool(2);
  std::vector<pyconc::Future<int>> fs;
  for (int i = 0; i < 100; ++i) fs.push_back(pool.submit([i] { return i; }));
  for (auto& f : cf::as_completed(fs)) {
    (void)f;
    break;
  }
  pool.shutdown(true);
}

}  // namespace

namespace {
TEST(AsCompleted, MapKeyedByFutures) {
  cf::ThreadPoolExecutor pool(2);
  std::unordered_map<pyconc::Future<int>, std::string> futures;
  for (int i = 0; i < 5; ++i)
    futures.emplace(pool.submit([i] { return i * 10; }), "url" + std::to_string(i));
  int n = 0;
  for (auto& f : cf::as_completed(futures, 10s)) {
    EXPECT_EQ(futures.at(f), "url" + std::to_string(f.result() / 10));
    ++n;
  }
  EXPECT_EQ(n, 5);
  auto [done, not_done] = cf::wait(futures);
  EXPECT_EQ(done.size(), 5U);
}
}  // namespace
