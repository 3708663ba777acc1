#include "pyconc/threading/timer.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace th = pyconc::threading;
using namespace std::chrono_literals;

TEST(Timer, FiresAfterInterval) {
  std::atomic<int> fired{0};
  const auto t0 = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration elapsed{};
  th::Timer tm(
      30ms,
      [&](int v) {
        elapsed = std::chrono::steady_clock::now() - t0;
        fired = v;
      },
      7);
  tm.start();
  ASSERT_TRUE(tm.join(10s));
  EXPECT_EQ(fired.load(), 7);
  EXPECT_GE(elapsed, 30ms);
}

TEST(Timer, CancelBeforeFiring) {
  std::atomic<bool> fired{false};
  th::Timer tm(10s, [&] { fired = true; });
  tm.start();
  tm.cancel();
  ASSERT_TRUE(tm.join(5s));  // returns promptly, long before the interval
  EXPECT_FALSE(fired);
}

TEST(Timer, CancelAfterFiringIsHarmless) {
  std::atomic<bool> fired{false};
  th::Timer tm(0ms, [&] { fired = true; });
  tm.start();
  tm.join();
  tm.cancel();
  EXPECT_TRUE(fired);
}

TEST(Timer, DaemonTimerIsCancelledByDestructor) {
  std::atomic<bool> fired{false};
  {
    th::Timer tm({.name = "t", .daemon = true}, 10s, [&] { fired = true; });
    tm.start();
  }  // returns at once: cancelled, joined
  EXPECT_FALSE(fired);
}

TEST(Timer, NegativeIntervalIsValueError) {
  EXPECT_THROW(th::Timer(-1s, [] {}), pyconc::ValueError);
}
