#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "prim_util.hpp"
#include "pyconc/asyncio/barrier.hpp"

namespace {

using prim_test::run_bounded;
using prim_test::yield_n;

// Waits at the barrier; records "<name>:<index>", "<name>:broken" or "<name>:cancelled".
aio::Task<> party(aio::Barrier& b, std::vector<std::string>& log, std::string name) {
  try {
    const int i = co_await b.wait();
    log.push_back(name + ":" + std::to_string(i));
  } catch (const aio::BrokenBarrierError&) {
    log.push_back(name + ":broken");
  } catch (const pyconc::CancelledError&) {
    log.push_back(name + ":cancelled");
    throw;
  }
}

TEST(AsyncBarrier, Construction) {
  EXPECT_THROW(aio::Barrier(0), pyconc::ValueError);
  aio::Barrier b(3);
  EXPECT_EQ(b.parties(), 3);
  EXPECT_EQ(b.n_waiting(), 0);
  EXPECT_FALSE(b.broken());
}

TEST(AsyncBarrier, OnePartyPassesAtOnce) {
  run_bounded([]() -> aio::Task<> {
    aio::Barrier b(1);
    EXPECT_EQ(co_await b.wait(), 0);
    EXPECT_EQ(co_await b.wait(), 0);
  }());
}

TEST(AsyncBarrier, ReleasesAllWhenTheLastArrives) {
  run_bounded([]() -> aio::Task<> {
    aio::Barrier b(3);
    std::vector<std::string> log;
    auto x = aio::create_task(party(b, log, "x"));
    auto y = aio::create_task(party(b, log, "y"));
    co_await yield_n();
    EXPECT_EQ(b.n_waiting(), 2);
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(co_await b.wait(), 2);  // the last: does not suspend
    co_await x;
    co_await y;
    EXPECT_EQ(log, (std::vector<std::string>{"x:0", "y:1"}));
    EXPECT_EQ(b.n_waiting(), 0);
  }());
}

TEST(AsyncBarrier, IsReusableAndLateArrivalsWaitForTheDrain) {
  run_bounded([]() -> aio::Task<> {
    aio::Barrier b(2);
    std::vector<std::string> log;
    auto a = aio::create_task(party(b, log, "a"));
    co_await yield_n();
    auto c = aio::create_task(party(b, log, "c"));  // arrives while the round drains
    EXPECT_EQ(co_await b.wait(), 1);                // round 1: a and main; a has not run yet
    EXPECT_EQ(b.n_waiting(), 0);                    // draining
    auto d = aio::create_task(party(b, log, "d"));
    co_await a;
    co_await c;
    co_await d;
    // c (queued while round 1 drained) and d formed round 2; d completed it without waiting.
    EXPECT_EQ(log, (std::vector<std::string>{"a:0", "d:1", "c:0"}));
  }());
}

TEST(AsyncBarrier, AbortBreaksCurrentAndLaterWaiters) {
  run_bounded([]() -> aio::Task<> {
    aio::Barrier b(3);
    std::vector<std::string> log;
    auto x = aio::create_task(party(b, log, "x"));
    auto y = aio::create_task(party(b, log, "y"));
    co_await yield_n();
    co_await b.abort();
    EXPECT_TRUE(b.broken());
    co_await x;
    co_await y;
    EXPECT_EQ(log, (std::vector<std::string>{"x:broken", "y:broken"}));
    EXPECT_THROW(co_await b.wait(), aio::BrokenBarrierError);
    co_await b.reset();
    EXPECT_FALSE(b.broken());
    auto z = aio::create_task(party(b, log, "z"));
    auto w = aio::create_task(party(b, log, "w"));
    co_await yield_n();
    EXPECT_EQ(co_await b.wait(), 2);
    co_await z;
    co_await w;
    EXPECT_EQ(log.back(), "w:1");
  }());
}

TEST(AsyncBarrier, ResetBreaksTheWaitersThenTheBarrierIsUsable) {
  run_bounded([]() -> aio::Task<> {
    aio::Barrier b(2);
    std::vector<std::string> log;
    auto x = aio::create_task(party(b, log, "x"));
    co_await yield_n();
    b.reset();  // acts at once (co_await is optional)
    EXPECT_FALSE(b.broken());
    auto late = aio::create_task(party(b, log, "late"));  // waits for the reset to end
    co_await x;
    co_await yield_n(2);
    EXPECT_EQ(b.n_waiting(), 1);  // late is in the new round
    EXPECT_EQ(co_await b.wait(), 1);
    co_await late;
    EXPECT_EQ(log, (std::vector<std::string>{"x:broken", "late:0"}));
  }());
}

TEST(AsyncBarrier, AbortAfterReleaseBreaksTheTasksThatHaveNotRunYet) {
  // As in Python: a released waiter checks the state when it runs.
  run_bounded([]() -> aio::Task<> {
    aio::Barrier b(2);
    std::vector<std::string> log;
    auto x = aio::create_task(party(b, log, "x"));
    co_await yield_n();
    EXPECT_EQ(co_await b.wait(), 1);  // releases x, which has not run
    co_await b.abort();
    co_await x;
    EXPECT_EQ(log, (std::vector<std::string>{"x:broken"}));
  }());
}

TEST(AsyncBarrier, AbortWakesTasksQueuedForTheNextRound) {
  run_bounded([]() -> aio::Task<> {
    aio::Barrier b(2);
    std::vector<std::string> log;
    auto x = aio::create_task(party(b, log, "x"));
    co_await yield_n();
    EXPECT_EQ(co_await b.wait(), 1);
    auto late = aio::create_task(party(b, log, "late"));
    co_await yield_n();  // late is blocked: the round drains (x has run? it ran in the same step)
    co_await b.abort();
    co_await x;
    co_await late;
    EXPECT_EQ(log.back(), "late:broken");
  }());
}

TEST(AsyncBarrier, CancelWhileWaitingLeavesTheBarrierIntact) {
  run_bounded([]() -> aio::Task<> {
    aio::Barrier b(3);
    std::vector<std::string> log;
    auto x = aio::create_task(party(b, log, "x"));
    auto y = aio::create_task(party(b, log, "y"));
    co_await yield_n();
    EXPECT_EQ(b.n_waiting(), 2);
    x.cancel();
    EXPECT_THROW(co_await x, pyconc::CancelledError);
    EXPECT_EQ(b.n_waiting(), 1);
    EXPECT_FALSE(b.broken());
    auto z = aio::create_task(party(b, log, "z"));
    co_await yield_n();
    EXPECT_EQ(co_await b.wait(), 2);
    co_await y;
    co_await z;
    // Distinct indices, in arrival order among those released (Python would give z 1 too).
    EXPECT_EQ(log, (std::vector<std::string>{"x:cancelled", "y:0", "z:1"}));
  }());
}

TEST(AsyncBarrier, ReleasedThenCancelledStillLetsTheOthersPass) {
  run_bounded([]() -> aio::Task<> {
    aio::Barrier b(3);
    std::vector<std::string> log;
    auto x = aio::create_task(party(b, log, "x"));
    auto y = aio::create_task(party(b, log, "y"));
    co_await yield_n();
    EXPECT_EQ(co_await b.wait(), 2);  // releases x and y
    x.cancel();                       // before x runs
    EXPECT_THROW(co_await x, pyconc::CancelledError);
    co_await y;
    EXPECT_EQ(log, (std::vector<std::string>{"x:cancelled", "y:1"}));
    // Drained: a new round works.
    auto p = aio::create_task(party(b, log, "p"));
    auto q = aio::create_task(party(b, log, "q"));
    co_await yield_n();
    EXPECT_EQ(b.n_waiting(), 2);
    EXPECT_EQ(co_await b.wait(), 2);
    co_await p;
    co_await q;
  }());
}

TEST(AsyncBarrier, CancelWhileQueuedForTheNextRound) {
  run_bounded([]() -> aio::Task<> {
    aio::Barrier b(2);
    std::vector<std::string> log;
    auto x = aio::create_task(party(b, log, "x"));
    co_await yield_n();
    // r completes round 1 (releasing x, which then runs after everything below); late and
    // late2 arrive while it drains and queue for round 2.
    auto r = aio::create_task(party(b, log, "r"));
    auto late = aio::create_task(party(b, log, "late"));
    auto late2 = aio::create_task(party(b, log, "late2"));
    co_await yield_n();
    EXPECT_EQ(b.n_waiting(), 0);  // draining: x has not left yet
    late.cancel();
    EXPECT_THROW(co_await late, pyconc::CancelledError);
    co_await x;
    co_await r;
    EXPECT_EQ(b.n_waiting(), 1);  // late2 alone in round 2
    EXPECT_EQ(co_await b.wait(), 1);
    co_await late2;
    EXPECT_EQ(log, (std::vector<std::string>{"r:1", "x:0", "late:cancelled", "late2:0"}));
  }());
}

TEST(AsyncBarrier, DestroyedWhileATaskWaits) {
  run_bounded([]() -> aio::Task<> {
    auto b = std::make_unique<aio::Barrier>(2);
    std::vector<std::string> log;
    auto x = aio::create_task(party(*b, log, "x"));
    co_await yield_n();
    b.reset();
    x.cancel();
    EXPECT_THROW(co_await x, pyconc::CancelledError);
  }());
}

}  // namespace
