// Tests of pyconc::queue::Queue, and of the behaviour Queue, LifoQueue and PriorityQueue share
// (typed tests): sizes, nowait and timed calls, blocking and wake-ups, task_done/join,
// shutdown, move-only items, timeouts. Order-specific tests live in lifo_queue_test.cpp and
// priority_queue_test.cpp; the multi-thread stress runs in queue_stress_test.cpp.
#include "pyconc/queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <exception>
#include <latch>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "pyconc/threading/event.hpp"

namespace {

using namespace std::chrono_literals;
namespace q = pyconc::queue;
namespace th = pyconc::threading;

// Every wait in these tests is bounded: a bug fails a test, it does not hang the suite.
constexpr auto kLong = 10s;
// How long a test lets a thread run to show it is (still) blocked. Never used to synchronise:
// a slow machine can only make such a check pass vacuously, never fail.
constexpr auto kShort = 50ms;

// Shuts the queue down when the test leaves its scope, early (a failed ASSERT) or not: a thread
// still blocked in an untimed put() or get() then wakes with ShutDown instead of hanging the
// test at its join. Declare it after the threads, so that it runs before they are joined.
template <class Q>
struct ShutdownAtExit {
  Q& queue;
  ~ShutdownAtExit() { queue.shutdown(true); }
};

template <class Fn>
std::exception_ptr capture(Fn&& fn) {
  try {
    fn();
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

template <class E>
bool holds(const std::exception_ptr& ep) {
  if (!ep) return false;
  try {
    std::rethrow_exception(ep);
  } catch (const E&) {
    return true;
  } catch (...) {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Typed tests: the three bounded queues share one engine; check it through each of them.
// ---------------------------------------------------------------------------------------------

template <class Q>
class BoundedQueueTest : public ::testing::Test {};

using BoundedQueues = ::testing::Types<q::Queue<int>, q::LifoQueue<int>, q::PriorityQueue<int>>;
TYPED_TEST_SUITE(BoundedQueueTest, BoundedQueues);

TYPED_TEST(BoundedQueueTest, SizesAndMaxsize) {
  TypeParam queue(3);
  EXPECT_EQ(queue.maxsize(), 3);
  EXPECT_EQ(queue.qsize(), 0u);
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.full());
  queue.put(1);
  queue.put(2);
  EXPECT_EQ(queue.qsize(), 2u);
  EXPECT_FALSE(queue.empty());
  EXPECT_FALSE(queue.full());
  queue.put(3);
  EXPECT_TRUE(queue.full());
  (void)queue.get();
  EXPECT_FALSE(queue.full());
  EXPECT_EQ(queue.qsize(), 2u);
}

TYPED_TEST(BoundedQueueTest, MaxsizeZeroOrNegativeIsUnbounded) {
  for (std::ptrdiff_t maxsize : {0, -1, -100}) {
    TypeParam queue(maxsize);
    EXPECT_EQ(queue.maxsize(), maxsize);
    for (int i = 0; i < 10000; ++i) queue.put_nowait(i);
    EXPECT_FALSE(queue.full());
    EXPECT_EQ(queue.qsize(), 10000u);
  }
  TypeParam defaulted;
  EXPECT_EQ(defaulted.maxsize(), 0);
}

TYPED_TEST(BoundedQueueTest, NowaitCallsRaiseFullAndEmpty) {
  TypeParam queue(2);
  EXPECT_THROW((void)queue.get_nowait(), q::Empty);
  queue.put_nowait(1);
  queue.put_nowait(2);
  EXPECT_THROW(queue.put_nowait(3), q::Full);
  EXPECT_EQ(queue.qsize(), 2u);
  (void)queue.get_nowait();
  (void)queue.get_nowait();
  EXPECT_THROW((void)queue.get_nowait(), q::Empty);
}

TYPED_TEST(BoundedQueueTest, TryCallsReportInsteadOfThrowing) {
  TypeParam queue(1);
  EXPECT_EQ(queue.try_get(), std::nullopt);
  EXPECT_EQ(queue.try_get(1ms), std::nullopt);
  EXPECT_TRUE(queue.try_put(7));
  EXPECT_FALSE(queue.try_put(8));
  EXPECT_FALSE(queue.try_put(8, 1ms));
  EXPECT_EQ(queue.try_get(), std::optional<int>(7));
  EXPECT_TRUE(queue.try_put(9, 1ms));
  EXPECT_EQ(queue.try_get(1s), std::optional<int>(9));
}

TYPED_TEST(BoundedQueueTest, TimedCallsTimeOutWithFullAndEmpty) {
  TypeParam queue(1);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW((void)queue.get(30ms), q::Empty);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);

  EXPECT_THROW((void)queue.get(std::chrono::duration<double>(0.001)), q::Empty);  // seconds

  queue.put(1, 1s);  // room: does not wait
  start = std::chrono::steady_clock::now();
  EXPECT_THROW(queue.put(2, 30ms), q::Full);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  EXPECT_EQ(queue.get(1s), 1);
}

TYPED_TEST(BoundedQueueTest, ZeroTimeoutDoesNotWait) {
  TypeParam queue(1);
  EXPECT_THROW((void)queue.get(0s), q::Empty);
  queue.put(1, 0s);
  EXPECT_THROW(queue.put(2, 0s), q::Full);
  EXPECT_EQ(queue.get(0s), 1);
  EXPECT_TRUE(queue.join(0s) == false);  // one unfinished task
  queue.task_done();
  EXPECT_TRUE(queue.join(0s));
}

TYPED_TEST(BoundedQueueTest, NegativeTimeoutIsValueError) {
  TypeParam queue(1);
  EXPECT_THROW((void)queue.get(-1ms), pyconc::ValueError);
  EXPECT_THROW(queue.put(1, -1ms), pyconc::ValueError);  // even with room to spare
  EXPECT_THROW((void)queue.try_get(-1s), pyconc::ValueError);
  EXPECT_THROW((void)queue.try_put(1, -1s), pyconc::ValueError);
  EXPECT_THROW((void)queue.join(-1ms), pyconc::ValueError);
  EXPECT_THROW((void)queue.get(std::chrono::duration<double>(-0.5)), pyconc::ValueError);
  EXPECT_EQ(queue.qsize(), 0u);
  try {
    (void)queue.get(-1ms);
  } catch (const pyconc::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("non-negative"), std::string::npos) << e.what();
  }
}

TYPED_TEST(BoundedQueueTest, BlockingGetWakesWhenAnItemArrives) {
  TypeParam queue;
  th::Event started;
  std::atomic<int> got{-1};
  std::jthread getter([&] {
    started.set();
    got = queue.get(kLong);
  });
  ASSERT_TRUE(started.wait(kLong));
  queue.put(42);
  getter.join();
  EXPECT_EQ(got.load(), 42);
}

TYPED_TEST(BoundedQueueTest, UntimedGetWakesWhenAnItemArrives) {
  TypeParam queue;
  th::Event started;
  th::Event done;
  std::atomic<int> got{-1};
  std::jthread getter([&] {
    started.set();
    (void)capture([&] { got = queue.get(); });
    done.set();
  });
  ShutdownAtExit<TypeParam> guard{queue};
  ASSERT_TRUE(started.wait(kLong));
  EXPECT_FALSE(done.wait(kShort));  // nothing to get yet
  queue.put(7);
  ASSERT_TRUE(done.wait(kLong));
  EXPECT_EQ(got.load(), 7);
}

TYPED_TEST(BoundedQueueTest, BlockingPutWakesWhenGetFreesRoom) {
  TypeParam queue(1);
  queue.put(1);
  th::Event started;
  th::Event done;
  std::exception_ptr error;
  std::jthread putter([&] {
    started.set();
    error = capture([&] { queue.put(2); });  // blocks: the queue is full
    done.set();
  });
  ShutdownAtExit<TypeParam> guard{queue};
  ASSERT_TRUE(started.wait(kLong));
  EXPECT_FALSE(done.wait(kShort));  // still blocked
  EXPECT_EQ(queue.get(kLong), 1);   // frees the slot
  ASSERT_TRUE(done.wait(kLong));
  putter.join();
  EXPECT_EQ(error, nullptr);
  EXPECT_EQ(queue.get(kLong), 2);
}

TYPED_TEST(BoundedQueueTest, TimedPutSucceedsWhenRoomAppearsInTime) {
  TypeParam queue(1);
  queue.put(1);
  th::Event started;
  std::exception_ptr error;
  std::jthread putter([&] {
    started.set();
    error = capture([&] { queue.put(2, kLong); });
  });
  ASSERT_TRUE(started.wait(kLong));
  EXPECT_EQ(queue.get(kLong), 1);
  putter.join();
  EXPECT_EQ(error, nullptr);
  EXPECT_EQ(queue.get_nowait(), 2);
}

TYPED_TEST(BoundedQueueTest, TaskDoneTooManyTimesIsValueError) {
  TypeParam queue;
  try {
    queue.task_done();
    ADD_FAILURE() << "task_done() on a fresh queue did not throw";
  } catch (const pyconc::ValueError& e) {
    EXPECT_STREQ(e.what(), "task_done() called too many times");
  }
  queue.put(1);
  (void)queue.get();
  queue.task_done();
  EXPECT_THROW(queue.task_done(), pyconc::ValueError);
  EXPECT_EQ(queue.unfinished_tasks(), 0u);
}

TYPED_TEST(BoundedQueueTest, JoinReturnsAtOnceWithoutUnfinishedTasks) {
  TypeParam queue;
  queue.join();
  EXPECT_TRUE(queue.join(0s));
  queue.put(1);
  EXPECT_EQ(queue.unfinished_tasks(), 1u);
  EXPECT_FALSE(queue.join(0s));
  (void)queue.get();
  EXPECT_FALSE(queue.join(1ms));  // taken, but not marked done
  queue.task_done();
  queue.join();
}

TYPED_TEST(BoundedQueueTest, JoinWaitsForEveryTaskDone) {
  TypeParam queue;
  for (int i = 0; i < 3; ++i) queue.put(i);
  th::Event go;
  std::atomic<int> processed{0};
  std::jthread worker([&] {
    for (int i = 0; i < 3; ++i) {
      (void)queue.get(kLong);
      if (i == 2) go.wait(kLong);  // hold back the last task
      processed.fetch_add(1, std::memory_order_relaxed);
      queue.task_done();
    }
  });
  EXPECT_FALSE(queue.join(kShort));
  th::Event joined;
  std::jthread joiner([&] {
    queue.join();  // the untimed join
    joined.set();
  });
  EXPECT_FALSE(joined.wait(kShort));
  go.set();
  ASSERT_TRUE(joined.wait(kLong));
  EXPECT_TRUE(queue.join(0s));
  EXPECT_EQ(processed.load(std::memory_order_relaxed), 3);  // task_done() -> join() visibility
}

TYPED_TEST(BoundedQueueTest, ShutdownDrainsThenRaises) {
  TypeParam queue(5);
  queue.put(1);
  queue.put(2);
  EXPECT_FALSE(queue.is_shutdown());
  queue.shutdown();
  EXPECT_TRUE(queue.is_shutdown());
  EXPECT_THROW(queue.put(3), q::ShutDown);
  EXPECT_THROW(queue.put(3, 1s), q::ShutDown);
  EXPECT_THROW(queue.put_nowait(3), q::ShutDown);
  EXPECT_THROW(queue.emplace(3), q::ShutDown);
  EXPECT_FALSE(queue.try_put(3));
  EXPECT_EQ(queue.qsize(), 2u);
  // Items put before the shutdown are still handed out, then get raises ShutDown.
  std::vector<int> got{queue.get(), queue.get_nowait()};
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{1, 2}));
  EXPECT_THROW((void)queue.get(), q::ShutDown);
  EXPECT_THROW((void)queue.get(1s), q::ShutDown);
  EXPECT_THROW((void)queue.get_nowait(), q::ShutDown);
  EXPECT_EQ(queue.try_get(), std::nullopt);
  EXPECT_EQ(queue.try_get(1s), std::nullopt);
  queue.shutdown();  // idempotent
  // Tasks still count: join() waits for task_done() of the drained items.
  EXPECT_FALSE(queue.join(0s));
  queue.task_done();
  queue.task_done();
  EXPECT_TRUE(queue.join(0s));
}

