#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "prim_util.hpp"
#include "pyconc/asyncio/lifo_queue.hpp"
#include "pyconc/asyncio/priority_queue.hpp"
#include "pyconc/asyncio/queue.hpp"

namespace {

using prim_test::run_bounded;
using prim_test::yield_n;

TEST(AsyncQueue, NowaitAndSizes) {
  aio::Queue<int> q(2);
  EXPECT_EQ(q.maxsize(), 2);
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.full());
  EXPECT_THROW(q.get_nowait(), aio::QueueEmpty);
  q.put_nowait(1);
  q.put_nowait(2);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.qsize(), 2U);
  EXPECT_THROW(q.put_nowait(3), aio::QueueFull);
  EXPECT_EQ(q.get_nowait(), 1);
  EXPECT_EQ(q.get_nowait(), 2);
  EXPECT_TRUE(q.empty());

  aio::Queue<int> unbounded(-5);  // <= 0: unbounded, as in Python
  EXPECT_EQ(unbounded.maxsize(), -5);
  for (int i = 0; i < 1000; ++i) unbounded.put_nowait(i);
  EXPECT_FALSE(unbounded.full());
  EXPECT_EQ(unbounded.qsize(), 1000U);
}

TEST(AsyncQueue, PutAndGetDoNotSuspendWhenTheyCanProceed) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<int> q(1);
    bool other_ran = false;
    auto other = aio::create_task([](bool& r) -> aio::Task<> {
      r = true;
      co_return;
    }(other_ran));
    co_await q.put(5);
    EXPECT_EQ(co_await q.get(), 5);
    EXPECT_FALSE(other_ran);
    co_await other;
  }());
}

aio::Task<> getter(aio::Queue<std::string>& q, std::vector<std::string>& log, std::string name) {
  try {
    std::string v = co_await q.get();
    log.push_back(name + " got " + v);
  } catch (const pyconc::CancelledError&) {
    log.push_back(name + " cancelled");
    throw;
  } catch (const aio::QueueShutDown&) {
    log.push_back(name + " shutdown");
  }
}

aio::Task<> putter(aio::Queue<std::string>& q, std::vector<std::string>& log, std::string item) {
  try {
    co_await q.put(item);
    log.push_back("put " + item);
  } catch (const pyconc::CancelledError&) {
    log.push_back("put " + item + " cancelled");
    throw;
  } catch (const aio::QueueShutDown&) {
    log.push_back("put " + item + " shutdown");
  }
}

TEST(AsyncQueue, GettersAreServedInArrivalOrder) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::string> q;
    std::vector<std::string> log;
    std::vector<aio::Task<>> gs;
    for (const char* n : {"A", "B", "C"}) gs.push_back(aio::create_task(getter(q, log, n)));
    co_await yield_n();
    q.put_nowait("1");
    co_await q.put("2");
    q.put_nowait("3");
    for (auto& g : gs) co_await g;
    EXPECT_EQ(log, (std::vector<std::string>{"A got 1", "B got 2", "C got 3"}));
  }());
}

TEST(AsyncQueue, PuttersWaitWhileFullInArrivalOrder) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::string> q(1);
    std::vector<std::string> log;
    q.put_nowait("0");
    std::vector<aio::Task<>> ps;
    for (const char* n : {"a", "b", "c"}) ps.push_back(aio::create_task(putter(q, log, n)));
    co_await yield_n();
    EXPECT_TRUE(log.empty());
    std::vector<std::string> got;
    for (int i = 0; i < 4; ++i) got.push_back(co_await q.get());
    for (auto& p : ps) co_await p;
    EXPECT_EQ(got, (std::vector<std::string>{"0", "a", "b", "c"}));
    EXPECT_EQ(log, (std::vector<std::string>{"put a", "put b", "put c"}));
  }());
}

TEST(AsyncQueue, AnItemPromisedToAWokenGetterIsNotTakenByANewcomer) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::string> q;
    std::vector<std::string> log;
    auto a = aio::create_task(getter(q, log, "A"));
    co_await yield_n();
    q.put_nowait("x");         // wakes A, which has not run
    EXPECT_EQ(q.qsize(), 1U);  // the item is still in the queue, as in Python ...
    EXPECT_THROW(q.get_nowait(), aio::QueueEmpty);  // ... but it is A's
    co_await a;
    EXPECT_EQ(log, (std::vector<std::string>{"A got x"}));
  }());
}

