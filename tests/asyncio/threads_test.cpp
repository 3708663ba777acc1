#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "pyconc/asyncio.hpp"
#include "pyconc/asyncio/future.hpp"
#include "pyconc/asyncio/threads.hpp"
#include "pyconc/futures.hpp"
#include "pyconc/threading.hpp"

namespace aio = pyconc::asyncio;
namespace cf = pyconc::futures;
using namespace std::chrono_literals;

namespace {

int square(int x) {
  return x * x;
}

TEST(Threads, ToThreadAndRunInExecutor) {
  cf::ThreadPoolExecutor pool(2);
  auto main = [&]() -> aio::Task<int> {
    int a = co_await aio::to_thread(square, 3);
    int b = co_await aio::run_in_executor(pool, square, 4);
    int c = co_await pool.submit(square, 5);
    co_return a + b + c;
  };
  EXPECT_EQ(aio::run(main()), 9 + 16 + 25);
}

TEST(Threads, AwaitFutureCompletedByAnotherThread) {
  pyconc::Future<std::string> f;
  pyconc::threading::Event started;
  auto main = [&]() -> aio::Task<std::string> {
    std::thread t([&] {
      started.wait();
      f.set_result("from thread");
    });
    aio::get_running_loop().call_soon([&] { started.set(); });
    std::string s = co_await f;
    t.join();
    co_return s;
  };
  EXPECT_EQ(aio::run(main()), "from thread");
}

TEST(Threads, FutureExceptionPropagates) {
  cf::ThreadPoolExecutor pool(1);
  auto main = [&]() -> aio::Task<> {
    auto f = pool.submit([]() -> int { throw pyconc::ValueError("bad"); });
    EXPECT_THROW(co_await f, pyconc::ValueError);
  };
  aio::run(main());
}

TEST(Threads, CancelWhileAwaitingFuture) {
  pyconc::Future<int> never;  // nobody completes it
  auto main = [&]() -> aio::Task<> {
    auto t = aio::create_task(
        [](pyconc::Future<int> f) -> aio::Task<int> { co_return co_await f; }(never));
    co_await aio::sleep(0s);
    t.cancel();
    EXPECT_THROW(co_await t, pyconc::CancelledError);
    EXPECT_TRUE(never.cancelled());  // the cancel reached the future, as wrap_future does
  };
  aio::run(main());
}

TEST(Threads, RunCoroutineThreadsafe) {
  pyconc::Future<aio::EventLoop*> loop_ready;
  pyconc::Future<void> stop;
  std::thread loop_thread([&] {
    aio::run([](pyconc::Future<aio::EventLoop*> ready, pyconc::Future<void> stop) -> aio::Task<> {
      ready.set_result(&aio::get_running_loop());
      co_await stop;
    }(loop_ready, stop));
  });
  aio::EventLoop* loop = loop_ready.result(10s);
  auto coro = []() -> aio::Task<int> {
    co_await aio::sleep(1ms);
    co_return 42;
  };
  pyconc::Future<int> f = aio::run_coroutine_threadsafe(coro(), *loop);
  EXPECT_EQ(f.result(10s), 42);

  // Cancelling the future from this thread cancels the task.
  pyconc::Future<int> g = aio::run_coroutine_threadsafe(
      []() -> aio::Task<int> {
        co_await aio::sleep(1h);
        co_return 1;
      }(),
      *loop);
  EXPECT_TRUE(g.cancel());
  EXPECT_THROW(g.result(10s), pyconc::CancelledError);
  stop.set_result();
  loop_thread.join();
}

}  // namespace
