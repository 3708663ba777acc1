#include "pyconc/threading/lock.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "pyconc/threading/event.hpp"
#include "pyconc/threading/thread.hpp"

namespace th = pyconc::threading;
using namespace std::chrono_literals;

TEST(Lock, AcquireReleaseLocked) {
  th::Lock lock;
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(lock.acquire(false));  // not re-entrant
  lock.release();
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, ReleaseUnlockedRaises) {
  th::Lock lock;
  try {
    lock.release();
    FAIL() << "expected RuntimeError";
  } catch (const pyconc::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "release unlocked lock");
  }
  EXPECT_FALSE(lock.locked());  // and the lock is still usable
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(Lock, TimeoutArguments) {
  th::Lock lock;
  EXPECT_THROW(lock.acquire(false, 1s), pyconc::ValueError);
  EXPECT_THROW(lock.acquire(true, -1ms), pyconc::ValueError);
  lock.acquire();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(lock.acquire(true, 30ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 30ms);
  EXPECT_FALSE(lock.acquire(true, 0ms));
  EXPECT_FALSE(lock.try_lock_for(1ms));
  EXPECT_FALSE(lock.try_lock_until(std::chrono::steady_clock::now() + 1ms));
  lock.release();
  EXPECT_TRUE(lock.acquire(true, std::chrono::hours::max()));  // saturates, no overflow
  lock.release();
}

TEST(Lock, AnotherThreadMayRelease) {
  // Python's Lock is not owned: it can be used as a binary signal between threads.
  th::Lock lock;
  lock.acquire();
  th::Thread t([&] { lock.release(); });
  t.start();
  EXPECT_TRUE(lock.acquire(true, 10s));
  t.join();
  lock.release();
}

TEST(Lock, BlockedAcquirerWakesOnRelease) {
  th::Lock lock;
  th::Event trying, got;
  lock.acquire();
  th::Thread t([&] {
    trying.set();
    if (lock.acquire(true, 10s)) {
      got.set();
      lock.release();
    }
  });
  t.start();
  ASSERT_TRUE(trying.wait(10s));
  EXPECT_FALSE(got.is_set());
  lock.release();
  EXPECT_TRUE(got.wait(10s));
  t.join();
}

TEST(Lock, WorksWithStdLockGuards) {
  th::Lock a, b;
  {
    std::lock_guard g(a);
    EXPECT_TRUE(a.locked());
  }
  EXPECT_FALSE(a.locked());
  {
    std::scoped_lock both(a, b);
    EXPECT_TRUE(a.locked() && b.locked());
  }
  EXPECT_FALSE(a.locked() || b.locked());
  std::unique_lock u(a, std::defer_lock);
  EXPECT_TRUE(u.try_lock_for(10ms));
}

class LockStress : public ::testing::TestWithParam<int> {};

TEST_P(LockStress, MutualExclusion) {
  const int threads = GetParam();
  constexpr int kIters = 50000;
  th::Lock lock;
  long counter = 0;  // plain: the lock is what makes this race-free (TSan checks it)
  std::vector<th::Thread> ts;
  for (int i = 0; i < threads; ++i) {
    ts.emplace_back([&] {
      for (int k = 0; k < kIters; ++k) {
        std::lock_guard g(lock);
        ++counter;
      }
    });
  }
  for (auto& t : ts) t.start();
  for (auto& t : ts) t.join();
  EXPECT_EQ(counter, static_cast<long>(threads) * kIters);
}

INSTANTIATE_TEST_SUITE_P(Workers, LockStress, ::testing::Values(1, 2, 4, 8));
