// pyconc/asyncio/detail/loop_core.hpp -- the part of the event loop that tasks and suspension
// points touch on every step: the ready queue, the running task, the timers, the reactor.
//
// EventLoop derives from it; the hot paths (schedule, current_task) are inline here so that
// waking a task is a few stores, no allocation, no virtual call.
//
// Thread safety: loop-thread only (cross-thread work enters through
// EventLoop::call_soon_threadsafe).
#pragma once

#include <cstddef>
#include <memory>

#include "pyconc/asyncio/detail/reactor.hpp"
#include "pyconc/asyncio/detail/runnable.hpp"
#include "pyconc/asyncio/detail/timer_heap.hpp"

namespace pyconc::asyncio {
class EventLoop;
}

namespace pyconc::detail {

class TaskCore;

class LoopCore {
 public:
  LoopCore(const LoopCore&) = delete;
  LoopCore& operator=(const LoopCore&) = delete;

  // Appends `r` to the ready queue unless it is already there (FIFO: asyncio's order).
  void schedule(Runnable* r) noexcept {
    if (r->queued_) return;
    r->queued_ = true;
    r->next_ready_ = nullptr;
    if (tail_ != nullptr) {
      tail_->next_ready_ = r;
    } else {
      head_ = r;
    }
    tail_ = r;
    ++ready_count_;
  }

  // The task being stepped right now (null between steps, e.g. in a call_soon callback).
  TaskCore* current_task() const noexcept { return current_; }
  TaskCore* exchange_current(TaskCore* t) noexcept {
    TaskCore* prev = current_;
    current_ = t;
    return prev;
  }

  TimerHeap& timers() noexcept { return timers_; }
  Reactor& reactor() noexcept { return *reactor_; }
  bool debug() const noexcept { return debug_; }

  // The loop running in this thread, or null. Out of line, as exchange_running(): header code
  // never touches the thread_local itself (GCC's UBSan reports the TLS wrapper of another TU's
  // thread_local as a null load).
  static LoopCore* running() noexcept;
  // Makes `l` the running loop of this thread (may be null) and returns the previous one.
  static LoopCore* exchange_running(LoopCore* l) noexcept;
  asyncio::EventLoop& loop() noexcept;

  // Live tasks (started with create_task and not yet finished), for all_tasks() and for the
  // cancellation of leftovers when run() ends.
  void link_task(TaskCore* t) noexcept;
  void unlink_task(TaskCore* t) noexcept;
  std::size_t task_count() const noexcept { return task_count_; }
  TaskCore* first_task() const noexcept { return tasks_; }
  std::uint64_t next_task_number() noexcept { return ++task_numbers_; }

 protected:
  LoopCore() = default;
  ~LoopCore() = default;

  Runnable* pop_ready() noexcept {
    Runnable* r = head_;
    head_ = r->next_ready_;
    if (head_ == nullptr) tail_ = nullptr;
    r->next_ready_ = nullptr;
    r->queued_ = false;
    --ready_count_;
    return r;
  }
  // Removes `r` from the ready queue if it is there (O(queue length); only for teardown).
  void unschedule(Runnable* r) noexcept;

  Runnable* head_ = nullptr;
  Runnable* tail_ = nullptr;
  std::size_t ready_count_ = 0;
  TaskCore* current_ = nullptr;
  TimerHeap timers_;
  std::unique_ptr<Reactor> reactor_;
  bool debug_ = false;
  TaskCore* tasks_ = nullptr;
  std::size_t task_count_ = 0;
  std::uint64_t task_numbers_ = 0;

  static thread_local LoopCore* running_;
};

}  // namespace pyconc::detail
