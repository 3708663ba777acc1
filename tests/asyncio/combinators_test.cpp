#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <tuple>
#include <vector>

#include "pyconc/asyncio.hpp"

namespace aio = pyconc::asyncio;
using namespace std::chrono_literals;

namespace {

// ASSERT_* returns from the function, which a coroutine cannot do: co_return instead.
#define CO_ASSERT_EQ(a, b)        \
  do {                            \
    EXPECT_EQ(a, b);              \
    if (!((a) == (b))) co_return; \
  } while (0)

aio::Task<int> after(std::chrono::milliseconds d, int v) {
  co_await aio::sleep(d);
  co_return v;
}

aio::Task<int> fail_after(std::chrono::milliseconds d, std::string msg) {
  co_await aio::sleep(d);
  throw pyconc::ValueError(msg);
}

aio::Task<> nothing() {
  co_return;
}

// Records whether it was cancelled (and lets the cancellation through).
aio::Task<int> sleeper(bool& cancelled, std::chrono::milliseconds d = std::chrono::hours(1)) {
  try {
    co_await aio::sleep(d);
  } catch (const pyconc::CancelledError&) {
    cancelled = true;
    throw;
  }
  co_return 7;
}

TEST(Gather, TupleInArgumentOrder) {
  auto main = []() -> aio::Task<> {
    auto [a, b, c] = co_await aio::gather(after(20ms, 1), after(1ms, 2), nothing());
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 2);
    (void)c;  // std::monostate for void
  };
  aio::run(main());
}

TEST(Gather, VectorOfManyTasks) {
  auto main = []() -> aio::Task<> {
    std::vector<aio::Task<int>> tasks;
    for (int i = 0; i < 1000; ++i) tasks.push_back(after(0ms, i));
    std::vector<int> r = co_await aio::gather(std::move(tasks));
    CO_ASSERT_EQ(r.size(), 1000U);
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(r[i], i);
    std::vector<aio::Task<>> voids;
    voids.push_back(nothing());
    voids.push_back(nothing());
    co_await aio::gather(std::move(voids));
  };
  aio::run(main());
}

TEST(Gather, FirstErrorPropagatesAndSiblingsKeepRunning) {
  auto main = []() -> aio::Task<> {
    auto sibling = aio::create_task(after(30ms, 5));
    EXPECT_THROW((co_await aio::gather(fail_after(1ms, "boom"), sibling)), pyconc::ValueError);
    EXPECT_FALSE(sibling.done());
    EXPECT_EQ(co_await sibling, 5);
  };
  aio::run(main());
}

TEST(Gather, ReturnExceptions) {
  auto main = []() -> aio::Task<> {
    std::vector<aio::Task<int>> tasks;
    tasks.push_back(after(1ms, 1));
    tasks.push_back(fail_after(1ms, "x"));
    auto cancelled = aio::create_task(after(1h, 3));
    tasks.push_back(cancelled);
    cancelled.cancel();
    auto outcomes = co_await aio::gather(std::move(tasks), aio::return_exceptions);
    CO_ASSERT_EQ(outcomes.size(), 3U);
    EXPECT_TRUE(outcomes[0].has_value());
    EXPECT_EQ(outcomes[0].value(), 1);
    EXPECT_FALSE(outcomes[1].has_value());
    EXPECT_THROW(outcomes[1].value(), pyconc::ValueError);
    EXPECT_THROW(std::rethrow_exception(outcomes[2].exception()), pyconc::CancelledError);

    auto [o1, o2] =
        co_await aio::gather(aio::return_exceptions, after(1ms, 9), fail_after(1ms, "y"));
    EXPECT_EQ(o1.value(), 9);
    EXPECT_FALSE(o2.has_value());
  };
  aio::run(main());
}

TEST(Gather, CancellingTheGatherCancelsChildren) {
  bool c1 = false, c2 = false;
  auto main = [&]() -> aio::Task<> {
    auto g = aio::create_task(aio::gather(sleeper(c1), sleeper(c2)));
    co_await aio::sleep(0s);
    co_await aio::sleep(0s);
    g.cancel();
    EXPECT_THROW(co_await g, pyconc::CancelledError);
    EXPECT_TRUE(g.cancelled());
  };
  aio::run(main());
  EXPECT_TRUE(c1);
  EXPECT_TRUE(c2);
}

