#include "pyconc/multiprocessing/detail/shared_condition.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <string>

#include "pyconc/detail/futex.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {
namespace {

bool process_gone(int pid) noexcept {
  return pid > 0 && ::kill(pid, 0) == -1 && errno == ESRCH;
}

}  // namespace

std::shared_ptr<SharedCondition> make_shared_condition(std::uint32_t max_waiters) {
  if (max_waiters == 0) throw ValueError("max_waiters must be at least 1");
  // The slots are constructed when first used (allocate_slot), so the pages of a large table
  // that are never used are never allocated.
  return make_shared_object_with_extra<SharedCondition>(
      sizeof(SharedCondition::Slot) * std::size_t{max_waiters}, max_waiters);
}

void SharedCondition::link(std::int32_t i) noexcept {
  Slot& s = slots()[i];
  s.linked = true;
  s.next = -1;
  s.prev = tail_;
  (tail_ >= 0 ? slots()[tail_].next : head_) = i;
  tail_ = i;
}

void SharedCondition::unlink(std::int32_t i) noexcept {
  Slot& s = slots()[i];
  (s.prev >= 0 ? slots()[s.prev].next : head_) = s.next;
  (s.next >= 0 ? slots()[s.next].prev : tail_) = s.prev;
  s.prev = s.next = -1;
  s.linked = false;
}

std::int32_t SharedCondition::allocate_slot() noexcept {
  for (std::uint32_t i = 0; i < high_water_; ++i) {
    if (!slots()[i].in_use) return static_cast<std::int32_t>(i);
  }
  if (high_water_ < capacity_) {
    ::new (&slots()[high_water_]) Slot();
    return static_cast<std::int32_t>(high_water_++);
  }
  return -1;
}

bool SharedCondition::reclaim_dead_slots() noexcept {
  bool any = false;
  for (std::uint32_t i = 0; i < high_water_; ++i) {
    Slot& s = slots()[i];
    if (s.in_use && process_gone(s.pid)) {
      if (s.linked) unlink(static_cast<std::int32_t>(i));
      s.in_use = false;
      any = true;
    }
  }
  return any;
}

void SharedCondition::check_recovery(const SharedLockCore& lock) noexcept {
  const std::uint32_t r = lock.recoveries();
  if (r == seen_recoveries_) return;
  // A holder of the lock died, possibly in the middle of linking or unlinking a waiter. Wake
  // everybody and start over with an empty queue; waiters free their own slots on return.
  seen_recoveries_ = r;
  for (std::uint32_t i = 0; i < high_water_; ++i) {
    Slot& s = slots()[i];
    s.prev = s.next = -1;
    s.linked = false;
    if (s.in_use) {
      s.signaled.store(1, std::memory_order_release);
      futex_wake(s.signaled, 1, /*shared=*/true);
    }
  }
  head_ = tail_ = -1;
}

bool SharedCondition::wait(SharedLockCore& lock, const Clock::time_point* deadline) {
  if (!lock.is_owned()) throw RuntimeError("cannot wait on un-acquired lock");
  check_recovery(lock);
  std::int32_t i = allocate_slot();
  if (i < 0 && reclaim_dead_slots()) i = allocate_slot();
  if (i < 0) {
    throw RuntimeError("multiprocessing Condition: more than " + std::to_string(capacity_) +
                       " threads waiting at once (raise ConditionOptions::max_waiters)");
  }
  Slot& self = slots()[i];
  self.signaled.store(0, std::memory_order_relaxed);
  self.pid = static_cast<int>(::getpid());
  self.in_use = true;
  // Enqueue while still holding the lock: a notify() issued after our release will see us.
  link(i);
  const unsigned saved = lock.release_save();

  // Bounded spin, then park. notify() stores 1 (release) after unlinking us.
  if (deadline == nullptr || Clock::now() < *deadline) {
    spin_.spin([&] { return self.signaled.load(std::memory_order_acquire) != 0; });
  }
  while (self.signaled.load(std::memory_order_acquire) == 0) {
    if (deadline != nullptr && Clock::now() >= *deadline) break;
    futex_wait(self.signaled, 0, deadline, /*shared=*/true);
  }

  lock.acquire_restore(saved);
  check_recovery(lock);
  // With the lock held again nobody can notify us concurrently: still queued means we timed
  // out and take ourselves off; not queued means a notify() (or a reset) picked us.
  const bool notified = !self.linked;
  if (self.linked) unlink(i);
  self.in_use = false;
  return notified;
}

void SharedCondition::notify(SharedLockCore& lock, int n) {
  if (!lock.is_owned()) throw RuntimeError("cannot notify on un-acquired lock");
  check_recovery(lock);
  const int me = static_cast<int>(::getpid());
  while (n > 0 && head_ >= 0) {
    const std::int32_t i = head_;
    Slot& w = slots()[i];
    unlink(i);
    // The waiter cannot return (and reuse its slot) before it re-acquires the lock we hold.
    w.signaled.store(1, std::memory_order_release);
    const int woken = futex_wake(w.signaled, 1, /*shared=*/true);
    // Nobody asleep on the slot: the waiter is still spinning (it will see the store) -- or
    // its process died while waiting, and this notification must go to the next waiter.
    if (woken == 0 && w.pid != me && process_gone(w.pid)) {
      w.in_use = false;
      continue;
    }
    --n;
  }
}

}  // namespace pyconc::detail