TEST(AsyncQueue, CancelledGetterTakesNothing) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::string> q;
    std::vector<std::string> log;
    auto a = aio::create_task(getter(q, log, "A"));
    auto b = aio::create_task(getter(q, log, "B"));
    co_await yield_n();
    a.cancel();
    EXPECT_THROW(co_await a, pyconc::CancelledError);
    q.put_nowait("x");
    co_await b;
    EXPECT_EQ(log, (std::vector<std::string>{"A cancelled", "B got x"}));
  }());
}

TEST(AsyncQueue, WokenThenCancelledGetterPassesTheItemOn) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::string> q;
    std::vector<std::string> log;
    auto a = aio::create_task(getter(q, log, "A"));
    auto b = aio::create_task(getter(q, log, "B"));
    co_await yield_n();
    q.put_nowait("x");  // promised to A ...
    a.cancel();         // ... which is cancelled before it runs
    EXPECT_THROW(co_await a, pyconc::CancelledError);
    co_await b;
    EXPECT_EQ(log, (std::vector<std::string>{"A cancelled", "B got x"}));
    EXPECT_TRUE(q.empty());
  }());
}

TEST(AsyncQueue, WokenThenCancelledLastGetterLeavesTheItemQueued) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::string> q;
    std::vector<std::string> log;
    auto a = aio::create_task(getter(q, log, "A"));
    co_await yield_n();
    q.put_nowait("x");
    a.cancel();
    EXPECT_THROW(co_await a, pyconc::CancelledError);
    EXPECT_EQ(q.qsize(), 1U);
    EXPECT_EQ(q.get_nowait(), "x");  // not lost
  }());
}

TEST(AsyncQueue, CancelledPutterQueuesNothing) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::string> q(1);
    std::vector<std::string> log;
    q.put_nowait("0");
    auto a = aio::create_task(putter(q, log, "a"));
    auto b = aio::create_task(putter(q, log, "b"));
    co_await yield_n();
    a.cancel();
    EXPECT_THROW(co_await a, pyconc::CancelledError);
    EXPECT_EQ(co_await q.get(), "0");
    co_await b;
    EXPECT_EQ(co_await q.get(), "b");
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(log, (std::vector<std::string>{"put a cancelled", "put b"}));
  }());
}

TEST(AsyncQueue, WokenThenCancelledPutterPassesTheSlotOn) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::string> q(1);
    std::vector<std::string> log;
    q.put_nowait("0");
    auto a = aio::create_task(putter(q, log, "a"));
    auto b = aio::create_task(putter(q, log, "b"));
    co_await yield_n();
    EXPECT_EQ(q.get_nowait(), "0");                          // the free slot is promised to a ...
    EXPECT_THROW(q.put_nowait("newcomer"), aio::QueueFull);  // ... not to a newcomer
    a.cancel();                                              // a is cancelled before it runs
    EXPECT_THROW(co_await a, pyconc::CancelledError);
    co_await b;
    EXPECT_EQ(q.get_nowait(), "b");
    EXPECT_EQ(log, (std::vector<std::string>{"put a cancelled", "put b"}));
  }());
}

TEST(AsyncQueue, TaskDoneAndJoin) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<int> q;
    co_await q.join();  // nothing put: returns at once
    EXPECT_THROW(q.task_done(), pyconc::ValueError);
    for (int i = 0; i < 3; ++i) q.put_nowait(i);
    EXPECT_EQ(q.unfinished_tasks(), 3U);
    std::vector<int> done;
    auto worker = aio::create_task([](aio::Queue<int>& qq, std::vector<int>& d) -> aio::Task<> {
      while (true) {
        int v = co_await qq.get();
        co_await yield_n();
        d.push_back(v);
        qq.task_done();
      }
    }(q, done));
    co_await q.join();
    EXPECT_EQ(done, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(q.unfinished_tasks(), 0U);
    worker.cancel();
    EXPECT_THROW(co_await worker, pyconc::CancelledError);
    EXPECT_THROW(q.task_done(), pyconc::ValueError);
  }());
}

