#include "pyconc/threading/semaphore.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include "pyconc/threading/event.hpp"
#include "pyconc/threading/thread.hpp"

namespace th = pyconc::threading;
using namespace std::chrono_literals;

TEST(Semaphore, CountsDownAndUp) {
  th::Semaphore s(2);
  EXPECT_TRUE(s.acquire());
  EXPECT_TRUE(s.acquire(false));
  EXPECT_FALSE(s.acquire(false));
  EXPECT_FALSE(s.acquire(true, 10ms));
  s.release(2);
  EXPECT_EQ(s.value(), 2);
  s.release();  // a plain Semaphore may exceed its initial value
  EXPECT_EQ(s.value(), 3);
}

TEST(Semaphore, BadArguments) {
  EXPECT_THROW(th::Semaphore(-1), pyconc::ValueError);
  th::Semaphore s(0);
  EXPECT_THROW(s.release(0), pyconc::ValueError);
  EXPECT_THROW(s.acquire(false, 1s), pyconc::ValueError);
  EXPECT_THROW(s.acquire(true, -1s), pyconc::ValueError);
}

TEST(Semaphore, ReleaseWakesWaiters) {
  th::Semaphore s(0);
  std::atomic<int> got{0};
  th::Event started;
  std::vector<th::Thread> ts;
  for (int i = 0; i < 3; ++i) {
    ts.emplace_back([&] {
      if (s.acquire(true, 10s)) ++got;
    });
  }
  for (auto& t : ts) t.start();
  s.release(3);
  for (auto& t : ts) t.join();
  EXPECT_EQ(got.load(), 3);
  EXPECT_EQ(s.value(), 0);
}

TEST(BoundedSemaphore, OverReleaseIsValueError) {
  th::BoundedSemaphore b(2);
  try {
    b.release();
    FAIL() << "expected ValueError";
  } catch (const pyconc::ValueError& e) {
    EXPECT_STREQ(e.what(), "Semaphore released too many times");
  }
  EXPECT_EQ(b.value(), 2);  // unchanged
  b.acquire();
  b.acquire();
  EXPECT_THROW(b.release(3), pyconc::ValueError);
  EXPECT_EQ(b.value(), 0);
  b.release(2);
  EXPECT_EQ(b.value(), 2);
  {
    std::lock_guard g(b);
    EXPECT_EQ(b.value(), 1);
  }
  EXPECT_EQ(b.value(), 2);
}

// Code written against Semaphore& (a function taking any semaphore) must not lose the bound.
void give_back(th::Semaphore& s, int n) {
  s.release(n);
}

TEST(BoundedSemaphore, BoundHoldsThroughABaseReference) {
  th::BoundedSemaphore b(1);
  th::Semaphore& base = b;
  try {
    base.release();
    FAIL() << "expected ValueError";
  } catch (const pyconc::ValueError& e) {
    EXPECT_STREQ(e.what(), "Semaphore released too many times");
  }
  EXPECT_EQ(b.value(), 1);
  EXPECT_THROW(give_back(b, 1), pyconc::ValueError);
  EXPECT_THROW(base.unlock(), pyconc::ValueError);  // Lockable's unlock through the base too
  EXPECT_EQ(b.value(), 1);
  ASSERT_TRUE(base.acquire(false));
  give_back(b, 1);  // within the bound: fine
  EXPECT_EQ(b.value(), 1);

  th::BoundedSemaphore zero(0);  // Python allows 0: every release is one too many
  th::Semaphore& zbase = zero;
  EXPECT_THROW(zbase.release(), pyconc::ValueError);
  EXPECT_EQ(zero.initial_value(), 0);
  EXPECT_EQ(b.initial_value(), 1);

  th::Semaphore plain(0);  // a plain one has no bound but the counter's range
  give_back(plain, 5);
  EXPECT_EQ(plain.value(), 5);
}

class SemaphoreStress : public ::testing::TestWithParam<int> {};

TEST_P(SemaphoreStress, NeverMoreThanValueInside) {
  const int threads = GetParam();
  th::Semaphore s(2);
  std::atomic<int> inside{0}, max_inside{0};
  std::vector<th::Thread> ts;
  for (int i = 0; i < threads; ++i) {
    ts.emplace_back([&] {
      for (int k = 0; k < 5000; ++k) {
        std::lock_guard g(s);
        const int now = ++inside;
        int m = max_inside.load();
        while (now > m && !max_inside.compare_exchange_weak(m, now)) {
        }
        --inside;
      }
    });
  }
  for (auto& t : ts) t.start();
  for (auto& t : ts) t.join();
  EXPECT_LE(max_inside.load(), 2);
  EXPECT_EQ(s.value(), 2);
}

INSTANTIATE_TEST_SUITE_P(Workers, SemaphoreStress, ::testing::Values(1, 2, 4, 8));