// Python's gather wraps its coroutines in tasks when it is called: they run while the caller
// does something else before awaiting.
TEST(Gather, ChildrenAreScheduledWhenGatherIsCalled) {
  auto main = []() -> aio::Task<> {
    std::vector<int> started;
    auto mark = [](std::vector<int>& s, int i) -> aio::Task<int> {
      s.push_back(i);
      co_return i * 10;
    };
    auto g = aio::gather(mark(started, 1), mark(started, 2));
    EXPECT_TRUE(started.empty());                  // scheduled, not run inline
    co_await aio::sleep(0s);                       // the caller does something else
    EXPECT_EQ(started, (std::vector<int>{1, 2}));  // in argument order
    auto [a, b] = co_await g;
    EXPECT_EQ(a + b, 30);

    std::vector<aio::Task<int>> ts;
    for (int i = 0; i < 3; ++i) ts.push_back(mark(started, 3 + i));
    auto gv = aio::gather(std::move(ts));
    co_await aio::sleep(0s);
    EXPECT_EQ(started.size(), 5U);
    EXPECT_EQ((co_await gv).size(), 3U);
  };
  aio::run(main());
}

TEST(Gather, CancellingTheGatherBeforeAwaitingCancelsChildren) {
  bool c1 = false, c2 = false;
  auto main = [&]() -> aio::Task<> {
    auto g = aio::gather(sleeper(c1), sleeper(c2));
    co_await aio::sleep(0s);  // the children are sleeping now
    EXPECT_TRUE(g.cancel());
    EXPECT_THROW(co_await g, pyconc::CancelledError);
    EXPECT_TRUE(g.cancelled());
    EXPECT_TRUE(c1);
    EXPECT_TRUE(c2);
  };
  aio::run(main());
}

TEST(Wait, FirstCompletedAndAll) {
  auto main = []() -> aio::Task<> {
    std::vector<aio::Task<int>> tasks{aio::create_task(after(1ms, 1)),
                                      aio::create_task(after(1h, 2))};
    auto [done, pending] = co_await aio::wait(tasks, aio::FIRST_COMPLETED);
    CO_ASSERT_EQ(done.size(), 1U);
    CO_ASSERT_EQ(pending.size(), 1U);
    EXPECT_EQ(done[0].result(), 1);
    EXPECT_FALSE(pending[0].done());  // wait() cancels nothing
    auto [d2, p2] = co_await aio::wait(pending, 5ms);
    EXPECT_TRUE(d2.empty());
    EXPECT_EQ(p2.size(), 1U);
    p2[0].cancel();
    std::vector<aio::Task<int>> empty;
    EXPECT_THROW(co_await aio::wait(empty), pyconc::ValueError);
  };
  aio::run(main());
}

TEST(Wait, FirstException) {
  auto main = []() -> aio::Task<> {
    std::vector<aio::Task<int>> tasks{aio::create_task(fail_after(1ms, "e")),
                                      aio::create_task(after(1h, 2))};
    auto [done, pending] = co_await aio::wait(tasks, aio::FIRST_EXCEPTION);
    CO_ASSERT_EQ(done.size(), 1U);
    EXPECT_THROW(done[0].result(), pyconc::ValueError);
    pending[0].cancel();
  };
  aio::run(main());
}

TEST(WaitFor, ValueInTime) {
  auto main = []() -> aio::Task<int> { co_return co_await aio::wait_for(after(1ms, 4), 10s); };
  EXPECT_EQ(aio::run(main()), 4);
}

TEST(WaitFor, TimeoutCancelsAndAwaitsTheInnerTask) {
  bool cancelled = false;
  auto main = [&]() -> aio::Task<> {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(co_await aio::wait_for(sleeper(cancelled), 20ms), pyconc::TimeoutError);
    EXPECT_TRUE(cancelled);  // awaited before TimeoutError was raised
    EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
    // The task itself is not left cancelled: it can go on awaiting.
    EXPECT_EQ(aio::current_task().cancelling(), 0);
    co_await aio::sleep(1ms);
  };
  aio::run(main());
}