TEST(AsyncQueue, ShutdownLetsGettersDrainThenRaises) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::string> q(1);
    std::vector<std::string> log;
    q.put_nowait("left");
    auto p = aio::create_task(putter(q, log, "p"));  // waits: full
    co_await yield_n();
    q.shutdown();
    co_await p;
    EXPECT_THROW(q.put_nowait("x"), aio::QueueShutDown);
    EXPECT_THROW(co_await q.put("x"), aio::QueueShutDown);
    EXPECT_EQ(co_await q.get(), "left");  // drained first
    EXPECT_THROW(q.get_nowait(), aio::QueueShutDown);
    EXPECT_THROW(co_await q.get(), aio::QueueShutDown);
    EXPECT_EQ(log, (std::vector<std::string>{"put p shutdown"}));
  }());
}

TEST(AsyncQueue, ShutdownWakesWaitingGetters) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::string> q;
    std::vector<std::string> log;
    auto a = aio::create_task(getter(q, log, "A"));
    auto b = aio::create_task(getter(q, log, "B"));
    co_await yield_n();
    q.shutdown();
    co_await a;
    co_await b;
    EXPECT_EQ(log, (std::vector<std::string>{"A shutdown", "B shutdown"}));
  }());
}

TEST(AsyncQueue, ShutdownKeepsAnItemPromisedToAWokenGetter) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::string> q;
    std::vector<std::string> log;
    auto a = aio::create_task(getter(q, log, "A"));
    auto b = aio::create_task(getter(q, log, "B"));
    co_await yield_n();
    q.put_nowait("x");  // promised to A
    q.shutdown();       // B is woken to raise; A still gets its item
    co_await a;
    co_await b;
    EXPECT_EQ(log, (std::vector<std::string>{"A got x", "B shutdown"}));
  }());
}

TEST(AsyncQueue, ImmediateShutdownDropsItemsAndReleasesJoin) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::string> q;
    q.put_nowait("x");
    q.put_nowait("y");
    bool joined = false;
    auto j = aio::create_task([](aio::Queue<std::string>& qq, bool& out) -> aio::Task<> {
      co_await qq.join();
      out = true;
    }(q, joined));
    co_await yield_n();
    EXPECT_FALSE(joined);
    q.shutdown(/*immediate=*/true);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.unfinished_tasks(), 0U);  // the dropped items count as done
    co_await j;
    EXPECT_TRUE(joined);
    EXPECT_THROW(q.get_nowait(), aio::QueueShutDown);
  }());
}

TEST(AsyncQueue, ImmediateShutdownAlsoDropsAnItemPromisedToAWokenGetter) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::string> q;
    std::vector<std::string> log;
    auto a = aio::create_task(getter(q, log, "A"));
    co_await yield_n();
    q.put_nowait("x");               // promised to A, which has not run ...
    q.shutdown(/*immediate=*/true);  // ... and dropped, as Python drops it
    co_await a;
    EXPECT_EQ(log, (std::vector<std::string>{"A shutdown"}));
    EXPECT_EQ(q.unfinished_tasks(), 0U);
  }());
}

TEST(AsyncQueue, CancelWhileShutdownWokeItIsStillACancel) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::string> q;
    std::vector<std::string> log;
    auto a = aio::create_task(getter(q, log, "A"));
    co_await yield_n();
    q.shutdown();
    a.cancel();
    EXPECT_THROW(co_await a, pyconc::CancelledError);
    EXPECT_EQ(log, (std::vector<std::string>{"A cancelled"}));
  }());
}

TEST(AsyncQueue, MoveOnlyItems) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<std::unique_ptr<int>> q(1);
    co_await q.put(std::make_unique<int>(1));
    auto p = aio::create_task([](aio::Queue<std::unique_ptr<int>>& qq) -> aio::Task<> {
      co_await qq.put(std::make_unique<int>(2));  // waits for room, holding its item
    }(q));
    co_await yield_n();
    auto first = co_await q.get();
    auto second = co_await q.get();
    co_await p;
    EXPECT_EQ(*first, 1);
    EXPECT_EQ(*second, 2);
  }());
}

