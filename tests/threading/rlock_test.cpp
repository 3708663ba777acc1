#include "pyconc/threading/rlock.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "pyconc/threading/event.hpp"
#include "pyconc/threading/thread.hpp"

namespace th = pyconc::threading;
using namespace std::chrono_literals;

TEST(RLock, Reentrant) {
  th::RLock r;
  EXPECT_TRUE(r.acquire());
  EXPECT_TRUE(r.acquire());
  EXPECT_TRUE(r.acquire(true, 1ms));
  EXPECT_TRUE(r.is_owned());
  r.release();
  r.release();
  EXPECT_TRUE(r.locked());
  r.release();
  EXPECT_FALSE(r.locked());
  EXPECT_FALSE(r.is_owned());
  EXPECT_THROW(r.release(), pyconc::RuntimeError);
}

TEST(RLock, OtherThreadCannotReleaseOrTake) {
  th::RLock r;
  r.acquire();
  bool release_failed = false, acquired = true;
  std::string message;
  th::Thread t([&] {
    try {
      r.release();
    } catch (const pyconc::RuntimeError& e) {
      release_failed = true;
      message = e.what();
    }
    acquired = r.acquire(true, 20ms);
  });
  t.start();
  t.join();
  EXPECT_TRUE(release_failed);
  EXPECT_EQ(message, "cannot release un-acquired lock");
  EXPECT_FALSE(acquired);
  r.release();
}

TEST(RLock, HandsOverBetweenThreads) {
  th::RLock r;
  th::Event holding, done;
  r.acquire();
  r.acquire();
  th::Thread t([&] {
    holding.set();
    std::lock_guard g(r);
    std::lock_guard g2(r);
    done.set();
  });
  t.start();
  ASSERT_TRUE(holding.wait(10s));
  r.release();
  EXPECT_FALSE(done.wait(10ms));  // still held once
  r.release();
  EXPECT_TRUE(done.wait(10s));
  t.join();
  EXPECT_FALSE(r.locked());
}

TEST(RLock, NonBlockingAndTimeouts) {
  th::RLock r;
  EXPECT_THROW(r.acquire(false, 1s), pyconc::ValueError);
  EXPECT_TRUE(r.try_lock());
  EXPECT_TRUE(r.try_lock_until(std::chrono::steady_clock::now()));
  r.unlock();
  r.unlock();
  EXPECT_FALSE(r.locked());
}
