// pyconc/asyncio/detail/multi_wait.hpp -- park the current task until a set of tasks reaches a
// condition (all done, first done, first failure) or a deadline passes. The engine of gather,
// wait and TaskGroup.
//
// Cancellation: with OnCancel::leave_children (asyncio.wait) the awaiting task unparks at once
// and the children keep running; with OnCancel::cancel_children (gather) the children are
// cancelled and the awaiting task stays parked until all of them finished, then throws
// CancelledError -- so no child outlives a cancelled gather unnoticed.
// Thread safety: loop-thread only.
#pragma once

#include <coroutine>
#include <cstddef>
#include <vector>

#include "pyconc/asyncio/detail/task_core.hpp"
#include "pyconc/asyncio/detail/timer_heap.hpp"
#include "pyconc/detail/deadline.hpp"

namespace pyconc::detail {

enum class WaitUntil : unsigned char { all_done, first_done, first_error };
enum class OnCancel : unsigned char { leave_children, cancel_children };

class MultiWait final : public SuspendPoint, public TimerEntry {
 public:
  // `cancelled_is_error`: under first_error, a cancelled child counts as a failure (gather)
  // or not (asyncio.wait(FIRST_EXCEPTION)).
  MultiWait(const std::vector<TaskCore*>& tasks, WaitUntil until, OnCancel on_cancel,
            bool cancelled_is_error, const Clock::time_point* deadline = nullptr);
  MultiWait(const MultiWait&) = delete;
  ~MultiWait();

  bool await_ready() const noexcept { return satisfied(); }
  void await_suspend(std::coroutine_handle<> h);
  void await_resume();

  bool timed_out() const noexcept { return timed_out_; }
  // The first child (in completion order) that failed, or null.
  TaskCore* first_error() const noexcept { return first_error_; }

  bool cancel() noexcept override;
  void fire() noexcept override;

 private:
  struct Node final : DoneWatcher {
    MultiWait* owner = nullptr;
    TaskCore* task = nullptr;
    bool watching = false;
    void on_task_done(TaskCore&) noexcept override {
      watching = false;
      owner->child_done(*task);
    }
  };
  bool failed(const TaskCore& t) const noexcept {
    return t.done() && (t.raw_exception() != nullptr || (cancelled_is_error_ && t.cancelled()));
  }
  bool satisfied() const noexcept;
  void child_done(TaskCore& t) noexcept;
  void detach() noexcept;

  std::vector<Node> nodes_;
  std::size_t pending_ = 0;
  TaskCore* first_error_ = nullptr;
  Clock::time_point deadline_{};
  bool has_deadline_ = false;
  bool timed_out_ = false;
  bool cancelling_children_ = false;
  bool any_done_ = false;
  WaitUntil until_;
  OnCancel on_cancel_;
  bool cancelled_is_error_;
};

}  // namespace pyconc::detail