TYPED_TEST(BoundedQueueTest, ShutdownIsAnErrorLikeTheOthers) {
  TypeParam queue;
  queue.shutdown();
  try {
    queue.put(1);
    ADD_FAILURE() << "put() after shutdown() did not throw";
  } catch (const pyconc::Error& e) {
    EXPECT_NE(dynamic_cast<const q::ShutDown*>(&e), nullptr);
    EXPECT_NE(std::string(e.what()).find("shut down"), std::string::npos) << e.what();
  }
}

TYPED_TEST(BoundedQueueTest, ImmediateShutdownDrainsAndCountsTasksDone) {
  TypeParam queue;
  for (int i = 0; i < 3; ++i) queue.put(i);
  (void)queue.get();  // taken, not yet done: still unfinished after the shutdown
  EXPECT_EQ(queue.unfinished_tasks(), 3u);
  queue.shutdown(/*immediate=*/true);
  EXPECT_EQ(queue.qsize(), 0u);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.unfinished_tasks(), 1u);
  EXPECT_THROW((void)queue.get_nowait(), q::ShutDown);
  EXPECT_THROW((void)queue.get(1s), q::ShutDown);
  EXPECT_THROW(queue.put(9), q::ShutDown);
  EXPECT_FALSE(queue.join(0s));
  queue.task_done();
  EXPECT_TRUE(queue.join(0s));
}

