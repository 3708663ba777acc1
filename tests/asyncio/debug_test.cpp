// Debug mode and the loop's error reports: never-awaited coroutines, exceptions never
// retrieved, slow steps, exceptions escaping callbacks -- each reported through the loop's
// exception handler with the task's name.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "pyconc/asyncio.hpp"

namespace aio = pyconc::asyncio;
using namespace std::chrono_literals;

namespace {

struct Reports {
  std::vector<aio::ExceptionContext> got;
  void install() {
    aio::get_running_loop().set_exception_handler(
        [this](aio::EventLoop&, const aio::ExceptionContext& c) { got.push_back(c); });
  }
  bool has(const std::string& fragment) const {
    for (const auto& c : got) {
      if (c.message.find(fragment) != std::string::npos) return true;
    }
    return false;
  }
};

aio::Task<int> crawl_page(int v) {
  co_return v;
}

TEST(Debug, NeverAwaitedCoroutineIsNamed) {
  Reports r;
  aio::run(
      [](Reports& rep) -> aio::Task<> {
        rep.install();
        { auto forgotten = crawl_page(1); }  // created, never awaited
        co_return;
      }(r),
      {.debug = true});
  ASSERT_EQ(r.got.size(), 1U);
  EXPECT_NE(r.got[0].message.find("was never awaited"), std::string::npos);
  EXPECT_NE(r.got[0].message.find("crawl_page"), std::string::npos) << r.got[0].message;
}

// Python's RuntimeWarning "coroutine '...' was never awaited" is not a debug-mode feature.
TEST(Debug, NeverAwaitedIsReportedOutsideDebugModeToo) {
  Reports r;
  aio::run([](Reports& rep) -> aio::Task<> {
    rep.install();
    { auto forgotten = crawl_page(1); }
    co_return;
  }(r));
  ASSERT_EQ(r.got.size(), 1U);
  EXPECT_EQ(r.got[0].message, "coroutine 'crawl_page' was never awaited");
}

TEST(Debug, NeverAwaitedWithoutALoopGoesToStderr) {
  testing::internal::CaptureStderr();
  { auto forgotten = crawl_page(2); }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("coroutine 'crawl_page' was never awaited"), std::string::npos) << err;
}

TEST(Debug, AwaitedScheduledClosedOrMovedFromCoroutinesAreNotReported) {
  Reports r;
  testing::internal::CaptureStderr();
  aio::run([](Reports& rep) -> aio::Task<> {
    rep.install();
    EXPECT_EQ(co_await crawl_page(1), 1);  // awaited
    {
      auto t = aio::create_task(crawl_page(2));  // scheduled, handle dropped before it ran
    }
    aio::create_task(crawl_page(3));  // fire and forget: no warning, no report
    {
      auto a = crawl_page(4);
      auto b = std::move(a);  // `a` is moved-from
      EXPECT_EQ(co_await b, 4);
    }
    {
      auto c = crawl_page(5);
      c.close();  // Python: coro.close()
    }
    co_await aio::sleep(0s);
  }(r));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(r.got.empty()) << r.got[0].message;
  EXPECT_EQ(err, "");
}

TEST(Debug, ExceptionNeverRetrievedNamesTheTask) {
  Reports r;
  aio::run([](Reports& rep) -> aio::Task<> {
    rep.install();
    aio::create_task(
        []() -> aio::Task<> {
          co_await aio::sleep(0s);
          throw pyconc::ValueError("lost");
        }(),
        "failing-task");
    co_await aio::sleep(0s);
    co_await aio::sleep(0s);
  }(r));
  ASSERT_TRUE(r.has("never retrieved"));
  EXPECT_EQ(r.got[0].task, "failing-task");
  EXPECT_TRUE(r.got[0].exception != nullptr);
}

TEST(Debug, SlowStepIsReported) {
  Reports r;
  aio::run(
      [](Reports& rep) -> aio::Task<> {
        rep.install();
        auto t = aio::create_task(
            []() -> aio::Task<> {
              std::this_thread::sleep_for(120ms);  // blocks the loop on purpose
              co_return;
            }(),
            "blocker");
        co_await t;
      }(r),
      {.debug = true, .slow_callback_duration = 50ms});
  ASSERT_TRUE(r.has("blocking the event loop"));
  bool named = false;
  for (const auto& c : r.got) named = named || c.task == "blocker";
  EXPECT_TRUE(named);
}

TEST(Debug, CallbackExceptionGoesToTheHandlerAndTheLoopGoesOn) {
  Reports r;
  int after = 0;
  aio::run([](Reports& rep, int& a) -> aio::Task<> {
    rep.install();
    auto& loop = aio::get_running_loop();
    loop.call_soon([] { throw pyconc::RuntimeError("from callback"); });
    loop.call_soon([&a] { a = 1; });
    co_await aio::sleep(0s);
    co_await aio::sleep(0s);
  }(r, after));
  EXPECT_TRUE(r.has("Exception in callback"));
  EXPECT_EQ(after, 1);
}

TEST(Loop, GetRunningLoopOutsideRaises) {
  EXPECT_THROW(aio::get_running_loop(), pyconc::RuntimeError);
  EXPECT_THROW((void)aio::create_task(crawl_page(1)), pyconc::RuntimeError);
}

TEST(Loop, NestedRunRaises) {
  aio::run([]() -> aio::Task<> {
    EXPECT_THROW(aio::run(crawl_page(1)), pyconc::RuntimeError);
    co_return;
  }());
}

TEST(Loop, RunUntilCompleteAndStepping) {
  aio::EventLoop loop;
  EXPECT_EQ(loop.run_until_complete(crawl_page(5)), 5);
  // Deterministic stepping: a callback runs on the next run_once.
  int n = 0;
  loop.call_soon([&] { ++n; });
  EXPECT_EQ(n, 0);
  loop.run_once();
  EXPECT_EQ(n, 1);
  loop.close();
  EXPECT_TRUE(loop.is_closed());
  EXPECT_THROW(loop.call_soon_threadsafe([] {}), pyconc::RuntimeError);
}

TEST(Loop, AddReaderLevelTriggered) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  int reads = 0;
  aio::run([](int rfd, int wfd, int& count) -> aio::Task<> {
    auto& loop = aio::get_running_loop();
    pyconc::Future<void> got;
    loop.add_reader(rfd, [rfd, &count, got]() mutable {
      char c;
      if (::read(rfd, &c, 1) == 1) ++count;
      if (count == 2 && !got.done()) got.set_result();
    });
    EXPECT_EQ(::write(wfd, "ab", 2), 2);  // two bytes, read one per callback: level-triggered
    co_await got;
    EXPECT_TRUE(loop.remove_reader(rfd));
    EXPECT_FALSE(loop.remove_reader(rfd));
  }(fds[0], fds[1], reads));
  EXPECT_EQ(reads, 2);
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace
