// Tests of pyconc::queue::PriorityQueue's order and comparators; the behaviour it shares with
// Queue is covered by the typed tests of queue_test.cpp.
#include "pyconc/queue/priority_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace q = pyconc::queue;

TEST(PriorityQueue, SmallestFirstLikeHeapq) {
  q::PriorityQueue<int> queue;
  std::vector<int> values(1000);
  std::mt19937 rng(12345);
  for (auto& v : values) v = static_cast<int>(rng() % 500);
  for (int v : values) queue.put(v);
  std::sort(values.begin(), values.end());
  for (int v : values) EXPECT_EQ(queue.get_nowait(), v);
}

TEST(PriorityQueue, PriorityDataPairsAsInPython) {
  q::PriorityQueue<std::pair<int, std::string>> jobs;
  jobs.put({3, "low"});
  jobs.put({1, "urgent"});
  jobs.emplace(2, "normal");
  EXPECT_EQ(jobs.get().second, "urgent");
  EXPECT_EQ(jobs.get().second, "normal");
  EXPECT_EQ(jobs.get().second, "low");
}

TEST(PriorityQueue, ComparatorTypeParameter) {
  q::PriorityQueue<int, std::greater<int>> largest_first;
  for (int v : {5, 1, 9, 3}) largest_first.put(v);
  EXPECT_EQ(largest_first.get(), 9);
  EXPECT_EQ(largest_first.get(), 5);
  EXPECT_EQ(largest_first.get(), 3);
  EXPECT_EQ(largest_first.get(), 1);
}

struct Job {
  std::string name;
  int deadline;
};

TEST(PriorityQueue, ComparatorObjectInTheConstructor) {
  auto by_deadline = [](const Job& a, const Job& b) { return a.deadline < b.deadline; };
  q::PriorityQueue<Job, decltype(by_deadline)> queue(/*maxsize=*/2, by_deadline);
  queue.put(Job{"late", 20});
  queue.put(Job{"soon", 10});
  EXPECT_TRUE(queue.full());
  EXPECT_THROW(queue.put_nowait(Job{"x", 0}), q::Full);
  EXPECT_EQ(queue.get().name, "soon");
  EXPECT_EQ(queue.get().name, "late");
}

// A stateful comparator: its state travels into the queue.
struct ByDistanceTo {
  int target = 0;
  bool operator()(int a, int b) const { return std::abs(a - target) < std::abs(b - target); }
};

TEST(PriorityQueue, StatefulComparator) {
  q::PriorityQueue<int, ByDistanceTo> queue(0, ByDistanceTo{100});
  for (int v : {0, 90, 130, 101, 50}) queue.put(v);
  EXPECT_EQ(queue.get(), 101);
  EXPECT_EQ(queue.get(), 90);
  EXPECT_EQ(queue.get(), 130);
  EXPECT_EQ(queue.get(), 50);
  EXPECT_EQ(queue.get(), 0);
  // shutdown(true) empties the heap but keeps the comparator.
  queue.put(0);
  queue.shutdown(true);
  EXPECT_THROW((void)queue.get_nowait(), q::ShutDown);
}

struct PtrLess {
  bool operator()(const std::unique_ptr<int>& a, const std::unique_ptr<int>& b) const {
    return *a < *b;
  }
};

TEST(PriorityQueue, MoveOnlyItems) {
  q::PriorityQueue<std::unique_ptr<int>, PtrLess> queue;
  for (int v : {4, 2, 8, 6}) queue.put(std::make_unique<int>(v));
  for (int v : {2, 4, 6, 8}) EXPECT_EQ(*queue.get(1s), v);
}

TEST(PriorityQueue, ConcurrentProducerKeepsHeapValid) {
  q::PriorityQueue<int> queue(8);
  std::jthread producer([&] {
    for (int i = 999; i >= 0; --i) queue.put(i, 10s);
  });
  std::vector<int> got;
  for (int i = 0; i < 1000; ++i) got.push_back(queue.get(10s));
  std::sort(got.begin(), got.end());
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(got[i], i);
}

}  // namespace