TYPED_TEST(BoundedQueueTest, ImmediateShutdownUnblocksJoin) {
  TypeParam queue;
  for (int i = 0; i < 5; ++i) queue.put(i);
  th::Event started;
  std::atomic<bool> joined{false};
  std::jthread joiner([&] {
    started.set();
    joined = queue.join(kLong);
  });
  ASSERT_TRUE(started.wait(kLong));
  queue.shutdown(true);
  joiner.join();
  EXPECT_TRUE(joined.load());
}

TYPED_TEST(BoundedQueueTest, ShutdownWakesBlockedGettersWithShutDown) {
  TypeParam queue;
  constexpr int kGetters = 3;
  std::latch started(kGetters);
  std::vector<std::exception_ptr> errors(kGetters);
  std::vector<std::jthread> getters;
  for (int i = 0; i < kGetters; ++i) {
    getters.emplace_back([&, i] {
      started.count_down();
      errors[i] = capture([&] {
        if (i == 0) {
          (void)queue.get();  // untimed (ctest's timeout bounds the test should it hang)
        } else {
          (void)queue.get(kLong);
        }
      });
    });
  }
  started.wait();
  queue.shutdown();
  for (auto& t : getters) t.join();
  for (int i = 0; i < kGetters; ++i) EXPECT_TRUE(holds<q::ShutDown>(errors[i])) << i;
}