TEST(Timeout, ScopeAndOutsideCancel) {
  auto main = []() -> aio::Task<> {
    EXPECT_THROW(co_await aio::timeout(10ms, aio::sleep(1h)), pyconc::TimeoutError);
    int v = co_await aio::timeout(1s, after(1ms, 3));
    EXPECT_EQ(v, 3);
    // A past deadline still lets an already-finished awaitable through only if it does not
    // suspend; a sleeping one times out.
    EXPECT_THROW(co_await aio::timeout_at(std::chrono::steady_clock::now() - 1s, aio::sleep(1ms)),
                 pyconc::TimeoutError);
  };
  aio::run(main());

  // An outside cancel during a timeout scope stays a CancelledError.
  auto outer = []() -> aio::Task<> {
    auto t = aio::create_task([]() -> aio::Task<> { co_await aio::timeout(1h, aio::sleep(1h)); }());
    co_await aio::sleep(0s);
    t.cancel();
    EXPECT_THROW(co_await t, pyconc::CancelledError);
  };
  aio::run(outer());
}

TEST(Shield, InnerSurvivesOuterCancel) {
  auto main = []() -> aio::Task<> {
    auto inner = aio::create_task(after(20ms, 8));
    auto outer = aio::create_task(
        [](aio::Task<int> t) -> aio::Task<int> { co_return co_await aio::shield(t); }(inner));
    co_await aio::sleep(0s);
    outer.cancel();
    EXPECT_THROW(co_await outer, pyconc::CancelledError);
    EXPECT_FALSE(inner.cancelled());
    EXPECT_EQ(co_await inner, 8);
  };
  aio::run(main());
}

TEST(AsCompleted, CompletionOrderAndTimeout) {
  auto main = []() -> aio::Task<> {
    std::vector<aio::Task<int>> tasks{after(30ms, 3), after(1ms, 1), after(15ms, 2)};
    std::vector<int> order;
    for (auto next : aio::as_completed(std::move(tasks))) order.push_back(co_await next);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));

    std::vector<aio::Task<int>> slow{aio::create_task(after(1ms, 1)),
                                     aio::create_task(after(1h, 2))};
    auto ac = aio::as_completed(slow, 20ms);
    auto it = ac.begin();
    EXPECT_EQ(co_await *it, 1);
    ++it;
    EXPECT_THROW(co_await *it, pyconc::TimeoutError);
    slow[1].cancel();
  };
  aio::run(main());
}

TEST(TaskGroup, AllSucceed) {
  auto main = []() -> aio::Task<> {
    aio::TaskGroup tg;
    auto a = tg.create_task(after(2ms, 1));
    auto b = tg.create_task(after(1ms, 2));
    co_await tg;
    EXPECT_EQ(a.result() + b.result(), 3);
    EXPECT_THROW(tg.create_task(after(1ms, 3)), pyconc::RuntimeError);
  };
  aio::run(main());
}

TEST(TaskGroup, FirstErrorCancelsTheRestAndAllErrorsAreReported) {
  bool cancelled = false;
  auto main = [&]() -> aio::Task<> {
    aio::TaskGroup tg;
    tg.create_task(fail_after(1ms, "one"));
    // A child that fails while being cancelled: its error is reported too.
    tg.create_task([]() -> aio::Task<int> {
      try {
        co_await aio::sleep(1h);
      } catch (const pyconc::CancelledError&) {
      }
      throw pyconc::RuntimeError("two: cleanup failed");
    }());
    auto slow = tg.create_task(sleeper(cancelled));
    try {
      co_await tg;
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const pyconc::ExceptionGroup& eg) {
      EXPECT_EQ(eg.exceptions().size(), 2U);
      EXPECT_NE(std::string(eg.what()).find("2 sub-exceptions"), std::string::npos);
    }
    EXPECT_TRUE(slow.cancelled());
  };
  aio::run(main());
  EXPECT_TRUE(cancelled);
}

TEST(TaskGroup, CancellingTheParentCancelsChildren) {
  bool c1 = false;
  auto main = [&]() -> aio::Task<> {
    auto parent = aio::create_task([](bool& c) -> aio::Task<> {
      aio::TaskGroup tg;
      tg.create_task(sleeper(c));
      co_await tg;
    }(c1));
    co_await aio::sleep(0s);
    co_await aio::sleep(0s);
    parent.cancel();
    EXPECT_THROW(co_await parent, pyconc::CancelledError);
  };
  aio::run(main());
  EXPECT_TRUE(c1);
}

}  // namespace
