#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/asyncio.hpp"
#include "pyconc/future.hpp"

namespace aio = pyconc::asyncio;
using namespace std::chrono_literals;

namespace {

aio::Task<int> add(int a, int b) {
  co_return a + b;
}

aio::Task<int> nested(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await nested(depth - 1);
}

TEST(Task, RunReturnsValue) {
  EXPECT_EQ(aio::run(add(2, 3)), 5);
}

// Sanitizer builds instrument the coroutine resume functions, which stops GCC from turning the
// symmetric transfer into a tail call (the stack then grows with the chain): they check the
// behaviour on a shorter chain; the plain build checks the million.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kDepth = 1'000;
#else
constexpr int kDepth = 1'000'000;
#endif

TEST(Task, InlineAwaitDoesNotGrowTheStack) {
  // Symmetric transfer: a million nested awaits.
  EXPECT_EQ(aio::run(nested(kDepth)), kDepth);
}

aio::Task<std::string> sleeper(std::vector<std::string>& log, std::string name,
                               std::chrono::milliseconds d) {
  co_await aio::sleep(d);
  log.push_back(name);
  co_return name;
}

TEST(Task, CreateTaskRunsConcurrently) {
  std::vector<std::string> log;
  auto main = [&]() -> aio::Task<> {
    auto a = aio::create_task(sleeper(log, "a", 30ms), "A");
    auto b = aio::create_task(sleeper(log, "b", 10ms));
    EXPECT_EQ(a.get_name(), "A");
    EXPECT_EQ(b.get_name().rfind("Task-", 0), 0U);
    EXPECT_FALSE(a.done());
    std::string ra = co_await a;
    std::string rb = co_await b;
    EXPECT_EQ(ra, "a");
    EXPECT_EQ(rb, "b");
    EXPECT_TRUE(a.done());
  };
  aio::run(main());
  EXPECT_EQ(log, (std::vector<std::string>{"b", "a"}));
}

TEST(Task, CancelWhileSleeping) {
  auto main = []() -> aio::Task<> {
    bool caught = false;
    auto t = aio::create_task([](bool& c) -> aio::Task<> {
      try {
        co_await aio::sleep(10s);
      } catch (const pyconc::CancelledError&) {
        c = true;
        throw;
      }
    }(caught));
    co_await aio::sleep(0s);  // let it start sleeping
    EXPECT_TRUE(t.cancel());
    EXPECT_THROW(co_await t, pyconc::CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_TRUE(caught);
    EXPECT_THROW(t.result(), pyconc::CancelledError);
  };
  const auto start = std::chrono::steady_clock::now();
  aio::run(main());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(Task, ExceptionPropagates) {
  auto main = []() -> aio::Task<> {
    auto t = aio::create_task([]() -> aio::Task<int> {
      co_await aio::sleep(0s);
      throw pyconc::ValueError("boom");
    }());
    EXPECT_THROW(co_await t, pyconc::ValueError);
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(t.cancelled());
  };
  aio::run(main());
}

TEST(Task, DoneCallbackIsScheduled) {
  int calls = 0;
  auto main = [&]() -> aio::Task<> {
    auto t = aio::create_task(add(1, 1));
    t.add_done_callback([&](aio::Task<int>& done) { calls += done.result(); });
    co_await t;
    co_await aio::sleep(0s);
  };
  aio::run(main());
  EXPECT_EQ(calls, 2);
}

int g_task_callback_calls = 0;
void count_task_done() {
  ++g_task_callback_calls;
}

TEST(Task, RemoveDoneCallback) {
  g_task_callback_calls = 0;
  std::vector<std::string> log;
  auto main = [&]() -> aio::Task<> {
    auto t = aio::create_task(add(1, 1));
    auto h = t.add_done_callback([&] { log.push_back("removed"); });
    t.add_done_callback(
        [&](aio::Task<int>& done) { log.push_back(std::to_string(done.result())); });
    t.add_done_callback(count_task_done);
    t.add_done_callback(count_task_done);
    EXPECT_EQ(t.remove_done_callback(h), 1U);
    EXPECT_EQ(t.remove_done_callback(h), 0U);
    EXPECT_EQ(t.remove_done_callback(count_task_done), 2U);
    co_await t;
    co_await aio::sleep(0s);
    EXPECT_EQ(t.remove_done_callback(count_task_done), 0U);  // done: nothing pending
  };
  aio::run(main());
  EXPECT_EQ(log, std::vector<std::string>{"2"});
  EXPECT_EQ(g_task_callback_calls, 0);
}

TEST(Loop, CreateFutureSchedulesCallbacksOnTheLoop) {
  std::vector<std::string> order;
  auto main = [&]() -> aio::Task<> {
    auto& loop = aio::get_running_loop();
    aio::Future<int> fut = loop.create_future<int>();
    EXPECT_FALSE(fut.done());
    fut.add_done_callback(
        [&](pyconc::Future<int>& f) { order.push_back("callback " + std::to_string(f.result())); });
    loop.call_soon([&order, fut]() mutable {
      order.push_back("set");
      fut.set_result(1);
      // asyncio.Future: the callback is scheduled, not run inside set_result.
      order.push_back("after set");
    });
    EXPECT_EQ(co_await fut, 1);
    co_await aio::sleep(0s);
    EXPECT_EQ(order, (std::vector<std::string>{"set", "after set", "callback 1"}));
    // Done already: add_done_callback schedules it too.
    order.clear();
    fut.add_done_callback([&] { order.push_back("late"); });
    EXPECT_TRUE(order.empty());
    co_await aio::sleep(0s);
    EXPECT_EQ(order, std::vector<std::string>{"late"});

    // Completed from another thread: the callback runs on the loop's thread.
    auto remote = loop.create_future<std::string>();
    // The callback reaches the loop through its thread-safe entrance, maybe after the awaiting
    // task resumed: wait for the callback itself (bounded), not for a number of loop turns.
    std::thread::id callback_thread;
    aio::Event callback_ran;
    remote.add_done_callback([&] {
      callback_thread = std::this_thread::get_id();
      callback_ran.set();
    });
    std::thread th([remote]() mutable { remote.set_result("from a thread"); });
    EXPECT_EQ(co_await aio::wait_for(remote, 5s), "from a thread");
    th.join();
    co_await aio::wait_for(callback_ran.wait(), 5s);
    EXPECT_EQ(callback_thread, std::this_thread::get_id());

    // Exceptions and cancellation, as asyncio.Future.
    auto bad = loop.create_future<void>();
    loop.call_soon([bad]() mutable { bad.set_exception(pyconc::ValueError("no")); });
    EXPECT_THROW(co_await bad, pyconc::ValueError);
    auto gone = loop.create_future<int>();
    EXPECT_TRUE(gone.cancel());
    EXPECT_THROW(co_await gone, pyconc::CancelledError);
  };
  aio::run(main());
}

TEST(Loop, CallSoonLaterAndThreadsafe) {
  std::vector<int> order;
  auto main = [&]() -> aio::Task<> {
    auto& loop = aio::get_running_loop();
    pyconc::Future<void> from_thread, late;
    loop.call_soon([&] { order.push_back(1); });
    auto h = loop.call_later(5ms, [&] { order.push_back(99); });
    h.cancel();
    EXPECT_TRUE(h.cancelled());
    std::thread th([&loop, &order, from_thread]() mutable {
      loop.call_soon_threadsafe([&order, from_thread]() mutable {
        order.push_back(2);
        from_thread.set_result();
      });
    });
    co_await from_thread;
    // Scheduled only now: however late the other thread's callback came, the timer fires after
    // it (a timer started first raced it on a loaded machine). 20 ms also outlasts the 5 ms
    // of the cancelled one, which therefore had its chance to run (wrongly) before.
    loop.call_later(20ms, [&order, late]() mutable {
      order.push_back(3);
      late.set_result();
    });
    co_await late;
    th.join();
  };
  aio::run(main());
  ASSERT_EQ(order.size(), 3U);
  EXPECT_EQ(order[0], 1);
  EXPECT_EQ(order[1], 2);
  EXPECT_EQ(order[2], 3);
}

TEST(Loop, RunReportsLeftoverTasksCancelled) {
  bool cancelled = false;
  auto main = [&]() -> aio::Task<> {
    aio::create_task([](bool& c) -> aio::Task<> {
      try {
        co_await aio::sleep(1h);
      } catch (const pyconc::CancelledError&) {
        c = true;
        throw;
      }
    }(cancelled));
    co_await aio::sleep(0s);
  };
  aio::run(main());
  EXPECT_TRUE(cancelled);
}

}  // namespace

namespace {

aio::Task<int> craw_page(int n) {
  co_await aio::sleep(1ms);
  co_return n * 10;
}

// The seeds' style: loop = asyncio.get_event_loop(); tasks = [loop.create_task(f(u)) ...];
// loop.run_until_complete(asyncio.wait(tasks)).
TEST(Loop, GetEventLoopAndLoopCreateTask) {
  aio::EventLoop& loop = aio::get_event_loop();
  EXPECT_EQ(&loop, &aio::get_event_loop());  // the thread's default loop, kept
  std::vector<aio::Task<int>> tasks;
  for (int n = 1; n <= 3; ++n)
    tasks.push_back(loop.create_task(craw_page(n), "p" + std::to_string(n)));
  EXPECT_FALSE(tasks[0].done());  // scheduled, not run: the loop is not running yet
  loop.run_until_complete(aio::gather(tasks));
  int sum = 0;
  for (auto& t : tasks) sum += t.result();
  EXPECT_EQ(sum, 60);
  EXPECT_EQ(tasks[1].get_name(), "p2");
  // Inside a running loop, get_event_loop() is that loop.
  aio::EventLoop other;
  auto check = [&]() -> aio::Task<bool> { co_return &aio::get_event_loop() == &other; };
  EXPECT_TRUE(other.run_until_complete(check()));
  // A coroutine already scheduled cannot become a task again.
  auto t = loop.create_task(craw_page(1));
  EXPECT_THROW(loop.create_task(t), pyconc::ValueError);
  loop.run_until_complete(std::move(t));
}

TEST(Outcome, ValueOfAConstOutcome) {
  const aio::Outcome<std::string> ok(std::string("v"));
  EXPECT_EQ(ok.value(), "v");
  const aio::Outcome<int> bad(std::make_exception_ptr(pyconc::ValueError("x")));
  EXPECT_THROW(bad.value(), pyconc::ValueError);
}

}  // namespace
