// pyconc/asyncio/detail/timer_heap.hpp -- the event loop's timers: an intrusive binary min-heap.
//
// Each entry records its own heap index, so cancelling a timer removes it at once in
// O(log n) (no tombstones to sweep, memory returns when timers are cancelled); entries live
// inside the object that owns them (a sleeping coroutine's frame, a TimerHandle), so arming a
// timer never allocates beyond the heap's vector. Ties fire in arming order.
//
// Thread safety: loop-thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pyconc/detail/deadline.hpp"

namespace pyconc::detail {

class TimerEntry {
 public:
  // Called by the loop when the deadline has passed (the entry is already out of the heap).
  virtual void fire() noexcept = 0;

  bool armed() const noexcept { return index_ != npos; }
  Clock::time_point when() const noexcept { return when_; }

 protected:
  TimerEntry() = default;
  TimerEntry(const TimerEntry&) = delete;
  TimerEntry& operator=(const TimerEntry&) = delete;
  ~TimerEntry() = default;

 private:
  friend class TimerHeap;
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  Clock::time_point when_{};
  std::uint64_t seq_ = 0;
  std::size_t index_ = npos;
};

class TimerHeap {
 public:
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  TimerEntry* top() const noexcept { return heap_.front(); }

  void push(TimerEntry* e, Clock::time_point when) {
    e->when_ = when;
    e->seq_ = next_seq_++;
    e->index_ = heap_.size();
    heap_.push_back(e);
    sift_up(e->index_);
  }

  // Removes `e` if armed; returns whether it was.
  bool erase(TimerEntry* e) noexcept {
    if (!e->armed()) return false;
    const std::size_t i = e->index_;
    TimerEntry* last = heap_.back();
    heap_.pop_back();
    e->index_ = TimerEntry::npos;
    if (last != e) {
      heap_[i] = last;
      last->index_ = i;
      sift_down(i);
      sift_up(last->index_);
    }
    return true;
  }

  TimerEntry* pop() noexcept {
    TimerEntry* e = heap_.front();
    erase(e);
    return e;
  }

 private:
  static bool before(const TimerEntry* a, const TimerEntry* b) noexcept {
    return a->when_ < b->when_ || (a->when_ == b->when_ && a->seq_ < b->seq_);
  }
  void place(std::size_t i, TimerEntry* e) noexcept {
    heap_[i] = e;
    e->index_ = i;
  }
  void sift_up(std::size_t i) noexcept {
    TimerEntry* e = heap_[i];
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!before(e, heap_[parent])) break;
      place(i, heap_[parent]);
      i = parent;
    }
    place(i, e);
  }
  void sift_down(std::size_t i) noexcept {
    TimerEntry* e = heap_[i];
    const std::size_t n = heap_.size();
    for (;;) {
      std::size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
      if (!before(heap_[child], e)) break;
      place(i, heap_[child]);
      i = child;
    }
    place(i, e);
  }

  std::vector<TimerEntry*> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace pyconc::detail