TEST(AsyncQueue, LifoAndPriorityOrders) {
  run_bounded([]() -> aio::Task<> {
    aio::LifoQueue<int> stack;
    for (int i : {1, 2, 3}) co_await stack.put(i);
    EXPECT_EQ(co_await stack.get(), 3);
    EXPECT_EQ(stack.get_nowait(), 2);

    aio::PriorityQueue<std::pair<int, std::string>> jobs;
    co_await jobs.put({2, "later"});
    co_await jobs.put({1, "first"});
    co_await jobs.put({3, "last"});
    EXPECT_EQ((co_await jobs.get()).second, "first");
    EXPECT_EQ(jobs.get_nowait().second, "later");

    aio::PriorityQueue<int, std::greater<int>> maxq(2, std::greater<int>());
    maxq.put_nowait(1);
    maxq.put_nowait(5);
    EXPECT_THROW(maxq.put_nowait(9), aio::QueueFull);
    EXPECT_EQ(maxq.get_nowait(), 5);

    // A getter woken by a put takes the smallest item when it runs.
    aio::PriorityQueue<int> pq;
    auto g = aio::create_task(
        [](aio::PriorityQueue<int>& q) -> aio::Task<int> { co_return co_await q.get(); }(pq));
    co_await yield_n();
    pq.put_nowait(7);
    pq.put_nowait(3);
    EXPECT_EQ(co_await g, 3);
  }());
}

TEST(AsyncQueue, DestroyedWhileTasksWait) {
  run_bounded([]() -> aio::Task<> {
    auto q = std::make_unique<aio::Queue<std::string>>();
    std::string a_out;
    std::vector<std::string> log;
    auto a = aio::create_task([](aio::Queue<std::string>& qq, std::string& out) -> aio::Task<> {
      try {
        out = co_await qq.get();
      } catch (const pyconc::RuntimeError& e) {
        out = e.what();
      }
    }(*q, a_out));
    auto b = aio::create_task(getter(*q, log, "B"));
    co_await yield_n();
    q->put_nowait("x");  // promised to A
    q.reset();           // destroyed before A runs
    co_await a;
    EXPECT_NE(a_out.find("destroyed"), std::string::npos) << a_out;
    co_await yield_n();
    EXPECT_FALSE(b.done());
    b.cancel();
    EXPECT_THROW(co_await b, pyconc::CancelledError);
    EXPECT_EQ(log, (std::vector<std::string>{"B cancelled"}));
  }());
}

aio::Task<> get_forever(aio::Queue<std::string>& q) {
  (void)co_await q.get();
}

TEST(AsyncQueue, FramesDestroyedWhileParkedGiveTheirItemBack) {
  aio::Queue<std::string> q;
  {
    aio::EventLoop loop;
    loop.set_exception_handler([](aio::EventLoop&, const aio::ExceptionContext&) {});
    loop.run_until_complete([](aio::Queue<std::string>& qq) -> aio::Task<> {
      auto a = aio::create_task(get_forever(qq));
      auto b = aio::create_task(get_forever(qq));
      co_await yield_n();
      qq.put_nowait("x");  // promised to a; the loop stops before a runs
    }(q));
    loop.close();  // pending tasks are dropped: their frames (and awaiters) are destroyed
  }
  EXPECT_EQ(q.get_nowait(), "x");  // neither lost nor still promised
}

// The seed's shape: two producers, two consumers, consumers cancelled at the end.
TEST(AsyncQueue, ProducersAndConsumers) {
  run_bounded([]() -> aio::Task<> {
    aio::Queue<int> q(3);
    std::vector<int> consumed;
    auto consumer = [](aio::Queue<int>& qq, std::vector<int>& out) -> aio::Task<> {
      while (true) {
        out.push_back(co_await qq.get());
        qq.task_done();
      }
    };
    auto producer = [](aio::Queue<int>& qq, int base) -> aio::Task<> {
      for (int i = 0; i < 50; ++i) co_await qq.put(base + i);
    };
    auto c1 = aio::create_task(consumer(q, consumed));
    auto c2 = aio::create_task(consumer(q, consumed));
    auto p1 = aio::create_task(producer(q, 0));
    auto p2 = aio::create_task(producer(q, 1000));
    co_await p1;
    co_await p2;
    co_await q.join();
    c1.cancel();
    c2.cancel();
    EXPECT_THROW(co_await c1, pyconc::CancelledError);
    EXPECT_THROW(co_await c2, pyconc::CancelledError);
    EXPECT_EQ(consumed.size(), 100U);
    std::vector<int> from1, from2;
    for (int v : consumed) (v < 1000 ? from1 : from2).push_back(v);
    std::vector<int> want1, want2;
    for (int i = 0; i < 50; ++i) {
      want1.push_back(i);  // each producer's items come out in order
      want2.push_back(1000 + i);
    }
    EXPECT_EQ(from1, want1);
    EXPECT_EQ(from2, want2);
  }());
}

}  // namespace