TYPED_TEST(BoundedQueueTest, ShutdownWakesBlockedPuttersWithShutDown) {
  TypeParam queue(1);
  queue.put(0);
  constexpr int kPutters = 3;
  std::latch started(kPutters);
  std::vector<std::exception_ptr> errors(kPutters);
  std::vector<std::jthread> putters;
  for (int i = 0; i < kPutters; ++i) {
    putters.emplace_back([&, i] {
      started.count_down();
      errors[i] = capture([&] {
        if (i == 0) {
          queue.put(i + 1);  // untimed
        } else {
          queue.put(i + 1, kLong);
        }
      });
    });
  }
  started.wait();
  queue.shutdown();
  for (auto& t : putters) t.join();
  for (int i = 0; i < kPutters; ++i) EXPECT_TRUE(holds<q::ShutDown>(errors[i])) << i;
  // The item put before the shutdown is still there (non-immediate).
  EXPECT_EQ(queue.get_nowait(), 0);
}

TYPED_TEST(BoundedQueueTest, ImmediateShutdownWakesBlockedPutter) {
  TypeParam queue(1);
  queue.put(0);
  th::Event started;
  std::exception_ptr error;
  std::jthread putter([&] {
    started.set();
    error = capture([&] { queue.put(1); });
  });
  ASSERT_TRUE(started.wait(kLong));
  queue.shutdown(true);
  putter.join();
  EXPECT_TRUE(holds<q::ShutDown>(error));
  EXPECT_EQ(queue.qsize(), 0u);
}

