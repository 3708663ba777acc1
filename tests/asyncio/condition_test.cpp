#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "prim_util.hpp"
#include "pyconc/asyncio/condition.hpp"

namespace {

using prim_test::run_bounded;
using prim_test::yield_n;

TEST(AsyncCondition, WaitAndNotifyNeedTheLock) {
  run_bounded([]() -> aio::Task<> {
    aio::Condition cond;
    EXPECT_THROW(co_await cond.wait(), pyconc::RuntimeError);
    EXPECT_THROW(cond.notify(), pyconc::RuntimeError);
    EXPECT_THROW(cond.notify_all(), pyconc::RuntimeError);
    auto held = co_await cond.acquire();
    EXPECT_TRUE(cond.locked());
    cond.notify();  // nobody waits: fine
    cond.notify_all();
  }());
}

// A waiter that records when it returns, and whether it holds the lock then.
aio::Task<> waiter(aio::Condition& cond, std::vector<std::string>& log, std::string name) {
  auto held = co_await cond.acquire();
  try {
    const bool r = co_await cond.wait();
    log.push_back(name + (r ? " notified" : " false") + (cond.locked() ? " locked" : " UNLOCKED"));
  } catch (const pyconc::CancelledError&) {
    log.push_back(name + " cancelled" + (cond.locked() ? " locked" : " UNLOCKED"));
    throw;
  }
  co_await yield_n();  // keep the lock across a suspension: the others must wait for it
}

TEST(AsyncCondition, NotifyWakesInOrderEachWithTheLock) {
  run_bounded([]() -> aio::Task<> {
    aio::Condition cond;
    std::vector<std::string> log;
    std::vector<aio::Task<>> ws;
    for (const char* n : {"A", "B", "C", "D"}) ws.push_back(aio::create_task(waiter(cond, log, n)));
    co_await yield_n();  // all waiting, lock free again
    EXPECT_FALSE(cond.locked());
    {
      auto held = co_await cond.acquire();
      cond.notify(2);
    }
    co_await ws[0];
    co_await ws[1];
    EXPECT_EQ(log, (std::vector<std::string>{"A notified locked", "B notified locked"}));
    {
      auto held = co_await cond.acquire();
      cond.notify_all();
    }
    co_await ws[2];
    co_await ws[3];
    EXPECT_EQ(log.size(), 4U);
    EXPECT_EQ(log[2], "C notified locked");
    EXPECT_EQ(log[3], "D notified locked");
    EXPECT_FALSE(cond.locked());
  }());
}

TEST(AsyncCondition, NotifyZeroOrNegativeWakesNobody) {
  run_bounded([]() -> aio::Task<> {
    aio::Condition cond;
    std::vector<std::string> log;
    auto a = aio::create_task(waiter(cond, log, "A"));
    co_await yield_n();
    {
      auto held = co_await cond.acquire();
      cond.notify(0);
      cond.notify(-3);
    }
    co_await yield_n(3);
    EXPECT_TRUE(log.empty());
    {
      auto held = co_await cond.acquire();
      cond.notify();
    }
    co_await a;
    EXPECT_EQ(log, (std::vector<std::string>{"A notified locked"}));
  }());
}

TEST(AsyncCondition, WaitForPredicate) {
  run_bounded([]() -> aio::Task<> {
    aio::Condition cond;
    std::deque<int> jobs;
    std::vector<int> got;
    auto consumer = aio::create_task([](aio::Condition& c, std::deque<int>& j,
                                        std::vector<int>& g) -> aio::Task<> {
      for (int k = 0; k < 3; ++k) {
        auto held = co_await c.acquire();
        const std::size_t n = co_await c.wait_for([&] { return j.size(); });  // returns the value
        EXPECT_GE(n, 1U);
        g.push_back(j.front());
        j.pop_front();
      }
    }(cond, jobs, got));
    for (int v : {10, 20, 30}) {
      co_await yield_n(2);
      auto held = co_await cond.acquire();
      jobs.push_back(v);
      cond.notify();
    }
    co_await consumer;
    EXPECT_EQ(got, (std::vector<int>{10, 20, 30}));
  }());
}

TEST(AsyncCondition, WaitForTrueAtOnceDoesNotWait) {
  run_bounded([]() -> aio::Task<> {
    aio::Condition cond;
    auto held = co_await cond.acquire();
    EXPECT_EQ(co_await cond.wait_for([] { return 5; }), 5);
    EXPECT_TRUE(cond.locked());
  }());
}

TEST(AsyncCondition, CancelWhileWaitingReacquiresTheLockFirst) {
  run_bounded([]() -> aio::Task<> {
    aio::Condition cond;
    std::vector<std::string> log;
    auto a = aio::create_task(waiter(cond, log, "A"));
    co_await yield_n();
    co_await cond.lock();  // held by main
    a.cancel();
    co_await yield_n(3);
    EXPECT_FALSE(a.done());  // waiting for the lock before it may raise
    EXPECT_TRUE(log.empty());
    cond.release();
    EXPECT_THROW(co_await a, pyconc::CancelledError);
    EXPECT_EQ(log, (std::vector<std::string>{"A cancelled locked"}));
    EXPECT_FALSE(cond.locked());  // A's guard released it while unwinding
  }());
}

TEST(AsyncCondition, CancelWithTheLockFreeRaisesAtOnce) {
  run_bounded([]() -> aio::Task<> {
    aio::Condition cond;
    std::vector<std::string> log;
    auto a = aio::create_task(waiter(cond, log, "A"));
    co_await yield_n();
    a.cancel();
    EXPECT_THROW(co_await a, pyconc::CancelledError);
    EXPECT_EQ(log, (std::vector<std::string>{"A cancelled locked"}));
    EXPECT_FALSE(cond.locked());
  }());
}

TEST(AsyncCondition, NotifiedThenCancelledPassesTheNotificationOn) {
  run_bounded([]() -> aio::Task<> {
    aio::Condition cond;
    std::vector<std::string> log;
    auto a = aio::create_task(waiter(cond, log, "A"));
    auto b = aio::create_task(waiter(cond, log, "B"));
    co_await yield_n();
    {
      auto held = co_await cond.acquire();
      cond.notify(1);  // A is notified ...
      a.cancel();      // ... and cancelled before it runs (it now waits for our lock)
    }
    EXPECT_THROW(co_await a, pyconc::CancelledError);
    co_await b;  // B got the notification A could not use
    EXPECT_EQ(log, (std::vector<std::string>{"A cancelled locked", "B notified locked"}));
  }());
}

TEST(AsyncCondition, CancelWhileReacquiringTakesEffectWithTheLock) {
  run_bounded([]() -> aio::Task<> {
    aio::Condition cond;
    std::vector<std::string> log;
    auto a = aio::create_task(waiter(cond, log, "A"));
    co_await yield_n();
    co_await cond.lock();
    cond.notify();
    co_await yield_n(2);
    a.cancel();  // A is queued for the lock we hold
    co_await yield_n(2);
    EXPECT_FALSE(a.done());
    cond.release();
    EXPECT_THROW(co_await a, pyconc::CancelledError);
    EXPECT_EQ(log, (std::vector<std::string>{"A cancelled locked"}));
  }());
}

TEST(AsyncCondition, SharesAnExternalLock) {
  run_bounded([]() -> aio::Task<> {
    aio::Lock lk;
    aio::Condition c1(lk), c2(lk);
    std::vector<std::string> log;
    auto a = aio::create_task(waiter(c1, log, "A"));
    auto b = aio::create_task(waiter(c2, log, "B"));
    co_await yield_n();
    {
      auto held = co_await lk.acquire();
      EXPECT_TRUE(c1.locked());
      EXPECT_TRUE(c2.locked());
      c2.notify();
    }
    co_await b;
    EXPECT_EQ(log, (std::vector<std::string>{"B notified locked"}));
    {
      auto held = co_await lk.acquire();
      c1.notify();
    }
    co_await a;
    EXPECT_EQ(log.back(), "A notified locked");
  }());
}

TEST(AsyncCondition, DestroyedWhileATaskWaits) {
  run_bounded([]() -> aio::Task<> {
    auto cond = std::make_unique<aio::Condition>();
    bool cancelled = false;
    auto a = aio::create_task([](aio::Condition& c, bool& out) -> aio::Task<> {
      co_await c.lock();
      try {
        co_await c.wait();
      } catch (const pyconc::CancelledError&) {
        out = true;  // the condition (and its lock) are gone: do not touch them
        throw;
      }
    }(*cond, cancelled));
    co_await yield_n();
    cond.reset();
    a.cancel();
    EXPECT_THROW(co_await a, pyconc::CancelledError);
    EXPECT_TRUE(cancelled);
  }());
}

}  // namespace
