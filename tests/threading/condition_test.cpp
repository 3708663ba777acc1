#include "pyconc/threading/condition.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <vector>

#include "pyconc/threading/event.hpp"
#include "pyconc/threading/thread.hpp"

namespace th = pyconc::threading;
using namespace std::chrono_literals;

TEST(Condition, WaitRequiresLock) {
  th::Condition cv;
  EXPECT_THROW(cv.wait(1ms), pyconc::RuntimeError);
  EXPECT_THROW(cv.notify(), pyconc::RuntimeError);
  EXPECT_THROW(cv.notify_all(), pyconc::RuntimeError);
}

TEST(Condition, WaitTimesOutAndReacquires) {
  th::Condition cv;
  std::lock_guard g(cv);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(cv.wait(20ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
  cv.notify();  // still owned after the wait: must not throw
  EXPECT_THROW(cv.wait(-1ms), pyconc::ValueError);
}

TEST(Condition, WaitForPredicate) {
  th::Condition cv;
  bool ready = false;
  th::Thread t([&] {
    std::lock_guard g(cv);
    ready = true;
    cv.notify_all();
  });
  {
    std::lock_guard g(cv);
    t.start();
    EXPECT_TRUE(cv.wait_for([&] { return ready; }, 10s));
  }
  t.join();
  std::lock_guard g(cv);
  EXPECT_FALSE(cv.wait_for([] { return false; }, 10ms));
  EXPECT_EQ(cv.wait_for([] { return 7; }), 7);  // returns the predicate's value
}

TEST(Condition, RLockLevelsAreRestored) {
  th::RLock r;
  th::Condition cv(r);
  r.acquire();
  r.acquire();
  std::atomic<bool> other_got_lock{false};
  th::Thread t([&] {
    std::lock_guard g(cv);  // possible only if wait() released every level
    other_got_lock = true;
    cv.notify();
  });
  t.start();
  EXPECT_TRUE(cv.wait(10s));
  EXPECT_TRUE(other_got_lock);
  r.release();
  EXPECT_TRUE(r.is_owned());  // the second level is back
  r.release();
  EXPECT_FALSE(r.locked());
  t.join();
}

TEST(Condition, NotifyWakesExactlyNInFifoOrder) {
  th::Lock lock;
  th::Condition cv(lock), queued(lock);  // two conditions sharing one lock, as in Python
  constexpr int kWaiters = 4;
  int waiting = 0;
  std::vector<int> woken;
  std::vector<th::Thread> ts;
  for (int i = 0; i < kWaiters; ++i) {
    ts.emplace_back([&, i] {
      std::lock_guard g(cv);
      ++waiting;
      queued.notify();  // tell the main thread we are (about to be) queued on cv
      // Wait for our turn: wait() returns true only when notified.
      while (!cv.wait(10s)) {
      }
      woken.push_back(i);
    });
  }
  std::unique_lock g(cv);
  // Start them one at a time so that the FIFO order is known.
  for (int i = 0; i < kWaiters; ++i) {
    ts[i].start();
    // The worker enqueues on cv before it releases the lock, so once we hold the lock again
    // it is in cv's queue.
    ASSERT_TRUE(queued.wait_for([&] { return waiting == i + 1; }, 10s));
  }
  // Queue: 0, 1, 2, 3. notify(1) must pick exactly the longest waiter.
  cv.notify(1);
  g.unlock();
  ASSERT_TRUE(ts[0].join(10s));
  EXPECT_TRUE(ts[1].is_alive() && ts[2].is_alive() && ts[3].is_alive());
  // notify(2) picks the next two (they then race for the lock, so compare as a set).
  g.lock();
  cv.notify(2);
  g.unlock();
  ASSERT_TRUE(ts[1].join(10s));
  ASSERT_TRUE(ts[2].join(10s));
  EXPECT_TRUE(ts[3].is_alive());
  g.lock();
  ASSERT_EQ(woken.size(), 3U);
  EXPECT_EQ(woken[0], 0);
  std::sort(woken.begin() + 1, woken.end());
  EXPECT_EQ(woken, (std::vector<int>{0, 1, 2}));
  cv.notify_all();
  g.unlock();
  ASSERT_TRUE(ts[3].join(10s));
  EXPECT_EQ(woken.back(), 3);
}

TEST(Condition, ProducerConsumer) {
  th::Condition cv;
  std::deque<int> items;
  constexpr int kItems = 20000;
  long sum = 0;
  th::Thread consumer([&] {
    for (int n = 0; n < kItems; ++n) {
      std::lock_guard g(cv);
      cv.wait_for([&] { return !items.empty(); });
      sum += items.front();
      items.pop_front();
    }
  });
  consumer.start();
  for (int i = 1; i <= kItems; ++i) {
    std::lock_guard g(cv);
    items.push_back(i);
    cv.notify();
  }
  ASSERT_TRUE(consumer.join(30s));
  EXPECT_EQ(sum, static_cast<long>(kItems) * (kItems + 1) / 2);
}