TYPED_TEST(BoundedQueueTest, PutBeforeGetIsVisibleAfterGet) {
  // What the putter wrote before put() is visible to the getter after get() (checked by TSan).
  TypeParam queue;
  std::vector<int> payload(1000, 0);
  std::jthread putter([&] {
    for (int i = 0; i < 1000; ++i) payload[i] = i;
    queue.put(1);
  });
  EXPECT_EQ(queue.get(kLong), 1);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(payload[i], i);
}

// ---------------------------------------------------------------------------------------------
// Queue specifics: FIFO order, strings, move-only items.
// ---------------------------------------------------------------------------------------------

TEST(Queue, FifoOrder) {
  q::Queue<int> queue;
  for (int i = 0; i < 100; ++i) queue.put(i);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(queue.get_nowait(), i);
}

TEST(Queue, FifoOrderThroughGrowthWrapAndShrink) {
  // Random puts and gets against a std::deque model: the ring buffer wraps, doubles when full
  // and halves when mostly empty, and must keep the order through all of it.
  q::Queue<std::string> queue;
  std::deque<std::string> model;
  std::mt19937 rng(7);
  int next = 0;
  for (int round = 0; round < 40; ++round) {
    const int burst = static_cast<int>(rng() % 3000);
    const bool grow = round % 2 == 0;
    for (int i = 0; i < burst; ++i) {
      if (grow ? rng() % 4 != 0 : rng() % 4 == 0) {
        queue.put(std::to_string(next));
        model.push_back(std::to_string(next++));
      } else if (!model.empty()) {
        ASSERT_EQ(queue.get_nowait(), model.front());
        model.pop_front();
      }
      ASSERT_EQ(queue.qsize(), model.size());
    }
  }
  while (!model.empty()) {
    ASSERT_EQ(queue.get_nowait(), model.front());
    model.pop_front();
  }
  EXPECT_THROW((void)queue.get_nowait(), q::Empty);
}

// Counts live instances, to check that the queues neither leak nor double-destroy items.
struct Tracked {
  static inline std::atomic<int> live{0};
  int value;
  explicit Tracked(int v) : value(v) { ++live; }
  Tracked(const Tracked& o) : value(o.value) { ++live; }
  Tracked(Tracked&& o) noexcept : value(o.value) { ++live; }
  Tracked& operator=(const Tracked&) = default;
  Tracked& operator=(Tracked&&) = default;
  ~Tracked() { --live; }
  bool operator<(const Tracked& o) const { return value < o.value; }
};

TEST(Queue, ItemsAreDestroyedExactlyOnce) {
  {
    q::Queue<Tracked> fifo;
    q::LifoQueue<Tracked> lifo;
    q::PriorityQueue<Tracked> heap;
    for (int i = 0; i < 1000; ++i) {
      fifo.emplace(i);
      lifo.emplace(i);
      heap.emplace(i);
    }
    for (int i = 0; i < 600; ++i) {
      (void)fifo.get();
      (void)lifo.get();
      (void)heap.get();
    }
    EXPECT_EQ(Tracked::live.load(), 3 * 400);
    fifo.shutdown(true);
    EXPECT_EQ(Tracked::live.load(), 2 * 400);
  }  // the rest die with their queues
  EXPECT_EQ(Tracked::live.load(), 0);
}

// An item whose copy constructor throws on demand: a failed put must leave the queue as it was.
struct Fragile {
  static inline bool fail_copy = false;
  int value;
  explicit Fragile(int v) : value(v) {}
  Fragile(const Fragile& o) : value(o.value) {
    if (fail_copy) throw std::runtime_error("copy failed");
  }
  Fragile& operator=(const Fragile&) = default;
};

