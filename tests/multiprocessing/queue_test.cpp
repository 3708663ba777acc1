#include "pyconc/multiprocessing/queue.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "mp_test_util.hpp"
#include "pyconc/multiprocessing/event.hpp"
#include "pyconc/multiprocessing/process.hpp"
#include "pyconc/multiprocessing/value.hpp"
#include "pyconc/threading/thread.hpp"

using namespace std::chrono_literals;
namespace mp = pyconc::multiprocessing;
namespace th = pyconc::threading;
using mp_test::MpTest;

class QueueTest : public MpTest {};

TEST_F(QueueTest, FifoInOneProcess) {
  mp::Queue<std::string> q;
  EXPECT_TRUE(q.empty());
  q.put("A");
  q.put("B");
  q.put_nowait("C");
  EXPECT_EQ(q.qsize(), 3U);
  EXPECT_FALSE(q.full());
  EXPECT_EQ(q.get(), "A");
  EXPECT_EQ(q.get(1s), "B");
  EXPECT_EQ(q.get_nowait(), "C");
  EXPECT_THROW(q.get_nowait(), pyconc::queue::Empty);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(q.get(50ms), pyconc::queue::Empty);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 50ms);
}

TEST_F(QueueTest, BoundedPutBlocksAndTimesOut) {
  mp::Queue<int> q(2);
  q.put(1);
  q.put(2);
  EXPECT_TRUE(q.full());
  EXPECT_THROW(q.put_nowait(3), pyconc::queue::Full);
  EXPECT_THROW(q.put(3, 30ms), pyconc::queue::Full);
  mp::Process p([q]() mutable { q.put(3); });  // blocks until the parent gets one
  p.start();
  EXPECT_EQ(q.get(), 1);
  p.join();
  EXPECT_EQ(q.get(), 2);
  EXPECT_EQ(q.get(), 3);
  EXPECT_EQ(q.maxsize(), 2U);
}

// The seed: two processes each put a result, the parent gets both after joining them.
TEST_F(QueueTest, ChildrenPutResultsTheParentGets) {
  mp::Queue<long long> q;
  auto job = [](mp::Queue<long long> q) {
    long long res = 0;
    for (long long i = 0; i < 1000; ++i) res += i + i * i + i * i * i;
    q.put(res);
  };
  mp::Process p1(job, q), p2(job, q);
  p1.start();
  p2.start();
  p1.join();
  p2.join();
  long long want = 0;
  for (long long i = 0; i < 1000; ++i) want += i + i * i + i * i * i;
  EXPECT_EQ(q.get(1s) + q.get(1s), 2 * want);
}

