// Tests of pyconc::queue::LifoQueue's order; the behaviour it shares with Queue is covered by
// the typed tests of queue_test.cpp.
#include "pyconc/queue/lifo_queue.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
namespace q = pyconc::queue;

TEST(LifoQueue, LastInFirstOut) {
  q::LifoQueue<int> stack;
  for (int i = 0; i < 100; ++i) stack.put(i);
  for (int i = 99; i >= 0; --i) EXPECT_EQ(stack.get_nowait(), i);
  EXPECT_THROW((void)stack.get_nowait(), q::Empty);
}

TEST(LifoQueue, InterleavedPutsAndGets) {
  q::LifoQueue<std::string> stack(3);
  stack.put("a");
  stack.put("b");
  EXPECT_EQ(stack.get(), "b");
  stack.put("c");
  stack.emplace("d");
  EXPECT_TRUE(stack.full());
  EXPECT_EQ(stack.get(1s), "d");
  EXPECT_EQ(stack.get(), "c");
  EXPECT_EQ(stack.get(), "a");
}

TEST(LifoQueue, MoveOnlyItems) {
  q::LifoQueue<std::unique_ptr<int>> stack;
  stack.put(std::make_unique<int>(1));
  stack.put(std::make_unique<int>(2));
  EXPECT_EQ(*stack.get(), 2);
  EXPECT_EQ(*stack.get(1s), 1);
}

TEST(LifoQueue, BlockingGetAcrossThreads) {
  q::LifoQueue<int> stack(1);
  std::jthread producer([&] {
    for (int i = 0; i < 1000; ++i) stack.put(i, 10s);
  });
  long sum = 0;
  for (int i = 0; i < 1000; ++i) sum += stack.get(10s);
  EXPECT_EQ(sum, 999L * 1000 / 2);
}

}  // namespace
