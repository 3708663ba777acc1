#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "prim_util.hpp"
#include "pyconc/asyncio/event.hpp"

namespace {

using prim_test::run_bounded;
using prim_test::yield_n;

aio::Task<> wait_and_log(aio::Event& ev, std::vector<std::string>& log, std::string name) {
  try {
    const bool r = co_await ev.wait();
    log.push_back(name + (r ? " woke" : " false"));
  } catch (const pyconc::CancelledError&) {
    log.push_back(name + " cancelled");
    throw;
  }
}

TEST(AsyncEvent, SetWakesEveryWaiterInOrder) {
  run_bounded([]() -> aio::Task<> {
    aio::Event ev;
    std::vector<std::string> log;
    EXPECT_FALSE(ev.is_set());
    auto a = aio::create_task(wait_and_log(ev, log, "A"));
    auto b = aio::create_task(wait_and_log(ev, log, "B"));
    auto c = aio::create_task(wait_and_log(ev, log, "C"));
    co_await yield_n();
    EXPECT_TRUE(log.empty());
    ev.set();
    EXPECT_TRUE(ev.is_set());
    co_await a;
    co_await b;
    co_await c;
    EXPECT_EQ(log, (std::vector<std::string>{"A woke", "B woke", "C woke"}));
  }());
}

TEST(AsyncEvent, WaitOnASetEventDoesNotSuspend) {
  run_bounded([]() -> aio::Task<> {
    aio::Event ev;
    ev.set();
    ev.set();  // idempotent
    bool other_ran = false;
    auto other = aio::create_task([](bool& r) -> aio::Task<> {
      r = true;
      co_return;
    }(other_ran));
    EXPECT_TRUE(co_await ev.wait());
    EXPECT_FALSE(other_ran);
    co_await other;
    ev.clear();
    EXPECT_FALSE(ev.is_set());
  }());
}

TEST(AsyncEvent, PulseIsNotLost) {
  run_bounded([]() -> aio::Task<> {
    aio::Event ev;
    std::vector<std::string> log;
    auto a = aio::create_task(wait_and_log(ev, log, "A"));
    co_await yield_n();
    ev.set();
    ev.clear();  // before A runs: A still returns true
    co_await a;
    EXPECT_EQ(log, (std::vector<std::string>{"A woke"}));
    EXPECT_FALSE(ev.is_set());
  }());
}

TEST(AsyncEvent, CancelWhileWaiting) {
  run_bounded([]() -> aio::Task<> {
    aio::Event ev;
    std::vector<std::string> log;
    auto a = aio::create_task(wait_and_log(ev, log, "A"));
    auto b = aio::create_task(wait_and_log(ev, log, "B"));
    co_await yield_n();
    a.cancel();
    EXPECT_THROW(co_await a, pyconc::CancelledError);
    ev.set();
    co_await b;
    EXPECT_EQ(log, (std::vector<std::string>{"A cancelled", "B woke"}));
  }());
}

TEST(AsyncEvent, WokenThenCancelledRaisesAndOthersAreUnaffected) {
  run_bounded([]() -> aio::Task<> {
    aio::Event ev;
    std::vector<std::string> log;
    auto a = aio::create_task(wait_and_log(ev, log, "A"));
    auto b = aio::create_task(wait_and_log(ev, log, "B"));
    co_await yield_n();
    ev.set();
    a.cancel();  // woken, not yet run: Python raises CancelledError at the await
    EXPECT_THROW(co_await a, pyconc::CancelledError);
    co_await b;
    EXPECT_EQ(log, (std::vector<std::string>{"A cancelled", "B woke"}));
  }());
}

TEST(AsyncEvent, DestroyedWhileATaskWaits) {
  run_bounded([]() -> aio::Task<> {
    auto ev = std::make_unique<aio::Event>();
    std::vector<std::string> log;
    auto a = aio::create_task(wait_and_log(*ev, log, "A"));
    co_await yield_n();
    ev.reset();
    co_await yield_n();
    EXPECT_FALSE(a.done());
    a.cancel();
    EXPECT_THROW(co_await a, pyconc::CancelledError);
  }());
}

TEST(AsyncEvent, SetFromAnotherThreadThroughTheLoop) {
  run_bounded([]() -> aio::Task<> {
    aio::Event ev;
    auto& loop = aio::get_running_loop();
    std::thread th([&loop, &ev] { loop.call_soon_threadsafe([&ev] { ev.set(); }); });
    co_await ev.wait();
    th.join();
    EXPECT_TRUE(ev.is_set());
  }());
}

}  // namespace
