// Tests of pyconc::queue::SimpleQueue: FIFO, unbounded, Empty on nowait/timed get, wake-ups,
// move-only items.
#include "pyconc/queue/simple_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/threading/event.hpp"

namespace {

using namespace std::chrono_literals;
namespace q = pyconc::queue;

TEST(SimpleQueue, FifoAndUnbounded) {
  q::SimpleQueue<int> queue;
  EXPECT_TRUE(queue.empty());
  for (int i = 0; i < 100000; ++i) queue.put(i);  // never blocks
  EXPECT_EQ(queue.qsize(), 100000u);
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(queue.get_nowait(), i);
  EXPECT_TRUE(queue.empty());
}

TEST(SimpleQueue, PutVariantsNeverWait) {
  q::SimpleQueue<std::string> queue;
  queue.put("a");
  queue.put("b", 0s);  // Python accepts block/timeout for compatibility and ignores them
  queue.put_nowait("c");
  queue.emplace(2, 'd');
  EXPECT_TRUE(queue.try_put("e"));
  EXPECT_TRUE(queue.try_put("f", 0s));
  EXPECT_EQ(queue.get(), "a");
  EXPECT_EQ(queue.get(1s), "b");
  EXPECT_EQ(queue.get_nowait(), "c");
  EXPECT_EQ(queue.get(), "dd");
  EXPECT_EQ(queue.try_get(), std::optional<std::string>("e"));
  EXPECT_EQ(queue.try_get(1s), std::optional<std::string>("f"));
}

TEST(SimpleQueue, EmptyOnNowaitAndTimedGet) {
  q::SimpleQueue<int> queue;
  EXPECT_THROW((void)queue.get_nowait(), q::Empty);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW((void)queue.get(20ms), q::Empty);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  EXPECT_EQ(queue.try_get(), std::nullopt);
  EXPECT_EQ(queue.try_get(1ms), std::nullopt);
  EXPECT_THROW((void)queue.get(-1ms), pyconc::ValueError);
}

TEST(SimpleQueue, BlockedGetterWakesOnPut) {
  q::SimpleQueue<int> queue;
  pyconc::threading::Event started;
  std::atomic<int> got{-1};
  std::jthread getter([&] {
    started.set();
    got = queue.get(10s);
  });
  ASSERT_TRUE(started.wait(10s));
  queue.put(5);
  getter.join();
  EXPECT_EQ(got.load(), 5);
}

TEST(SimpleQueue, MoveOnlyItems) {
  q::SimpleQueue<std::unique_ptr<int>> queue;
  queue.put(std::make_unique<int>(1));
  EXPECT_EQ(*queue.get(), 1);
}

TEST(SimpleQueue, ManyProducersOneConsumer) {
  q::SimpleQueue<int> queue;
  constexpr int kProducers = 4;
  constexpr int kPer = 20000;
  {
    std::vector<std::jthread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&] {
        for (int i = 1; i <= kPer; ++i) queue.put(i);
      });
    }
    long sum = 0;
    for (int i = 0; i < kProducers * kPer; ++i) sum += queue.get(10s);
    EXPECT_EQ(sum, static_cast<long>(kProducers) * kPer * (kPer + 1) / 2);
  }
  EXPECT_TRUE(queue.empty());
}

}  // namespace
