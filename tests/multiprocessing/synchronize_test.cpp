// Process-shared Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition, Barrier.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "mp_test_util.hpp"
#include "pyconc/multiprocessing/barrier.hpp"
#include "pyconc/multiprocessing/condition.hpp"
#include "pyconc/multiprocessing/event.hpp"
#include "pyconc/multiprocessing/lock.hpp"
#include "pyconc/multiprocessing/process.hpp"
#include "pyconc/multiprocessing/semaphore.hpp"
#include "pyconc/multiprocessing/value.hpp"
#include "pyconc/threading/thread.hpp"

using namespace std::chrono_literals;
namespace mp = pyconc::multiprocessing;
namespace th = pyconc::threading;
using mp_test::MpTest;
using mp_test::RawPipe;

class SynchronizeTest : public MpTest {};

TEST_F(SynchronizeTest, LockIsHeldAcrossProcessesAndTimesOut) {
  mp::Lock lock;
  mp::Event held, release;
  mp::Process p([=]() mutable {
    std::lock_guard g(lock);
    held.set();
    release.wait();
  });
  p.start();
  ASSERT_TRUE(held.wait(10s));
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(lock.acquire(false));
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(lock.acquire(true, 100ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);
  EXPECT_FALSE(lock.try_lock_for(10ms));
  EXPECT_THROW(lock.release(), pyconc::RuntimeError);  // held by the child, not by us
  release.set();
  EXPECT_TRUE(lock.acquire(true, 10s));
  EXPECT_FALSE(lock.owner_died());
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_THROW(lock.release(), pyconc::RuntimeError);
  EXPECT_THROW(lock.acquire(false, 1s), pyconc::ValueError);
  EXPECT_THROW(lock.acquire(true, -1s), pyconc::ValueError);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_F(SynchronizeTest, CopiesNameTheSameLock) {
  mp::Lock a;
  mp::Lock b = a;
  mp::Lock other;
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == other);
  std::lock_guard g(a);
  EXPECT_TRUE(b.locked());
  EXPECT_FALSE(other.locked());
}

TEST_F(SynchronizeTest, LockDoesNotReenter) {
  mp::Lock lock;
  lock.acquire();
  EXPECT_FALSE(lock.acquire(true, 50ms));  // Python deadlocks here without a timeout
  lock.release();
}

TEST_F(SynchronizeTest, RLockReentersAndCountsPerThread) {
  mp::RLock r;
  r.acquire();
  r.acquire();
  EXPECT_TRUE(r.is_owned());
  RawPipe out;
  mp::Process p([&out, r]() mutable {
    out.write(std::to_string(r.acquire(true, 50ms)) + std::to_string(r.is_owned()));
  });
  p.start();
  p.join();
  EXPECT_EQ(out.read_all(), "00");
  r.release();
  EXPECT_TRUE(r.locked());
  r.release();
  EXPECT_FALSE(r.locked());
  EXPECT_FALSE(r.is_owned());
  EXPECT_THROW(r.release(), pyconc::RuntimeError);
}

// The robust part: a holder killed while holding the lock does not hang everyone else.
TEST_F(SynchronizeTest, LockHeldByAKilledProcessIsTakenOverAndReported) {
  mp::Lock lock;
  mp::Value<int> data(0, {.lock = false});
  mp::Event held;
  mp::Process p([=]() mutable {
    lock.acquire();
    data.value() = -1;  // half-way through an update
    held.set();
    ::pause();
  });
  p.start();
  ASSERT_TRUE(held.wait(10s));
  p.kill();
  p.join();
  EXPECT_EQ(p.exitcode(), -SIGKILL);

  ASSERT_TRUE(lock.acquire(true, 10s)) << "the lock of a dead holder was never recovered";
  EXPECT_TRUE(lock.owner_died());
  data.value() = 0;  // repair
  lock.release();
  EXPECT_FALSE(lock.owner_died());
  ASSERT_TRUE(lock.acquire(true, 1s));
  EXPECT_FALSE(lock.owner_died());
  lock.release();
}

TEST_F(SynchronizeTest, RLockOfAKilledProcessAndAWaiterBlockedMeanwhile) {
  mp::RLock r;
  mp::Event held, waiting;
  mp::Value<int> got(0);
  mp::Process holder([=]() mutable {
    r.acquire();
    r.acquire();
    held.set();
    ::pause();
  });
  holder.start();
  ASSERT_TRUE(held.wait(10s));
  // A second process blocks on the lock, then gets it when the holder is killed.
  mp::Process waiter([=]() mutable {
    waiting.set();
    if (r.acquire(true, 20s)) {
      got.value() = r.is_owned() && r.owner_died() ? 1 : 2;
      r.release();
    }
  });
  waiter.start();
  ASSERT_TRUE(waiting.wait(10s));
  holder.kill();
  holder.join();
  waiter.join();
  EXPECT_EQ(waiter.exitcode(), 0);
  EXPECT_EQ(got.value(), 1);
  EXPECT_FALSE(r.locked());
}

TEST_F(SynchronizeTest, EventAcrossProcesses) {
  mp::Event ping, pong;
  mp::Process p([=]() mutable {
    if (ping.wait(10s)) pong.set();
  });
  p.start();
  EXPECT_FALSE(pong.wait(20ms));
  EXPECT_FALSE(ping.is_set());
  ping.set();
  EXPECT_TRUE(pong.wait(10s));
  EXPECT_TRUE(pong.is_set());
  pong.clear();
  EXPECT_FALSE(pong.is_set());
  p.join();
  EXPECT_THROW(pong.wait(-1s), pyconc::ValueError);
}

TEST_F(SynchronizeTest, SemaphoreAcrossProcesses) {
  mp::Semaphore sem(0);
  mp::BoundedSemaphore bounded(1);
  EXPECT_EQ(sem.get_value(), 0);
  EXPECT_FALSE(sem.acquire(true, 20ms));
  mp::Process p([=]() mutable {
    sem.release(2);
    bounded.acquire();
  });
  p.start();
  EXPECT_TRUE(sem.acquire(true, 10s));
  EXPECT_TRUE(sem.acquire(true, 10s));
  EXPECT_FALSE(sem.acquire(false));
  p.join();
  EXPECT_EQ(bounded.get_value(), 0);  // the child took the unit and died with it (as Python)
  bounded.release();
  EXPECT_THROW(bounded.release(), pyconc::ValueError);
  EXPECT_THROW(mp::Semaphore(-1), pyconc::ValueError);
  {
    std::lock_guard g(bounded);
    EXPECT_EQ(bounded.get_value(), 0);
  }
}

TEST_F(SynchronizeTest, ConditionWaitsForAPredicateSetByAnotherProcess) {
  mp::Condition cond;
  mp::Value<int> ready(0, {.lock = false});
  mp::Process p([=]() mutable {
    std::lock_guard g(cond);
    ready.value() = 1;
    cond.notify_all();
  });
  {
    std::unique_lock g(cond);
    p.start();
    EXPECT_TRUE(cond.wait_for([&] { return ready.value() == 1; }, 10s));
  }
  p.join();
  std::lock_guard g(cond);
  EXPECT_FALSE(cond.wait(20ms));
  EXPECT_FALSE(cond.wait_for([] { return false; }, 20ms));
}

TEST_F(SynchronizeTest, ConditionNeedsItsLock) {
  mp::Lock lock;
  mp::Condition cond(lock);
  EXPECT_THROW(cond.wait(1ms), pyconc::RuntimeError);
  EXPECT_THROW(cond.notify(), pyconc::RuntimeError);
  lock.acquire();  // the same lock, through another handle
  cond.notify();
  EXPECT_FALSE(cond.wait(1ms));
  lock.release();
}

// notify(1) wakes exactly one waiter, oldest first; a waiter that was killed while waiting
// does not swallow a notification. Two conditions share one lock: `cond` for the children,
// `arrived` for the parent.
TEST_F(SynchronizeTest, NotifyWakesExactlyNAndSkipsDeadWaiters) {
  mp::RLock lock;
  mp::Condition cond(lock);
  mp::Condition arrived(lock);
  mp::Value<int> waiting(0, {.lock = false});
  mp::Value<int> woken(0, {.lock = false});
  auto waiter = [=]() mutable {
    std::lock_guard g(cond);
    ++waiting.value();
    arrived.notify_all();
    if (cond.wait(20s)) ++woken.value();
    arrived.notify_all();
  };
  std::vector<mp::Process> ps;
  for (int i = 0; i < 3; ++i) ps.emplace_back(waiter);
  std::unique_lock g(arrived);
  ps[0].start();
  ASSERT_TRUE(arrived.wait_for([&] { return waiting.value() == 1; }, 10s));
  ps[1].start();
  ASSERT_TRUE(arrived.wait_for([&] { return waiting.value() == 2; }, 10s));
  // Kill the oldest waiter while it waits; start a third.
  ps[0].kill();
  ps[0].join();
  ps[2].start();
  ASSERT_TRUE(arrived.wait_for([&] { return waiting.value() == 3; }, 10s));
  cond.notify(1);  // skips the dead one, wakes ps[1] only
  ASSERT_TRUE(arrived.wait_for([&] { return woken.value() >= 1; }, 10s));
  EXPECT_EQ(woken.value(), 1);
  g.unlock();
  EXPECT_TRUE(ps[1].join(10s));
  EXPECT_TRUE(ps[2].is_alive());
  g.lock();
  cond.notify(1);
  ASSERT_TRUE(arrived.wait_for([&] { return woken.value() >= 2; }, 10s));
  EXPECT_EQ(woken.value(), 2);
  g.unlock();
  ps[2].join();
  EXPECT_EQ(ps[1].exitcode(), 0);
  EXPECT_EQ(ps[2].exitcode(), 0);
}

TEST_F(SynchronizeTest, ConditionOverflowIsAnError) {
  mp::Condition cond(mp::ConditionOptions{.max_waiters = 1});
  std::unique_lock g(cond);
  mp::Event in_wait;
  // The second waiter (this thread) finds the one slot taken by the child.
  mp::Process p([=]() mutable {
    std::lock_guard cg(cond);
    in_wait.set();
    cond.wait(10s);
  });
  g.unlock();
  p.start();
  ASSERT_TRUE(in_wait.wait(10s));
  g.lock();
  EXPECT_THROW(cond.wait(1ms), pyconc::RuntimeError);
  cond.notify();
  g.unlock();
  p.join();
  EXPECT_THROW(mp::Condition(mp::ConditionOptions{.max_waiters = 0}), pyconc::ValueError);
}

TEST_F(SynchronizeTest, BarrierAcrossProcessesWithAction) {
  mp::Value<int> actions(0, {.lock = false});
  mp::Barrier barrier(4, [actions] { ++actions.value(); });
  std::vector<mp::Process> ps;
  RawPipe out;
  for (int i = 0; i < 3; ++i) {
    ps.emplace_back([&out, barrier]() mutable {
      const int a = barrier.wait(20s);
      const int b = barrier.wait(20s);  // reusable
      out.write(std::to_string(a) + std::to_string(b) + " ");
    });
  }
  for (auto& p : ps) p.start();
  const int a = barrier.wait(20s);
  const int b = barrier.wait(20s);
  for (auto& p : ps) p.join();
  for (auto& p : ps) EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(actions.value(), 2);
  const std::string all = out.read_all() + std::to_string(a) + std::to_string(b);
  for (char idx : {'0', '1', '2', '3'}) EXPECT_EQ(std::count(all.begin(), all.end(), idx), 2);
  EXPECT_EQ(barrier.parties(), 4);
  EXPECT_EQ(barrier.n_waiting(), 0);
}

TEST_F(SynchronizeTest, BarrierTimeoutAbortAndReset) {
  mp::Barrier barrier(2);
  EXPECT_THROW(barrier.wait(20ms), mp::BrokenBarrierError);
  EXPECT_TRUE(barrier.broken());
  mp::Value<int> broke(0, {.lock = false});
  barrier.reset();
  EXPECT_FALSE(barrier.broken());
  mp::Event waiting;
  mp::Process p([=]() mutable {
    waiting.set();
    try {
      barrier.wait(20s);
    } catch (const mp::BrokenBarrierError&) {
      broke.value() = 1;
    }
  });
  p.start();
  ASSERT_TRUE(waiting.wait(10s));
  while (barrier.n_waiting() == 0) std::this_thread::yield();
  barrier.abort();
  p.join();
  EXPECT_EQ(broke.value(), 1);
  EXPECT_THROW(barrier.wait(), mp::BrokenBarrierError);
  EXPECT_THROW(mp::Barrier(0), pyconc::ValueError);
}

TEST_F(SynchronizeTest, PrimitivesWorkBetweenThreadsOfOneProcessToo) {
  mp::Lock lock;
  mp::Condition cond(lock);
  int counter = 0;
  std::vector<th::Thread> ts;
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([&] {
      for (int k = 0; k < 1000; ++k) {
        std::lock_guard g(cond);
        ++counter;
        cond.notify_all();
      }
    });
  }
  for (auto& t : ts) t.start();
  {
    std::unique_lock g(cond);
    EXPECT_TRUE(cond.wait_for([&] { return counter == 4000; }, 20s));
  }
  for (auto& t : ts) t.join();
}
