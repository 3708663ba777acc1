// Multi-producer / multi-consumer stress of the queues, run at 1, 2 and 4 producers and as
// many consumers, bounded and unbounded: every item is delivered exactly once, task_done/join
// account for all of them, and a shutdown() ends the consumers once the queue is drained.
// Plus a two-queue ping-pong that exercises the park/wake path on every hand-off.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <latch>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "pyconc/queue.hpp"

namespace {

using namespace std::chrono_literals;
namespace q = pyconc::queue;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int kItemsPerProducer = 20'000;  // sanitizers slow every operation ~10x
#else
constexpr int kItemsPerProducer = 100'000;
#endif
constexpr auto kLong = 30s;  // a bound on every wait, so that a bug fails instead of hanging

struct Config {
  int threads;             // producers, and as many consumers
  std::ptrdiff_t maxsize;  // 0 = unbounded
};

std::string config_name(const ::testing::TestParamInfo<Config>& info) {
  return std::to_string(info.param.threads) + "x" + std::to_string(info.param.threads) +
         (info.param.maxsize > 0 ? "_max" + std::to_string(info.param.maxsize) : "_unbounded");
}

// Puts `threads * kItemsPerProducer` distinct values through `queue` and checks each arrives
// exactly once. Consumers stop on ShutDown, which must come only after everything was drained.
template <class Queue>
void run_mpmc(Queue& queue, int threads) {
  const int total = threads * kItemsPerProducer;
  std::vector<std::atomic<std::uint8_t>> seen(static_cast<std::size_t>(total));
  std::atomic<long long> sum{0};
  std::atomic<int> received{0};
  std::atomic<int> failures{0};
  std::latch go(2 * threads + 1);
  {
    std::vector<std::jthread> consumers;
    for (int c = 0; c < threads; ++c) {
      consumers.emplace_back([&] {
        go.arrive_and_wait();
        long long local = 0;
        for (;;) {
          int v = 0;
          try {
            v = queue.get(kLong);
          } catch (const q::ShutDown&) {
            break;
          } catch (const q::Empty&) {
            failures.fetch_add(1);  // nothing came for kLong: a lost wake-up
            break;
          }
          if (seen[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed) != 0) {
            failures.fetch_add(1);  // delivered twice
          }
          local += v;
          received.fetch_add(1, std::memory_order_relaxed);
          queue.task_done();
        }
        sum.fetch_add(local);
      });
    }
    std::vector<std::jthread> producers;
    for (int p = 0; p < threads; ++p) {
      producers.emplace_back([&, p] {
        go.arrive_and_wait();
        for (int i = 0; i < kItemsPerProducer; ++i) {
          try {
            queue.put(p * kItemsPerProducer + i, kLong);
          } catch (const std::exception&) {
            failures.fetch_add(1);
            return;
          }
        }
      });
    }
    go.arrive_and_wait();
    for (auto& t : producers) t.join();
    EXPECT_TRUE(queue.join(kLong)) << "join() did not see every task_done()";
    EXPECT_EQ(received.load(), total);
    queue.shutdown();
  }  // consumers joined here
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(received.load(), total);
  const long long n = total;
  EXPECT_EQ(sum.load(), n * (n - 1) / 2);
  EXPECT_TRUE(queue.empty());
}

class QueueStress : public ::testing::TestWithParam<Config> {};

TEST_P(QueueStress, FifoEveryItemOnce) {
  q::Queue<int> queue(GetParam().maxsize);
  run_mpmc(queue, GetParam().threads);
}

TEST_P(QueueStress, LifoEveryItemOnce) {
  q::LifoQueue<int> queue(GetParam().maxsize);
  run_mpmc(queue, GetParam().threads);
}

TEST_P(QueueStress, PriorityEveryItemOnce) {
  q::PriorityQueue<int> queue(GetParam().maxsize);
  run_mpmc(queue, GetParam().threads);
}

INSTANTIATE_TEST_SUITE_P(Threads, QueueStress,
                         ::testing::Values(Config{1, 0}, Config{2, 0}, Config{4, 0}, Config{1, 1},
                                           Config{2, 16}, Config{4, 16}),
                         config_name);

// FIFO order per producer survives concurrency: each consumer sees each producer's items in
// increasing order.
TEST(QueueStressOrder, PerProducerOrderIsKept) {
  constexpr int kThreads = 4;
  q::Queue<std::pair<int, int>> queue(64);
  std::atomic<int> failures{0};
  {
    std::vector<std::jthread> threads;
    for (int c = 0; c < kThreads; ++c) {
      threads.emplace_back([&] {
        std::vector<int> last(kThreads, -1);
        for (;;) {
          auto item = queue.try_get(kLong);
          if (!item) {
            if (!queue.is_shutdown()) failures.fetch_add(1);
            break;
          }
          if (item->second <= last[static_cast<std::size_t>(item->first)]) failures.fetch_add(1);
          last[static_cast<std::size_t>(item->first)] = item->second;
        }
      });
    }
    {
      std::vector<std::jthread> producers;
      for (int p = 0; p < kThreads; ++p) {
        producers.emplace_back([&, p] {
          for (int i = 0; i < kItemsPerProducer / 4; ++i) queue.put({p, i}, kLong);
        });
      }
    }
    queue.shutdown();
  }
  EXPECT_EQ(failures.load(), 0);
}

// Two threads hand one token back and forth: nearly every get() finds the queue empty, spins,
// and often parks, so this hammers the sleep/wake protocol.
TEST(QueueStressPingPong, RoundTrips) {
  constexpr int kRounds = kItemsPerProducer / 2;
  q::Queue<int> ping(1);
  q::Queue<int> pong(1);
  std::atomic<bool> echo_failed{false};
  std::jthread echo([&] {
    try {
      for (int i = 0; i < kRounds; ++i) pong.put(ping.get(kLong) + 1, kLong);
    } catch (const std::exception&) {
      echo_failed = true;
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    ping.put(i, kLong);
    ASSERT_EQ(pong.get(kLong), i + 1);
  }
  echo.join();
  EXPECT_FALSE(echo_failed.load());
}

// SimpleQueue under many producers and consumers; consumers know how many items to expect.
TEST(SimpleQueueStress, ManyToMany) {
  constexpr int kThreads = 4;
  q::SimpleQueue<int> queue;
  std::atomic<long long> sum{0};
  std::atomic<int> failures{0};
  {
    std::vector<std::jthread> threads;
    for (int c = 0; c < kThreads; ++c) {
      threads.emplace_back([&] {
        long long local = 0;
        for (int i = 0; i < kItemsPerProducer; ++i) {
          auto v = queue.try_get(kLong);
          if (!v) {
            failures.fetch_add(1);
            break;
          }
          local += *v;
        }
        sum.fetch_add(local);
      });
    }
    for (int p = 0; p < kThreads; ++p) {
      threads.emplace_back([&] {
        for (int i = 0; i < kItemsPerProducer; ++i) queue.put(i);
      });
    }
  }
  EXPECT_EQ(failures.load(), 0);
  const long long n = kItemsPerProducer;
  EXPECT_EQ(sum.load(), kThreads * n * (n - 1) / 2);
}

}  // namespace
