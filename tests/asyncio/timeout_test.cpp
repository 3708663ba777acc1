// aio::timeout / timeout_at / wait_for, written from Python's documented asyncio.timeout():
// the scoped form `async with timeout(d) as cm:` (reschedule, expired, when), the deadline as a
// cancellation turned into TimeoutError, an outside cancel() staying CancelledError, nested
// scopes, and wait_for() on any awaitable.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "prim_util.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc/futures.hpp"

namespace aio = pyconc::asyncio;
using namespace std::chrono_literals;
using prim_test::run_bounded;
using prim_test::value_after;
using prim_test::yield_n;

namespace {

TEST(TimeoutScope, BodyInTimeReturnsItsValue) {
  run_bounded([]() -> aio::Task<> {
    bool expired = true;
    const int v = co_await aio::timeout(10s, [&](aio::Timeout& cm) -> aio::Task<int> {
      const int r = co_await value_after(2, 5);
      expired = cm.expired();
      EXPECT_TRUE(cm.when().has_value());
      co_return r;
    });
    EXPECT_EQ(v, 5);
    EXPECT_FALSE(expired);
    EXPECT_EQ(aio::current_task().cancelling(), 0);
  }());
}

TEST(TimeoutScope, ExpiryCancelsTheBodyAndRaisesTimeoutError) {
  run_bounded([]() -> aio::Task<> {
    aio::Event never;
    bool body_cancelled = false, expired = false;
    const auto start = aio::get_running_loop().time();
    EXPECT_THROW(co_await aio::timeout(20ms,
                                       [&](aio::Timeout& cm) -> aio::Task<> {
                                         try {
                                           co_await never.wait();
                                         } catch (const pyconc::CancelledError&) {
                                           body_cancelled = true;
                                           expired = cm.expired();
                                           throw;
                                         }
                                       }),
                 pyconc::TimeoutError);
    EXPECT_GE(aio::get_running_loop().time() - start, 20ms);
    EXPECT_TRUE(body_cancelled);
    EXPECT_TRUE(expired);
    // The deadline's cancellation was taken back: the task is not left cancelling.
    EXPECT_EQ(aio::current_task().cancelling(), 0);
    co_await aio::sleep(0s);
  }());
}

TEST(TimeoutScope, RescheduleExtendsShortensAndDisables) {
  run_bounded([]() -> aio::Task<> {
    auto& loop = aio::get_running_loop();
    // Extended: a 5 ms deadline moved 10 s away lets a 30 ms sleep finish.
    co_await aio::timeout(5ms, [&](aio::Timeout& cm) -> aio::Task<> {
      cm.reschedule(loop.time() + 10s);
      co_await aio::sleep(30ms);
      EXPECT_FALSE(cm.expired());
    });
    // Shortened: one hour becomes now.
    EXPECT_THROW(co_await aio::timeout(1h,
                                       [&](aio::Timeout& cm) -> aio::Task<> {
                                         cm.reschedule(loop.time());
                                         co_await aio::sleep(1h);
                                       }),
                 pyconc::TimeoutError);
    // Disabled (Python: reschedule(None)), then armed again.
    co_await aio::timeout(5ms, [&](aio::Timeout& cm) -> aio::Task<> {
      cm.reschedule(std::nullopt);
      EXPECT_FALSE(cm.when().has_value());
      co_await aio::sleep(20ms);
    });
    // timeout_at with no deadline yet (Python: timeout(None)).
    const int v = co_await aio::timeout_at(std::nullopt, [&](aio::Timeout& cm) -> aio::Task<int> {
      co_await aio::sleep(1ms);
      EXPECT_FALSE(cm.expired());
      co_return 9;
    });
    EXPECT_EQ(v, 9);
  }());
}

TEST(TimeoutScope, RescheduleAfterExpiryIsAnError) {
  run_bounded([]() -> aio::Task<> {
    EXPECT_THROW(co_await aio::timeout(1ms,
                                       [&](aio::Timeout& cm) -> aio::Task<> {
                                         try {
                                           co_await aio::sleep(1h);
                                         } catch (const pyconc::CancelledError&) {
                                           EXPECT_THROW(cm.reschedule(std::nullopt),
                                                        pyconc::RuntimeError);
                                           throw;
                                         }
                                       }),
                 pyconc::TimeoutError);
  }());
}

TEST(TimeoutScope, OuterCancellationStaysCancelledError) {
  run_bounded([]() -> aio::Task<> {
    aio::Event parked;
    bool expired = true;
    auto t = aio::create_task([](aio::Event& p, bool& exp) -> aio::Task<> {
      co_await aio::timeout(1h, [&](aio::Timeout& cm) -> aio::Task<> {
        p.set();
        try {
          co_await aio::sleep(1h);
        } catch (const pyconc::CancelledError&) {
          exp = cm.expired();
          throw;
        }
      });
    }(parked, expired));
    co_await aio::wait_for(parked.wait(), 10s);
    t.cancel("from outside");
    try {
      co_await t;
      ADD_FAILURE() << "no CancelledError";
    } catch (const pyconc::CancelledError& e) {
      EXPECT_EQ(std::string(e.what()), "from outside");
    }
    EXPECT_FALSE(expired);
  }());
}

TEST(TimeoutScope, OuterCancelAndExpiryTogetherStayCancelledError) {
  run_bounded([]() -> aio::Task<> {
    auto t = aio::create_task([]() -> aio::Task<> {
      co_await aio::timeout(1h, [](aio::Timeout& cm) -> aio::Task<> {
        aio::current_task().cancel();                   // an outside cancel() pending...
        cm.reschedule(aio::get_running_loop().time());  // ...and the deadline passing
        co_await aio::sleep(1h);
      });
    }());
    EXPECT_THROW(co_await t, pyconc::CancelledError);
  }());
}

TEST(TimeoutScope, NestedScopesReportTheirOwnExpiry) {
  run_bounded([]() -> aio::Task<> {
    bool inner_expired = true;
    bool outer_expired = false;
    EXPECT_THROW(co_await aio::timeout(10ms,
                                       [&](aio::Timeout& outer) -> aio::Task<> {
                                         try {
                                           co_await aio::timeout(
                                               1h, [&](aio::Timeout& inner) -> aio::Task<> {
                                                 try {
                                                   co_await aio::sleep(1h);
                                                 } catch (const pyconc::CancelledError&) {
                                                   inner_expired = inner.expired();
                                                   throw;
                                                 }
                                               });
                                         } catch (const pyconc::CancelledError&) {
                                           outer_expired = outer.expired();
                                           throw;  // the inner scope passed it on unchanged
                                         }
                                       }),
                 pyconc::TimeoutError);
    EXPECT_FALSE(inner_expired);
    EXPECT_TRUE(outer_expired);
    // An inner scope expiring first is the inner's TimeoutError, which the outer body sees.
    bool caught_inner = false;
    co_await aio::timeout(1h, [&](aio::Timeout&) -> aio::Task<> {
      try {
        co_await aio::timeout(5ms, aio::sleep(1h));
      } catch (const pyconc::TimeoutError&) {
        caught_inner = true;
      }
      co_return;
    });
    EXPECT_TRUE(caught_inner);
  }());
}

TEST(WaitForAny, EventWait) {
  run_bounded([]() -> aio::Task<> {
    aio::Event ev;
    EXPECT_THROW(co_await aio::wait_for(ev.wait(), 5ms), pyconc::TimeoutError);
    auto setter = aio::create_task([](aio::Event& e) -> aio::Task<> {
      co_await aio::sleep(0s);
      e.set();
    }(ev));
    const bool r = co_await aio::wait_for(ev.wait(), 10s);
    EXPECT_TRUE(r);
    co_await setter;
  }());
}

TEST(WaitForAny, QueueGetLeavesNoWaiterBehind) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::string> q;
    EXPECT_THROW(co_await aio::wait_for(q.get(), 5ms), pyconc::TimeoutError);
    q.put_nowait("x");
    EXPECT_EQ(q.get_nowait(), "x");  // the timed-out getter took nothing
    q.put_nowait("y");
    const std::string v = co_await aio::wait_for(q.get(), 10s);
    EXPECT_EQ(v, "y");
    // timeout() takes any awaitable as well
    q.put_nowait("z");
    EXPECT_EQ(co_await aio::timeout(10s, q.get()), "z");
  }());
}

TEST(WaitForAny, ConcurrentFuture) {
  pyconc::futures::ThreadPoolExecutor pool(1);
  run_bounded([](pyconc::futures::ThreadPoolExecutor& p) -> aio::Task<> {
    pyconc::Future<int> f = p.submit([] { return 6; });
    const int v = co_await aio::wait_for(f, 10s);
    EXPECT_EQ(v, 6);
  }(pool));
}

TEST(WaitForAny, TaskStillWorksAndIsCancelledOnTimeout) {
  run_bounded([]() -> aio::Task<> {
    EXPECT_EQ(co_await aio::wait_for(value_after(2, 3), 10s), 3);
    auto t = aio::create_task([]() -> aio::Task<int> { co_return co_await aio::sleep(1h, 1); }());
    EXPECT_THROW(co_await aio::wait_for(t, 5ms), pyconc::TimeoutError);
    EXPECT_TRUE(t.cancelled());
  }());
}

}  // namespace
