// pyconc/multiprocessing/detail/queue_core.hpp -- the shared-memory message ring behind
// multiprocessing's queues.
//
// A QueueCore lives in an anonymous shared mapping (inherited by forked children) followed by
// a byte ring that holds the serialized items as frames [8-byte length][bytes]. One robust
// process-shared lock (SharedLockCore) guards the ring; producers and consumers that must wait
// sleep on two futex sequence words (not_empty / not_full), bumped under the lock, so no
// wake-up is lost. Nothing goes through the kernel when nobody waits: a put or get is a lock,
// a memcpy and an unlock.
// Memory: the mapping reserves `capacity` bytes of address space (MAP_NORESERVE), but only a
// window of it is used: the window starts at 1 MiB and doubles when the items waiting do not
// fit (moving the wrapped part, like a vector's growth); when the queue empties the window
// shrinks back and the pages are returned to the kernel (MADV_REMOVE). So an idle or
// keep-up queue costs about 1 MiB, and a queue costs what it holds.
// Robustness: the frame bytes are written before the ring's counters move, so a process that
// dies in put() or get() leaves the ring consistent; the next holder of the lock (told by the
// robust lock) re-walks the frames to recount them. (A JoinableQueue's unfinished-task count
// cannot be repaired: a consumer that dies before task_done() leaves join() waiting.)
// Thread safety: every member may be called from any thread of any process mapping the core.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "pyconc/detail/deadline.hpp"
#include "pyconc/multiprocessing/detail/shared_lock.hpp"

namespace pyconc::detail {

class QueueCore {
 public:
  QueueCore(std::size_t capacity, std::size_t maxsize) noexcept;
  QueueCore(const QueueCore&) = delete;
  QueueCore& operator=(const QueueCore&) = delete;

  // Appends one item. Waits while the queue is full (maxsize items, or no room in the ring)
  // unless !block; gives up at `deadline` (nullptr: never). Returns false if it did not put.
  // ValueError if the item can never fit (larger than the capacity).
  bool put(std::string_view item, bool block, const Clock::time_point* deadline);
  // Takes the oldest item into `out`. Waits while empty unless !block; false if it got none.
  bool get(std::string& out, bool block, const Clock::time_point* deadline);

  std::size_t qsize() const noexcept { return count_.load(std::memory_order_relaxed); }
  std::size_t maxsize() const noexcept { return maxsize_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool full() const noexcept { return maxsize_ > 0 && qsize() >= maxsize_; }

  // JoinableQueue: ValueError("task_done() called too many times") below zero.
  void task_done();
  // Waits until every item put has been task_done()'d; false at the deadline.
  bool join(const Clock::time_point* deadline);

 private:
  class Guard;
  std::byte* ring() noexcept;
  bool fits(std::size_t need) const noexcept;
  void grow(std::size_t need) noexcept;
  void shrink_if_empty() noexcept;
  void ring_write(std::size_t pos, const void* src, std::size_t n) noexcept;
  void ring_read(std::size_t pos, void* dst, std::size_t n) noexcept;
  void repair() noexcept;
  // Releases the lock (through `g`), sleeps until `seq` moves or the deadline, re-locks.
  void wait_on(Guard& g, std::atomic<std::uint32_t>& seq, std::uint32_t& waiting,
               const Clock::time_point* deadline);

  // head (offset of the oldest frame in the window) and used (bytes of frames) packed in one
  // word, so that a process dying between "head moved" and "used shrank" cannot happen.
  std::size_t head() const noexcept { return static_cast<std::uint32_t>(ring_pos_); }
  std::size_t used() const noexcept { return static_cast<std::size_t>(ring_pos_ >> 32); }
  void set_pos(std::size_t head, std::size_t used) noexcept {
    ring_pos_ = (static_cast<std::uint64_t>(used) << 32) | head;
  }

  SharedLockCore lock_{false};
  // Under the lock:
  std::size_t window_;  // bytes of the ring in use as a circular buffer (power of two)
  volatile std::uint64_t ring_pos_ = 0;  // one store per update (see set_pos)
  std::uint64_t unfinished_ = 0;
  std::uint32_t getters_waiting_ = 0;
  std::uint32_t putters_waiting_ = 0;
  std::uint32_t joiners_waiting_ = 0;
  // Read without the lock:
  std::atomic<std::size_t> count_{0};
  std::atomic<std::uint32_t> not_empty_{0};
  std::atomic<std::uint32_t> not_full_{0};
  std::atomic<std::uint32_t> all_done_{0};
  const std::size_t capacity_;
  const std::size_t maxsize_;
};

// A core in fresh shared memory. `capacity` (bytes of address space for the ring, rounded up
// to a power of two between 1 MiB and 1 GiB) is reduced if the system refuses to reserve it.
std::shared_ptr<QueueCore> make_queue_core(std::size_t maxsize, std::size_t capacity);

}  // namespace pyconc::detail
