#include "pyconc/threading/barrier.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <vector>

#include "pyconc/threading/event.hpp"
#include "pyconc/threading/thread.hpp"

namespace th = pyconc::threading;
using namespace std::chrono_literals;

TEST(Barrier, IndicesActionAndReuse) {
  constexpr int kParties = 3;
  std::atomic<int> actions{0};
  th::Barrier b(kParties, [&] { ++actions; });
  EXPECT_EQ(b.parties(), kParties);
  std::vector<std::vector<int>> indices(kParties);
  std::vector<th::Thread> ts;
  for (int i = 0; i < kParties; ++i) {
    ts.emplace_back([&, i] {
      for (int round = 0; round < 50; ++round) indices[i].push_back(b.wait(10s));
    });
  }
  for (auto& t : ts) t.start();
  for (auto& t : ts) t.join();
  EXPECT_EQ(actions.load(), 50);
  for (int round = 0; round < 50; ++round) {
    std::vector<int> got{indices[0][round], indices[1][round], indices[2][round]};
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2})) << "round " << round;
  }
  EXPECT_FALSE(b.broken());
  EXPECT_EQ(b.n_waiting(), 0);
}

TEST(Barrier, TimeoutBreaksIt) {
  th::Barrier b(2);
  EXPECT_THROW(b.wait(10ms), th::BrokenBarrierError);
  EXPECT_TRUE(b.broken());
  EXPECT_THROW(b.wait(), th::BrokenBarrierError);
  b.reset();
  EXPECT_FALSE(b.broken());
}

TEST(Barrier, AbortWakesWaiters) {
  th::Barrier b(3);
  bool broken_seen = false;
  th::Thread t([&] {
    try {
      b.wait(10s);
    } catch (const th::BrokenBarrierError&) {
      broken_seen = true;
    }
  });
  t.start();
  // Wait until the thread is inside wait() (n_waiting is a snapshot under the barrier's lock).
  for (int i = 0; i < 10000 && b.n_waiting() == 0; ++i) th::Event().wait(1ms);
  ASSERT_EQ(b.n_waiting(), 1);
  b.abort();
  ASSERT_TRUE(t.join(10s));
  EXPECT_TRUE(broken_seen);
  EXPECT_TRUE(b.broken());
}

TEST(Barrier, ResetFailsCurrentWaitersThenWorks) {
  th::Barrier b(2);
  bool broken_seen = false;
  th::Thread t([&] {
    try {
      b.wait(10s);
    } catch (const th::BrokenBarrierError&) {
      broken_seen = true;
    }
  });
  t.start();
  for (int i = 0; i < 10000 && b.n_waiting() == 0; ++i) th::Event().wait(1ms);
  ASSERT_EQ(b.n_waiting(), 1);
  b.reset();
  ASSERT_TRUE(t.join(10s));
  EXPECT_TRUE(broken_seen);
  EXPECT_FALSE(b.broken());
  // Usable again.
  th::Thread t2([&] { b.wait(10s); });
  t2.start();
  EXPECT_NO_THROW(b.wait(10s));
  t2.join();
}

TEST(Barrier, FailingActionBreaksAndPropagates) {
  th::Barrier b(2, [] { throw std::logic_error("action failed"); });
  bool other_broken = false;
  th::Thread t([&] {
    try {
      b.wait(10s);
    } catch (const th::BrokenBarrierError&) {
      other_broken = true;
    } catch (const std::logic_error&) {
      other_broken = false;  // this thread was last: it ran the action
    }
  });
  t.start();
  bool main_broken = false, main_action = false;
  try {
    b.wait(10s);
  } catch (const th::BrokenBarrierError&) {
    main_broken = true;
  } catch (const std::logic_error&) {
    main_action = true;
  }
  t.join();
  // Exactly one side ran the (throwing) action; the other saw the barrier broken.
  EXPECT_TRUE(main_action != main_broken);
  EXPECT_EQ(main_broken, !other_broken);
  EXPECT_TRUE(b.broken());
}

TEST(Barrier, BadArguments) {
  EXPECT_THROW(th::Barrier(0), pyconc::ValueError);
  EXPECT_THROW(th::Barrier(1, {}, -1s), pyconc::ValueError);
  th::Barrier one(1);
  EXPECT_EQ(one.wait(), 0);
}
