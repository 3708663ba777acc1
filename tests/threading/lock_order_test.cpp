// Debug mode's lock-order inversion detection (pyconc/threading/lock_order.hpp) for threading's
// Lock and RLock. Each test runs the threads one after the other (an Event orders them), so no
// run can actually deadlock: the point is that the inversion is reported anyway.
#include "pyconc/threading/lock_order.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pyconc/threading/event.hpp"
#include "pyconc/threading/lock.hpp"
#include "pyconc/threading/rlock.hpp"
#include "pyconc/threading/thread.hpp"

namespace th = pyconc::threading;
using namespace std::chrono_literals;

namespace {

// Detection on, reports collected (or raised) instead of printed; everything restored after.
class LockOrder : public ::testing::Test {
 protected:
  void SetUp() override {
    was_on_ = th::deadlock_detection();
    th::set_deadlock_detection(true);
    previous_ = th::set_deadlock_handler([this](const th::PotentialDeadlock& r) {
      std::lock_guard g(mu_);
      reports_.push_back(r);
    });
  }
  void TearDown() override {
    th::set_deadlock_handler(previous_);
    th::set_deadlock_detection(was_on_);
  }
  std::vector<th::PotentialDeadlock> reports() {
    std::lock_guard g(mu_);
    return reports_;
  }
  // Runs f in a thread named `name` and waits (bounded) for it to end.
  template <class F>
  static void run_in_thread(const std::string& name, F f) {
    th::Thread t({.name = name}, f);
    t.start();
    ASSERT_TRUE(t.join(10s)) << name << " did not finish";
  }
  // "(created at threading/lock_order_test.cpp:<line>)"
  static std::string site(int line) {
    return "(created at threading/lock_order_test.cpp:" + std::to_string(line) + ")";
  }

 private:
  std::mutex mu_;
  std::vector<th::PotentialDeadlock> reports_;
  th::DeadlockHandler previous_;
  bool was_on_ = false;
};

// The seeds' deadlock example (examples/seeds/deadlock.cpp): fun1 takes the knife then the wok,
// fun2 the wok then the knife. Here fun2 starts only after fun1 has finished, so this run
// cannot deadlock -- and the inversion is still reported, naming both locks and both threads.
TEST_F(LockOrder, SeedsDeadlockReportedEvenWhenTheRunDoesNotDeadlock) {
  const int knife_line = __LINE__ + 1;
  th::Lock knife;  // 菜刀
  const int wok_line = __LINE__ + 1;
  th::Lock wok;  // 锅
  th::Event fun1_done;
  bool fun2_finished = false;

  th::Thread t1({.name = "fun1"}, [&] {
    knife.acquire();
    wok.acquire();
    wok.release();
    knife.release();
    fun1_done.set();
  });
  th::Thread t2({.name = "fun2"}, [&] {
    if (!fun1_done.wait(10s)) return;
    wok.acquire();
    knife.acquire();  // closes the cycle: reported here, before it could wait
    knife.release();
    wok.release();
    fun2_finished = true;
  });
  t1.start();
  t2.start();
  ASSERT_TRUE(t1.join(10s));
  ASSERT_TRUE(t2.join(10s));
  EXPECT_TRUE(fun2_finished);  // the report does not stop the acquire (default handler style)

  const auto r = reports();
  ASSERT_EQ(r.size(), 1u);
  const auto& m = r[0].message;
  EXPECT_EQ(m.rfind("potential deadlock: ", 0), 0u) << m;
  EXPECT_NE(m.find(site(knife_line)), std::string::npos) << m;
  EXPECT_NE(m.find(site(wok_line)), std::string::npos) << m;
  EXPECT_NE(m.find("thread 'fun1'"), std::string::npos) << m;
  EXPECT_NE(m.find("thread 'fun2'"), std::string::npos) << m;
  // The cycle: knife (being acquired) -> wok by fun1, wok -> knife by fun2 (now).
  ASSERT_EQ(r[0].locks.size(), 2u);
  EXPECT_NE(r[0].locks[0].find(site(knife_line)), std::string::npos);
  EXPECT_NE(r[0].locks[1].find(site(wok_line)), std::string::npos);
  EXPECT_EQ(r[0].holders, (std::vector<std::string>{"thread 'fun1'", "thread 'fun2'"}));
}

TEST_F(LockOrder, DefaultHandlerPrintsToStderr) {
  th::set_deadlock_handler(nullptr);  // the default
  th::Lock a;
  th::Lock b;
  run_in_thread("first", [&] { std::scoped_lock g(a), h(b); });
  ::testing::internal::CaptureStderr();
  run_in_thread("second", [&] {
    std::lock_guard g(b);
    std::lock_guard h(a);
  });
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("potential deadlock: thread 'second' acquires Lock"), std::string::npos)
      << err;
  EXPECT_NE(err.find("by thread 'first'"), std::string::npos) << err;
}

