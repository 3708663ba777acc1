// mp::pool::ThreadPool: Pool's interface on threads -- map/starmap/imap/imap_unordered,
// apply/apply_async with callbacks, any callable, errors, close/join/terminate, initializer.
#include "pyconc/multiprocessing/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <forward_list>
#include <list>
#include <memory>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "pyconc/threading/barrier.hpp"
#include "pyconc/threading/event.hpp"

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;

namespace {
thread_local bool t_initialized = false;
}

TEST(ThreadPoolTest, MapStarmapApplyWithAnyCallable) {
  mp::pool::ThreadPool tp(4);
  EXPECT_EQ(tp.processes(), 4);
  long offset = 100;  // captured: no process boundary
  std::vector<long> xs(50);
  std::iota(xs.begin(), xs.end(), 0L);
  const auto r = tp.map([offset](long x) { return x * x + offset; }, xs);
  ASSERT_EQ(r.size(), 50U);
  for (long i = 0; i < 50; ++i) EXPECT_EQ(r[static_cast<std::size_t>(i)], i * i + offset);
  EXPECT_EQ(tp.map([](long x) { return x; }, xs, 7), xs);
  const std::forward_list<long> unsized(xs.begin(), xs.end());  // no size()
  EXPECT_EQ(tp.map([](long x) { return x / 2; }, unsized).size(), 50U);
  EXPECT_TRUE(tp.map([](int x) { return x; }, std::vector<int>{}).empty());

  std::vector<std::tuple<int, std::string>> pairs{{1, "a"}, {2, "b"}};
  EXPECT_EQ(tp.starmap([](int n, const std::string& s) { return std::string(n, s[0]); }, pairs),
            (std::vector<std::string>{"a", "bb"}));
  EXPECT_EQ(tp.apply([](int a, int b) { return a + b; }, 2, 3), 5);
  EXPECT_EQ(tp.apply_async([](int a, int b) { return a * b; }, std::make_tuple(4, 5)).get(5s), 20);
  auto owned = tp.apply_async([] { return std::make_unique<int>(7); });  // move-only result
  EXPECT_EQ(*owned.get(5s), 7);
  std::atomic<int> hits{0};
  const auto units = tp.map([&](int) { ++hits; }, std::list<int>{1, 2, 3});  // void: monostate
  EXPECT_EQ(units.size(), 3U);
  EXPECT_EQ(hits.load(), 3);
  tp.close();
  tp.join();
}

// The four threads really run at once (no GIL): four tasks meet at a barrier.
TEST(ThreadPoolTest, TasksRunInParallel) {
  mp::pool::ThreadPool tp(4);
  pyconc::threading::Barrier b(4);
  const auto idx = tp.map([&](int) { return b.wait(20s); }, std::vector<int>{0, 1, 2, 3}, 1);
  EXPECT_EQ(std::set<int>(idx.begin(), idx.end()), (std::set<int>{0, 1, 2, 3}));
}

TEST(ThreadPoolTest, CallbacksAndErrors) {
  mp::pool::ThreadPool tp(2);
  std::atomic<int> seen{0};
  auto ar =
      tp.apply_async([](int x) { return x + 1; }, std::make_tuple(41), [&](int& r) { seen = r; });
  EXPECT_EQ(ar.get(5s), 42);
  EXPECT_EQ(seen.load(), 42);  // the callback ran before the result became ready
  EXPECT_TRUE(ar.successful());

  std::atomic<bool> error_seen{false};
  auto bad = tp.apply_async([](int) -> int { throw std::invalid_argument("bad input"); },
                            std::make_tuple(1), nullptr,
                            [&](const std::exception_ptr& e) { error_seen = e != nullptr; });
  EXPECT_THROW(bad.get(5s), std::invalid_argument);  // the exception itself, not a RemoteError
  EXPECT_TRUE(error_seen.load());
  EXPECT_FALSE(bad.successful());

  auto fail_on_3 = [](int x) {
    if (x == 3) throw pyconc::ValueError("three");
    return x;
  };
  EXPECT_THROW(tp.map(fail_on_3, std::vector<int>{1, 2, 3, 4}), pyconc::ValueError);
  std::vector<int> got;
  auto it = tp.imap(fail_on_3, std::vector<int>{1, 2, 3, 4});
  auto i = it.begin();
  got.push_back(*i);
  ++i;
  got.push_back(*i);
  ++i;
  EXPECT_THROW(*i, pyconc::ValueError);  // at its position
  EXPECT_EQ(got, (std::vector<int>{1, 2}));

  std::vector<std::vector<int>> all;
  auto ma = tp.map_async([](int x) { return x * 2; }, std::vector<int>{1, 2}, 0,
                         [&](std::vector<int>& v) { all.push_back(v); });
  EXPECT_EQ(ma.get(5s), (std::vector<int>{2, 4}));
  ASSERT_EQ(all.size(), 1U);
  EXPECT_THROW(tp.imap([](int x) { return x; }, std::vector<int>{1}, 0), pyconc::ValueError);
}

TEST(ThreadPoolTest, ImapInOrderAndUnordered) {
  mp::pool::ThreadPool tp(3);
  std::vector<int> xs(40);
  std::iota(xs.begin(), xs.end(), 0);
  std::vector<int> ordered;
  for (int x : tp.imap([](int x) { return x * 3; }, xs, 4)) ordered.push_back(x);
  ASSERT_EQ(ordered.size(), 40U);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(ordered[static_cast<std::size_t>(i)], i * 3);
  std::multiset<int> unordered;
  for (int x : tp.imap_unordered([](int x) { return x + 1; }, xs, 3)) unordered.insert(x);
  EXPECT_EQ(unordered.size(), 40U);
  EXPECT_EQ(*unordered.begin(), 1);
  EXPECT_EQ(*unordered.rbegin(), 40);
}

TEST(ThreadPoolTest, CloseJoinTerminate) {
  {
    mp::pool::ThreadPool tp(1);
    EXPECT_THROW(tp.join(), pyconc::ValueError);  // still running
    auto ar = tp.apply_async([] { return 1; });
    tp.close();
    EXPECT_THROW(tp.apply_async([] { return 2; }), pyconc::ValueError);  // Pool not running
    tp.join();
    EXPECT_EQ(ar.get(), 1);
  }
  mp::pool::ThreadPool tp(1);
  pyconc::threading::Event started, release;
  auto running = tp.apply_async([&] {
    started.set();
    return release.wait(20s);
  });
  auto queued = tp.apply_async([] { return 2; });
  ASSERT_TRUE(started.wait(20s));
  tp.terminate();  // cancels what has not started
  release.set();
  tp.join();
  EXPECT_TRUE(running.get(5s));  // a running thread cannot be stopped: it finishes
  EXPECT_THROW(queued.get(5s), pyconc::CancelledError);
  EXPECT_THROW(mp::pool::ThreadPool(0), pyconc::ValueError);
}

TEST(ThreadPoolTest, InitializerRunsOnEveryThread) {
  mp::pool::ThreadPool tp(2, {.initializer = [] { t_initialized = true; }});
  const auto flags = tp.map([](int) { return t_initialized; }, std::vector<int>(20, 0));
  for (bool f : flags) EXPECT_TRUE(f);
}