// Many producers and consumers in many processes: every item arrives exactly once.
TEST_F(QueueTest, ManyProducersAndConsumersAcrossProcesses) {
  constexpr int kProducers = 3, kConsumers = 3, kPerProducer = 3000;
  mp::Queue<int> q(64);  // bounded: producers block too
  mp::Queue<std::vector<int>> results;
  std::vector<mp::Process> ps;
  for (int p = 0; p < kProducers; ++p) {
    ps.emplace_back([q, p]() mutable {
      for (int i = 0; i < kPerProducer; ++i) q.put(p * kPerProducer + i);
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    ps.emplace_back([q, results]() mutable {
      std::vector<int> got;
      for (;;) {
        const int v = q.get();
        if (v < 0) break;
        got.push_back(v);
      }
      results.put(got);
    });
  }
  for (auto& p : ps) p.start();
  for (int p = 0; p < kProducers; ++p) ps[static_cast<std::size_t>(p)].join();
  for (int c = 0; c < kConsumers; ++c) q.put(-1);
  std::vector<int> all;
  for (int c = 0; c < kConsumers; ++c) {
    auto got = results.get(20s);
    // Each producer's items arrive in the order it put them.
    for (std::size_t i = 1; i < got.size(); ++i) {
      if (got[i] / kPerProducer == got[i - 1] / kPerProducer) {
        EXPECT_LT(got[i - 1], got[i]);
      }
    }
    all.insert(all.end(), got.begin(), got.end());
  }
  for (auto& p : ps) p.join();
  for (auto& p : ps) EXPECT_EQ(p.exitcode(), 0);
  std::sort(all.begin(), all.end());
  std::vector<int> want(kProducers * kPerProducer);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_EQ(all, want);
}

TEST_F(QueueTest, LargeItemsGrowTheRingAndShrinkBack) {
  mp::Queue<std::string> q;
  // 40 MiB waiting at once: the window grows from 1 MiB and wraps along the way.
  const std::string block(1 << 20, 'q');
  q.put("first");
  for (int i = 0; i < 40; ++i) q.put(block + std::to_string(i));
  EXPECT_EQ(q.get(), "first");
  for (int i = 0; i < 40; ++i) ASSERT_EQ(q.get(), block + std::to_string(i));
  EXPECT_TRUE(q.empty());
  q.put("again");
  EXPECT_EQ(q.get(), "again");
  mp::Queue<std::string> small(mp::QueueOptions{.capacity_bytes = 1 << 20});
  EXPECT_THROW(small.put(std::string(2 << 20, 'x')), pyconc::ValueError);
}

TEST_F(QueueTest, AConsumerKilledMidGetLeavesTheQueueUsable) {
  mp::Queue<int> q;
  mp::Event started;
  // A consumer that is killed while blocked in get().
  mp::Process p([q, started]() mutable {
    started.set();
    q.get();
  });
  p.start();
  ASSERT_TRUE(started.wait(10s));
  p.kill();
  p.join();
  for (int i = 0; i < 100; ++i) q.put(i);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(q.get(1s), i);
}

TEST_F(QueueTest, CloseRefusesFurtherCallsOnThisHandle) {
  mp::Queue<int> q;
  mp::Queue<int> copy = q;
  q.put(1);
  q.close();
  EXPECT_THROW(q.put(2), pyconc::ValueError);
  EXPECT_THROW(copy.get(), pyconc::ValueError);
  q.join_thread();
  q.cancel_join_thread();
}

TEST_F(QueueTest, ThreadsOfOneProcessToo) {
  mp::Queue<int> q(8);
  std::vector<th::Thread> ts;
  for (int t = 0; t < 3; ++t) {
    ts.emplace_back([&q, t] {
      for (int i = 0; i < 1000; ++i) q.put(t * 1000 + i);
    });
  }
  for (auto& t : ts) t.start();
  long long sum = 0;
  for (int i = 0; i < 3000; ++i) sum += q.get(10s);
  for (auto& t : ts) t.join();
  EXPECT_EQ(sum, 2999LL * 3000 / 2);
}

TEST_F(QueueTest, JoinableQueueTaskDoneAndJoin) {
  mp::JoinableQueue<int> q;
  EXPECT_THROW(q.task_done(), pyconc::ValueError);
  for (int i = 0; i < 10; ++i) q.put(i);
  EXPECT_FALSE(q.join(20ms));
  mp::Value<int> sum(0, {.lock = false});
  mp::Process worker([q, sum]() mutable {
    for (int i = 0; i < 10; ++i) {
      sum.value() += q.get();
      q.task_done();
    }
  });
  worker.start();
  q.join();
  EXPECT_EQ(sum.value(), 45);
  worker.join();
  EXPECT_TRUE(q.join(0s));
}

TEST_F(QueueTest, SimpleQueue) {
  mp::SimpleQueue<std::string> q;
  EXPECT_TRUE(q.empty());
  mp::Process p([q]() mutable {
    q.put("x");
    q.put("y");
  });
  p.start();
  p.join();
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.get(), "x");
  EXPECT_EQ(q.get(), "y");
  EXPECT_TRUE(q.empty());
}
