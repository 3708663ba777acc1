// pyconc/asyncio/detail/runnable.hpp -- what the event loop's ready queue holds, and what a
// parked task is parked on.
//
// Thread safety: loop-thread only (the ready queue is the loop's private state).
#pragma once

namespace pyconc::detail {

// An entry of the loop's ready queue: a task to step or a callback handle to run. Intrusive
// (the `next_ready_` link lives in the object), so waking a task never allocates. An object
// is in the queue at most once (`queued_`).
class Runnable {
 public:
  virtual void run() noexcept = 0;

  Runnable* next_ready_ = nullptr;
  bool queued_ = false;

 protected:
  Runnable() = default;
  Runnable(const Runnable&) = delete;
  Runnable& operator=(const Runnable&) = delete;
  ~Runnable() = default;
};

// A suspension point a task is parked on (a timer, an fd, a queue, a lock, a future, another
// task). Task::cancel() calls cancel() on it.
class Waiter {
 public:
  // Unregisters the suspension point and makes sure the parked task gets scheduled, so that
  // it resumes and throws CancelledError where it awaited. Returns false when the point
  // cannot be cancelled (the task is then cancelled at its next suspension instead).
  virtual bool cancel() noexcept = 0;

 protected:
  ~Waiter() = default;
};

}  // namespace pyconc::detail
