// Python's cancellation rule for a task whose wait already completed: a cancel() that arrives
// after the awaited thing finished (the task is scheduled but has not run yet) is raised as
// CancelledError at the await when the task runs -- the task's code after the await sees it
// and may handle it. (Regression: a task parked directly in its own coroutine was finished as
// "cancelled before its first step" without running.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pyconc/asyncio.hpp"

namespace aio = pyconc::asyncio;
using namespace std::chrono_literals;

namespace {

aio::Task<int> quick() {
  co_await aio::sleep(0s);
  co_return 7;
}

aio::Task<> awaiter(aio::Task<int> inner, std::vector<std::string>& log) {
  try {
    int v = co_await inner;
    log.push_back("got " + std::to_string(v));
  } catch (const pyconc::CancelledError&) {
    log.push_back("cancelled at the await");
  }
  log.push_back("went on");
}

TEST(TaskCancel, CancelAfterTheAwaitedTaskFinishedIsRaisedAtTheAwait) {
  std::vector<std::string> log;
  auto main = [&]() -> aio::Task<> {
    auto inner = aio::create_task(quick());
    auto outer = aio::create_task(awaiter(inner, log));
    co_await aio::sleep(0s);  // inner yields once, outer parks on it
    co_await aio::sleep(0s);  // inner finishes and wakes outer (which has not run yet)
    EXPECT_TRUE(inner.done());
    EXPECT_FALSE(outer.done());
    EXPECT_TRUE(outer.cancel());  // outer is scheduled but has not run: must_cancel
    co_await outer;
    EXPECT_FALSE(outer.cancelled());  // it handled the CancelledError
  };
  aio::run(main());
  EXPECT_EQ(log, (std::vector<std::string>{"cancelled at the await", "went on"}));
}

TEST(TaskCancel, CancelBeforeTheFirstStepStillSkipsTheBody) {
  std::vector<std::string> log;
  auto main = [&]() -> aio::Task<> {
    auto outer = aio::create_task(awaiter(aio::create_task(quick()), log));
    EXPECT_TRUE(outer.cancel());
    EXPECT_THROW(co_await outer, pyconc::CancelledError);
    EXPECT_TRUE(outer.cancelled());
  };
  aio::run(main());
  EXPECT_TRUE(log.empty());
}

}  // namespace
