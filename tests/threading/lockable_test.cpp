// The C++ spellings of threading's primitives (detail/lockable.hpp): lock, unlock, try_lock,
// try_lock_for and try_lock_until, as std::unique_lock, std::scoped_lock and std::lock use them.
#include "pyconc/detail/lockable.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "pyconc/threading/condition.hpp"
#include "pyconc/threading/event.hpp"
#include "pyconc/threading/lock.hpp"
#include "pyconc/threading/rlock.hpp"
#include "pyconc/threading/semaphore.hpp"

namespace th = pyconc::threading;
using namespace std::chrono_literals;

namespace {

// Holds `m` in another thread until the returned guard is destroyed; returns once it is held.
template <class M>
class HeldElsewhere {
 public:
  explicit HeldElsewhere(M& m)
      : thread_([this, &m] {
          std::unique_lock g(m);
          held_.set();
          done_.wait();
        }) {
    held_.wait();
  }
  ~HeldElsewhere() {
    done_.set();
    thread_.join();
  }

 private:
  th::Event held_;
  th::Event done_;
  std::thread thread_;
};

// Every spelling std::unique_lock / std::scoped_lock rely on, on a primitive that admits one
// holder at a time (a Semaphore(1) counts as one).
template <class M>
void check_lockable(M& m) {
  {
    std::unique_lock g(m);
    EXPECT_TRUE(g.owns_lock());
    g.unlock();
    EXPECT_TRUE(g.try_lock());
  }
  { std::scoped_lock g(m); }
  {
    std::unique_lock g(m, std::try_to_lock);
    EXPECT_TRUE(g.owns_lock());
  }
  {
    std::unique_lock g(m, 10ms);  // try_lock_for
    EXPECT_TRUE(g.owns_lock());
  }
  {
    std::unique_lock g(m, std::chrono::steady_clock::now() + 10ms);  // try_lock_until
    EXPECT_TRUE(g.owns_lock());
  }
  {
    std::unique_lock g(m, std::chrono::system_clock::now() + 10ms);  // another clock
    EXPECT_TRUE(g.owns_lock());
  }
  {
    std::unique_lock g(m, std::chrono::steady_clock::now() - 1s);  // deadline passed, free
    EXPECT_TRUE(g.owns_lock());
  }

  // Held by another thread: every non-blocking and timed attempt fails, and nothing is taken.
  {
    HeldElsewhere held(m);
    EXPECT_FALSE(m.try_lock());
    EXPECT_FALSE(m.try_lock_for(1ms));
    EXPECT_FALSE(m.try_lock_for(0s));
    EXPECT_FALSE(m.try_lock_until(std::chrono::steady_clock::now() + 1ms));
    EXPECT_FALSE(m.try_lock_until(std::chrono::steady_clock::now() - 1s));
    EXPECT_FALSE(m.try_lock_until(std::chrono::system_clock::now() + 1ms));
    std::unique_lock g(m, std::defer_lock);
    EXPECT_FALSE(g.try_lock_for(1ms));
    EXPECT_FALSE(g.owns_lock());
  }
  // Free again once the other thread let go.
  EXPECT_TRUE(m.try_lock_for(1s));
  m.unlock();
  EXPECT_TRUE(m.try_lock_until(std::chrono::steady_clock::now() + 1s));
  m.unlock();
}

}  // namespace

TEST(Lockable, Lock) {
  th::Lock m;
  check_lockable(m);
  EXPECT_FALSE(m.locked());
}

TEST(Lockable, RLock) {
  th::RLock m;
  check_lockable(m);
  EXPECT_FALSE(m.locked());
  // Re-entry: the owner's timed attempts succeed at once, even with a deadline in the past.
  std::unique_lock outer(m);
  EXPECT_TRUE(m.try_lock_for(0s));
  EXPECT_TRUE(m.try_lock_until(std::chrono::steady_clock::now() - 1s));
  m.unlock();
  m.unlock();
  EXPECT_TRUE(m.is_owned());
}

TEST(Lockable, Semaphore) {
  th::Semaphore m(1);
  check_lockable(m);
  EXPECT_EQ(m.value(), 1);
  // One unit per lock(): a Semaphore(2) admits two holders, then times out.
  th::Semaphore two(2);
  std::unique_lock a(two);
  std::unique_lock b(two, std::chrono::steady_clock::now() + 10ms);
  EXPECT_TRUE(b.owns_lock());
  EXPECT_FALSE(two.try_lock_until(std::chrono::steady_clock::now() + 1ms));
  EXPECT_FALSE(two.try_lock_for(1ms));
}

TEST(Lockable, BoundedSemaphore) {
  th::BoundedSemaphore m(1);
  check_lockable(m);
  EXPECT_EQ(m.value(), 1);
  // unlock() is the bounded release: one too many is a ValueError, the counter unchanged.
  EXPECT_THROW(m.unlock(), pyconc::ValueError);
  EXPECT_EQ(m.value(), 1);
  std::scoped_lock g(m);
  EXPECT_EQ(m.value(), 0);
}

TEST(Lockable, ConditionOverItsOwnRLock) {
  th::Condition m;
  check_lockable(m);
}

TEST(Lockable, ConditionOverALock) {
  th::Lock lock;
  th::Condition m(lock);
  check_lockable(m);
  EXPECT_FALSE(lock.locked());
}

TEST(Lockable, ConditionOverAnRLock) {
  th::RLock rlock;
  th::Condition m(rlock);
  check_lockable(m);
  EXPECT_FALSE(rlock.locked());
}

TEST(Lockable, StdLockTakesSeveral) {
  th::Lock a;
  th::RLock b;
  th::Semaphore c(1);
  th::Condition d;
  std::lock(a, b, c, d);
  EXPECT_TRUE(a.locked());
  EXPECT_TRUE(b.is_owned());
  EXPECT_EQ(c.value(), 0);
  a.unlock();
  b.unlock();
  c.unlock();
  d.unlock();
  { std::scoped_lock all(a, b, c, d); }
  EXPECT_FALSE(a.locked());
  EXPECT_FALSE(b.locked());
  EXPECT_EQ(c.value(), 1);
}
