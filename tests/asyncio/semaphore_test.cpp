#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "prim_util.hpp"
#include "pyconc/asyncio/semaphore.hpp"

namespace {

using prim_test::run_bounded;
using prim_test::yield_n;

TEST(AsyncSemaphore, Construction) {
  EXPECT_THROW(aio::Semaphore(-1), pyconc::ValueError);
  EXPECT_THROW(aio::BoundedSemaphore(-1), pyconc::ValueError);
  aio::Semaphore zero(0);
  EXPECT_TRUE(zero.locked());
  aio::Semaphore def;
  EXPECT_EQ(def.value(), 1);
  EXPECT_FALSE(def.locked());
}

TEST(AsyncSemaphore, CountsUnits) {
  run_bounded([]() -> aio::Task<> {
    aio::Semaphore sem(2);
    {
      auto a = co_await sem.acquire();
      EXPECT_EQ(sem.value(), 1);
      auto b = co_await sem.acquire();
      EXPECT_EQ(sem.value(), 0);
      EXPECT_TRUE(sem.locked());
      EXPECT_FALSE(sem.try_lock());
    }
    EXPECT_EQ(sem.value(), 2);
    co_await sem.lock();
    sem.release();
    sem.release();  // a plain Semaphore may go above its initial value
    EXPECT_EQ(sem.value(), 3);
  }());
}

TEST(AsyncSemaphore, BoundedRaisesOnOverRelease) {
  run_bounded([]() -> aio::Task<> {
    aio::BoundedSemaphore sem(2);
    auto held = co_await sem.acquire();
    sem.release();
    EXPECT_THROW(sem.release(), pyconc::ValueError);
    EXPECT_EQ(sem.value(), 2);  // unchanged by the failed release
    auto again = co_await sem.acquire();
    EXPECT_EQ(sem.value(), 1);
    held = aio::Held<aio::Semaphore>();  // `held`'s unit was released by hand: this is the 2nd
    EXPECT_EQ(sem.value(), 2);
    again = aio::Held<aio::Semaphore>();  // over the bound: ValueError, ignored by the guard
    EXPECT_EQ(sem.value(), 2);
  }());
}

aio::Task<> limited(aio::Semaphore& sem, std::vector<int>& order, int& inside, int& peak, int id) {
  auto held = co_await sem.acquire();
  order.push_back(id);
  peak = std::max(peak, ++inside);
  co_await yield_n(3);
  --inside;
}

TEST(AsyncSemaphore, BoundsConcurrencyInFifoOrder) {
  run_bounded([]() -> aio::Task<> {
    aio::Semaphore sem(3);
    std::vector<int> order;
    int inside = 0, peak = 0;
    std::vector<aio::Task<>> tasks;
    for (int i = 0; i < 10; ++i)
      tasks.push_back(aio::create_task(limited(sem, order, inside, peak, i)));
    for (auto& t : tasks) co_await t;
    EXPECT_EQ(peak, 3);
    std::vector<int> expected(10);
    for (int i = 0; i < 10; ++i) expected[i] = i;
    EXPECT_EQ(order, expected);
    EXPECT_EQ(sem.value(), 3);
  }());
}

aio::Task<> take_and_log(aio::Semaphore& sem, std::vector<std::string>& log, std::string name) {
  try {
    co_await sem.lock();
    log.push_back(name + " acquired");
  } catch (const pyconc::CancelledError&) {
    log.push_back(name + " cancelled");
    throw;
  }
}

TEST(AsyncSemaphore, NewcomerQueuesWhileTasksWait) {
  run_bounded([]() -> aio::Task<> {
    aio::Semaphore sem(0);
    std::vector<std::string> log;
    auto b = aio::create_task(take_and_log(sem, log, "B"));
    co_await yield_n();
    sem.release();  // handed to B
    EXPECT_EQ(sem.value(), 0);
    EXPECT_TRUE(sem.locked());
    EXPECT_FALSE(sem.try_lock());
    sem.release();  // a second unit: free, but C must queue behind the woken B (FIFO)
    EXPECT_TRUE(sem.locked());
    auto c = aio::create_task(take_and_log(sem, log, "C"));
    co_await b;
    co_await c;
    EXPECT_EQ(log, (std::vector<std::string>{"B acquired", "C acquired"}));
    EXPECT_EQ(sem.value(), 0);
  }());
}

TEST(AsyncSemaphore, CancelWhileWaiting) {
  run_bounded([]() -> aio::Task<> {
    aio::Semaphore sem(0);
    std::vector<std::string> log;
    auto b = aio::create_task(take_and_log(sem, log, "B"));
    auto c = aio::create_task(take_and_log(sem, log, "C"));
    co_await yield_n();
    b.cancel();
    EXPECT_THROW(co_await b, pyconc::CancelledError);
    sem.release();
    co_await c;
    EXPECT_EQ(log, (std::vector<std::string>{"B cancelled", "C acquired"}));
    EXPECT_EQ(sem.value(), 0);
  }());
}

TEST(AsyncSemaphore, WokenThenCancelledGivesTheUnitToTheNextWaiter) {
  run_bounded([]() -> aio::Task<> {
    aio::Semaphore sem(0);
    std::vector<std::string> log;
    auto b = aio::create_task(take_and_log(sem, log, "B"));
    auto c = aio::create_task(take_and_log(sem, log, "C"));
    co_await yield_n();
    sem.release();  // the unit goes to B ...
    b.cancel();     // ... cancelled before it runs
    EXPECT_THROW(co_await b, pyconc::CancelledError);
    co_await c;
    EXPECT_EQ(log, (std::vector<std::string>{"B cancelled", "C acquired"}));
    EXPECT_EQ(sem.value(), 0);  // C holds the one unit: none lost, none created
  }());
}

TEST(AsyncSemaphore, WokenThenCancelledWithNobodyElseReturnsTheUnit) {
  run_bounded([]() -> aio::Task<> {
    aio::Semaphore sem(0);
    std::vector<std::string> log;
    auto b = aio::create_task(take_and_log(sem, log, "B"));
    co_await yield_n();
    sem.release();
    b.cancel();
    EXPECT_THROW(co_await b, pyconc::CancelledError);
    EXPECT_EQ(sem.value(), 1);
    EXPECT_FALSE(sem.locked());
  }());
}

}  // namespace