TEST_F(LockOrder, RaisingHandlerFailsTheAcquireWithoutTakingTheLock) {
  th::set_deadlock_handler(th::raise_potential_deadlock);
  th::Lock a;
  th::Lock b;
  run_in_thread("t1", [&] {
    a.acquire();
    b.acquire();
    b.release();
    a.release();
  });
  int raised = 0;
  run_in_thread("t2", [&] {
    std::lock_guard g(b);
    for (int i = 0; i < 2; ++i) {  // refused every time: nothing was acquired
      try {
        a.acquire();
        a.release();
      } catch (const pyconc::RuntimeError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("potential deadlock: thread 't2' acquires Lock", 0),
                  0u)
            << e.what();
        ++raised;
      }
    }
    EXPECT_FALSE(a.locked());
    EXPECT_THROW(a.acquire(true, 1s), pyconc::RuntimeError);  // timed acquires are checked too
    EXPECT_TRUE(a.acquire(false));  // a non-blocking one cannot deadlock: not checked
    a.release();
  });
  EXPECT_EQ(raised, 2);
}

TEST_F(LockOrder, ConsistentOrderIsNotReported) {
  th::Lock a;
  th::Lock b;
  th::Lock c;
  for (const char* name : {"x", "y", "z"}) {
    run_in_thread(name, [&] {
      std::lock_guard g1(a);
      std::lock_guard g2(b);
      std::lock_guard g3(c);
    });
  }
  run_in_thread("w", [&] {
    std::lock_guard g1(a);
    std::lock_guard g3(c);  // a -> c: skipping b keeps the order
  });
  EXPECT_TRUE(reports().empty());
}

TEST_F(LockOrder, ThreeLockCycleNamesEveryLockAndThread) {
  th::set_deadlock_handler(th::raise_potential_deadlock);
  const int line = __LINE__ + 1;
  th::Lock a, b, c;  // NOLINT: one line, one site
  run_in_thread("ab", [&] { std::lock_guard g(a), h(b); });
  run_in_thread("bc", [&] {
    std::lock_guard g(b);
    std::lock_guard h(c);
  });
  std::string message;
  run_in_thread("ca", [&] {
    std::lock_guard g(c);
    try {
      a.acquire();
      a.release();
    } catch (const pyconc::RuntimeError& e) {
      message = e.what();
    }
  });
  ASSERT_FALSE(message.empty());
  EXPECT_NE(message.find("a lock-order cycle of 3 locks"), std::string::npos) << message;
  for (const char* who : {"thread 'ab'", "thread 'bc'", "thread 'ca' (now)"}) {
    EXPECT_NE(message.find(who), std::string::npos) << who << " in " << message;
  }
  char addr[32];
  for (const th::Lock* l : {&a, &b, &c}) {
    std::snprintf(addr, sizeof addr, "Lock %p ", static_cast<const void*>(l));
    EXPECT_NE(message.find(addr), std::string::npos) << addr << " in " << message;
  }
  EXPECT_NE(message.find(site(line)), std::string::npos) << message;
}

TEST_F(LockOrder, ThreeLockCycleThroughTheHandler) {
  th::Lock a, b, c;  // NOLINT
  run_in_thread("ab", [&] { std::lock_guard g(a), h(b); });
  run_in_thread("bc", [&] { std::lock_guard g(b), h(c); });
  run_in_thread("ca", [&] { std::lock_guard g(c), h(a); });
  const auto r = reports();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].locks.size(), 3u);
  EXPECT_EQ(r[0].holders, (std::vector<std::string>{"thread 'ab'", "thread 'bc'", "thread 'ca'"}));
}

TEST_F(LockOrder, ReportedOncePerInversion) {
  th::Lock a;
  th::Lock b;
  run_in_thread("t1", [&] { std::lock_guard g(a), h(b); });
  run_in_thread("t2", [&] {
    for (int i = 0; i < 3; ++i) std::lock_guard g(b), h(a);
  });
  EXPECT_EQ(reports().size(), 1u);
}

TEST_F(LockOrder, RLockReentryAddsNoEdge) {
  th::RLock r;
  th::Lock l;
  run_in_thread("t1", [&] {
    r.acquire();
    l.acquire();
    r.acquire();  // re-entry while holding l: not "l -> r"
    r.release();
    l.release();
    r.release();
  });
  run_in_thread("t2", [&] {
    std::lock_guard g(r);
    std::lock_guard h(l);
  });
  EXPECT_TRUE(reports().empty());
}

