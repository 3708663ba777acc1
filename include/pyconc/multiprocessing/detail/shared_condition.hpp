// pyconc/multiprocessing/detail/shared_condition.hpp -- the waiter queue behind
// multiprocessing.Condition.
//
// threading::Condition links waiters that live on their threads' stacks; between processes
// the waiters must live in shared memory, so a SharedCondition owns a table of `capacity`
// slots (the bytes after it, see detail/shared_object.hpp) and links the slots of waiting
// threads into a FIFO. Everything but the futex sleep happens under the condition's lock (a
// SharedLockCore), exactly as in threading::Condition, so notify(n) wakes exactly n waiters,
// oldest first, and a waiter returns true only when notified.
// Robustness: a waiter process that died keeps its slot; notify() notices it (its wake-up
// found nobody and the process is gone) and wakes the next waiter instead, and the slot is
// reclaimed. When the lock was taken from a dead holder (SharedLockCore::recoveries()
// changed), the queue may be half-updated: it is reset and every waiter is woken (each
// returns true, as after notify_all; callers re-check their predicate anyway).
// Thread safety: wait() and notify() must be called with the lock held.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "pyconc/detail/adaptive_spin.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/multiprocessing/detail/shared_lock.hpp"
#include "pyconc/multiprocessing/detail/shared_object.hpp"

namespace pyconc::detail {

class SharedCondition {
 public:
  struct Slot {
    std::atomic<std::uint32_t> signaled{0};
    int pid = 0;
    std::int32_t prev = -1;
    std::int32_t next = -1;
    bool linked = false;
    bool in_use = false;
  };

  // Made by make_shared_condition() only: the slot table follows the object.
  explicit SharedCondition(std::uint32_t capacity) noexcept : capacity_(capacity) {}

  // Releases `lock` completely, waits for a notify() (or the deadline), re-acquires `lock`.
  // Returns false on timeout. RuntimeError when the caller does not hold `lock`, or when more
  // than `capacity` threads would wait at once.
  bool wait(SharedLockCore& lock, const Clock::time_point* deadline);
  // Wakes up to n waiters. RuntimeError when the caller does not hold `lock`.
  void notify(SharedLockCore& lock, int n);

 private:
  void check_recovery(const SharedLockCore& lock) noexcept;
  std::int32_t allocate_slot() noexcept;
  bool reclaim_dead_slots() noexcept;
  void link(std::int32_t i) noexcept;
  void unlink(std::int32_t i) noexcept;

  Slot* slots() noexcept { return reinterpret_cast<Slot*>(trailing_bytes(this)); }

  std::uint32_t capacity_;
  std::uint32_t high_water_ = 0;  // slots [0, high_water_) have been used at least once
  std::int32_t head_ = -1;
  std::int32_t tail_ = -1;
  std::uint32_t seen_recoveries_ = 0;
  AdaptiveSpin spin_;
};

// A SharedCondition with room for `max_waiters` waiters, in shared memory. ValueError if 0.
std::shared_ptr<SharedCondition> make_shared_condition(std::uint32_t max_waiters);

}  // namespace pyconc::detail