TEST(Queue, ThrowingItemConstructorLeavesQueueUnchanged) {
  q::Queue<Fragile> queue(3);
  const Fragile one(1);
  queue.put(one);
  Fragile::fail_copy = true;
  EXPECT_THROW(queue.put(one), std::runtime_error);
  Fragile::fail_copy = false;
  EXPECT_EQ(queue.qsize(), 1u);
  EXPECT_EQ(queue.unfinished_tasks(), 1u);
  // The lock was released by the exception: the queue still works from any thread.
  std::jthread other([&] { queue.put(Fragile(2)); });
  other.join();
  EXPECT_EQ(queue.get().value, 1);
  EXPECT_EQ(queue.get().value, 2);
}

TEST(Queue, StringsAsInTheApiExample) {
  q::Queue<std::string> queue(5);
  queue.put("x");
  queue.put("y", 1s);
  queue.put_nowait("z");
  std::string w = "w";
  queue.put(w);  // copied
  EXPECT_EQ(w, "w");
  queue.emplace(3, 'a');
  EXPECT_EQ(queue.get(), "x");
  EXPECT_EQ(queue.get(1s), "y");
  EXPECT_EQ(queue.get_nowait(), "z");
  EXPECT_EQ(queue.get(), "w");
  EXPECT_EQ(queue.get(), "aaa");
}

TEST(Queue, MoveOnlyItems) {
  q::Queue<std::unique_ptr<int>> queue(2);
  queue.put(std::make_unique<int>(1));
  auto two = std::make_unique<int>(2);
  queue.put_nowait(std::move(two));
  EXPECT_EQ(two, nullptr);  // moved in

  // A failed put leaves the item with the caller.
  auto three = std::make_unique<int>(3);
  EXPECT_THROW(queue.put_nowait(std::move(three)), q::Full);
  ASSERT_NE(three, nullptr);
  EXPECT_THROW(queue.put(std::move(three), 1ms), q::Full);
  ASSERT_NE(three, nullptr);
  EXPECT_FALSE(queue.try_put(std::move(three)));
  ASSERT_NE(three, nullptr);
  EXPECT_EQ(*three, 3);

  std::unique_ptr<int> first = queue.get();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(*first, 1);
  EXPECT_TRUE(queue.try_put(std::move(three), 1s));
  EXPECT_EQ(three, nullptr);
  EXPECT_EQ(*queue.get_nowait(), 2);
  std::optional<std::unique_ptr<int>> last = queue.try_get(1s);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(**last, 3);

  queue.emplace(new int(4));
  EXPECT_EQ(*queue.get(1s), 4);
}

TEST(Queue, MoveOnlyItemsAcrossThreads) {
  q::Queue<std::unique_ptr<std::vector<int>>> queue(1);
  std::jthread producer([&] {
    for (int i = 0; i < 100; ++i) queue.put(std::make_unique<std::vector<int>>(10, i));
  });
  for (int i = 0; i < 100; ++i) {
    auto v = queue.get(kLong);
    ASSERT_EQ(v->size(), 10u);
    EXPECT_EQ((*v)[9], i);
  }
}

TEST(Queue, ImmediateShutdownDestroysDrainedItems) {
  auto token = std::make_shared<int>(0);
  q::Queue<std::shared_ptr<int>> queue;
  queue.put(token);
  queue.put(token);
  EXPECT_EQ(token.use_count(), 3);
  queue.shutdown(true);
  EXPECT_EQ(token.use_count(), 1);
}

TEST(Queue, ExceptionsArePyconcErrors) {
  static_assert(std::is_base_of_v<pyconc::Error, q::Empty>);
  static_assert(std::is_base_of_v<pyconc::Error, q::Full>);
  static_assert(std::is_base_of_v<pyconc::Error, q::ShutDown>);
  q::Queue<int> queue(1);
  try {
    (void)queue.get_nowait();
    ADD_FAILURE();
  } catch (const pyconc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
  }
  queue.put(1);
  try {
    queue.put_nowait(2);
    ADD_FAILURE();
  } catch (const q::Full& e) {
    EXPECT_NE(std::string(e.what()).find("full"), std::string::npos) << e.what();
  }
}

}  // namespace