TEST_F(LockOrder, RLockInversionIsReported) {
  th::RLock r1;
  th::RLock r2;
  run_in_thread("t1", [&] { std::lock_guard g(r1), h(r2); });
  run_in_thread("t2", [&] {
    std::lock_guard g(r2);
    std::lock_guard g2(r2);  // re-entry: still nothing
    std::lock_guard h(r1);
  });
  const auto r = reports();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].locks[0].rfind("RLock ", 0), 0u) << r[0].message;
  EXPECT_EQ(r[0].locks[1].rfind("RLock ", 0), 0u) << r[0].message;
}

TEST_F(LockOrder, NonBlockingAcquireAddsNoEdge) {
  th::Lock a;
  th::Lock b;
  run_in_thread("t1", [&] {
    std::lock_guard g(a);
    ASSERT_TRUE(b.acquire(false));  // cannot wait, so no "a -> b"
    b.release();
  });
  run_in_thread("t2", [&] { std::lock_guard g(b), h(a); });
  EXPECT_TRUE(reports().empty());
}

TEST_F(LockOrder, ScopedLockInEitherOrderIsNotReported) {
  th::Lock a;
  th::Lock b;
  run_in_thread("t1", [&] { std::scoped_lock g(a, b); });
  run_in_thread("t2", [&] { std::scoped_lock g(b, a); });
  EXPECT_TRUE(reports().empty());
}

TEST_F(LockOrder, LockReleasedByAnotherThreadIsNoLongerHeld) {
  th::Lock a;
  th::Lock b;
  run_in_thread("owner", [&] {
    a.acquire();
    run_in_thread("releaser", [&] { a.release(); });  // legal for a Lock, as in Python
    std::lock_guard g(b);                             // a is not held any more: no "a -> b"
  });
  run_in_thread("t2", [&] { std::lock_guard g(b), h(a); });
  EXPECT_TRUE(reports().empty());
}

TEST_F(LockOrder, DestroyedLockLeavesNoEdges) {
  // Two slots whose addresses the second pair of locks reuses.
  std::optional<th::Lock> a;
  std::optional<th::Lock> b;
  a.emplace();
  b.emplace();
  run_in_thread("t1", [&] { std::lock_guard g(*a), h(*b); });
  a.reset();
  b.reset();
  a.emplace();
  b.emplace();
  run_in_thread("t2", [&] { std::lock_guard g(*b), h(*a); });  // new locks: no inversion
  EXPECT_TRUE(reports().empty());
}

TEST_F(LockOrder, ThreadEndingWhileHoldingForgetsItsLocks) {
  th::Lock a;
  th::Lock b;
  run_in_thread("leaver", [&] { a.acquire(); });  // ends holding a
  a.release();                                    // released by the main thread
  run_in_thread("t2", [&] { std::lock_guard g(b), h(a); });
  run_in_thread("t3", [&] { std::lock_guard g(b), h(a); });
  EXPECT_TRUE(reports().empty());
}

// The graph is shared by every thread: several threads taking locks in a consistent order,
// making and destroying locks while holding others, and releasing each other's Lock, at once
// (under TSan this is the race check of the detector itself).
TEST_F(LockOrder, ManyThreadsAtOnce) {
  th::Lock a;
  th::Lock b;
  th::Lock handoff;
  std::vector<th::Thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(th::ThreadOptions{.name = "worker-" + std::to_string(i)}, [&] {
      for (int k = 0; k < 200; ++k) {
        std::lock_guard g(a);
        std::lock_guard h(b);
        th::Lock mine;  // a -> mine, b -> mine; gone at the end of the iteration
        std::lock_guard m(mine);
      }
      for (int k = 0; k < 200; ++k) {
        if (handoff.acquire(false)) continue;  // taken, and left for someone else to release
        try {
          handoff.release();                     // another thread's acquisition (legal for a Lock)
        } catch (const pyconc::RuntimeError&) {  // it was released meanwhile
        }
      }
    });
  }
  for (auto& t : threads) t.start();
  for (auto& t : threads) ASSERT_TRUE(t.join(30s));
  EXPECT_TRUE(reports().empty());
}

TEST_F(LockOrder, OffRecordsNothing) {
  th::set_deadlock_detection(false);
  EXPECT_FALSE(th::deadlock_detection());
  th::Lock a;
  th::Lock b;
  run_in_thread("t1", [&] { std::lock_guard g(a), h(b); });
  run_in_thread("t2", [&] { std::lock_guard g(b), h(a); });
  th::set_deadlock_detection(true);
  run_in_thread("t3", [&] { std::lock_guard g(b), h(a); });  // only b -> a is known now
  EXPECT_TRUE(reports().empty());
}

}  // namespace
