// 10^6 tasks through ThreadPoolExecutor (and wait/as_completed), at 1, 2, 4 and 8 workers, run
// under ThreadSanitizer by `make tsan`. Labelled `stress`.
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "pyconc/futures.hpp"

namespace {
namespace cf = pyconc::futures;
using namespace std::chrono_literals;

class ThreadPoolStress : public ::testing::TestWithParam<int> {};

TEST_P(ThreadPoolStress, QuarterMillionTasksEach) {
  // 4 worker counts x 250k = 10^6 tasks in all.
  constexpr int kTasks = 250'000;
  cf::ThreadPoolExecutor pool(GetParam());
  std::atomic<long> sum{0};
  std::vector<pyconc::Future<int>> fs;
  fs.reserve(kTasks);
  for (int i = 0; i < kTasks; ++i) {
    fs.push_back(pool.submit([&sum, i] {
      sum.fetch_add(i, std::memory_order_relaxed);
      return i & 1;
    }));
  }
  long odd = 0;
  for (auto& f : fs) odd += f.result(120s);
  EXPECT_EQ(odd, kTasks / 2);
  EXPECT_EQ(sum.load(), static_cast<long>(kTasks) * (kTasks - 1) / 2);
  auto [done, not_done] = cf::wait(fs, 10s);
  EXPECT_EQ(done.size(), static_cast<size_t>(kTasks));
}

TEST_P(ThreadPoolStress, NestedSubmitsAndCancels) {
  cf::ThreadPoolExecutor pool(GetParam());
  std::atomic<int> ran{0};
  std::vector<pyconc::Future<int>> outer;
  for (int i = 0; i < 2000; ++i) {
    outer.push_back(pool.submit([&pool, &ran] {
      auto a = pool.submit([&ran] { return ++ran; });
      auto b = pool.submit([&ran] { return ++ran; });
      b.cancel();  // may or may not win against a worker
      return a.result(60s) > 0 ? 1 : 0;
    }));
  }
  int n = 0;
  for (auto& f : cf::as_completed(outer, 120s)) n += f.result();
  EXPECT_EQ(n, 2000);
}

INSTANTIATE_TEST_SUITE_P(Workers, ThreadPoolStress, ::testing::Values(1, 2, 4, 8));

}  // namespace
