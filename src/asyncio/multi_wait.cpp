#include "pyconc/asyncio/detail/multi_wait.hpp"

namespace pyconc::detail {

MultiWait::MultiWait(const std::vector<TaskCore*>& tasks, WaitUntil until, OnCancel on_cancel,
                     bool cancelled_is_error, const Clock::time_point* deadline)
    : nodes_(tasks.size()),
      until_(until),
      on_cancel_(on_cancel),
      cancelled_is_error_(cancelled_is_error) {
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    nodes_[i].owner = this;
    nodes_[i].task = tasks[i];
    if (tasks[i]->done()) {
      any_done_ = true;
      if (first_error_ == nullptr && failed(*tasks[i])) first_error_ = tasks[i];
    } else {
      ++pending_;
    }
  }
  if (deadline != nullptr) {
    deadline_ = *deadline;
    has_deadline_ = true;
  }
}

MultiWait::~MultiWait() {
  detach();
}

bool MultiWait::satisfied() const noexcept {
  if (pending_ == 0) return true;
  switch (until_) {
    case WaitUntil::all_done:
      return false;
    case WaitUntil::first_done:
      return any_done_;
    case WaitUntil::first_error:
      return first_error_ != nullptr;
  }
  return false;
}

void MultiWait::await_suspend(std::coroutine_handle<> h) {
  for (auto& n : nodes_) {
    if (!n.task->done()) {
      n.task->add_watcher(&n);
      n.watching = true;
    }
  }
  if (has_deadline_) {
    LoopCore* loop = current_task().loop();
    loop->timers().push(this, deadline_);
  }
  park(h);
}

void MultiWait::await_resume() {
  detach();
  if (task_ != nullptr) resume_check();  // only when it parked (not when ready at once)
}

void MultiWait::detach() noexcept {
  for (auto& n : nodes_) {
    if (n.watching) {
      n.task->remove_watcher(&n);
      n.watching = false;
    }
  }
  if (armed() && task_ != nullptr) task_->loop()->timers().erase(this);
}

void MultiWait::child_done(TaskCore& t) noexcept {
  --pending_;
  any_done_ = true;
  if (first_error_ == nullptr && failed(t)) first_error_ = &t;
  if (cancelling_children_) {
    if (pending_ == 0) cancelled_now();
    return;
  }
  if (satisfied()) complete();
}

void MultiWait::fire() noexcept {
  if (cancelling_children_) return;
  timed_out_ = true;
  complete();
}

bool MultiWait::cancel() noexcept {
  if (!cancellable()) return false;
  if (on_cancel_ == OnCancel::leave_children || pending_ == 0) {
    detach();
    return cancelled_now();
  }
  cancelling_children_ = true;
  if (armed()) task_->loop()->timers().erase(this);
  for (auto& n : nodes_) {
    if (n.watching) n.task->cancel();
  }
  return true;  // resumes (with CancelledError) once the last child finished
}

}  // namespace pyconc::detail

#include "pyconc/asyncio/gather.hpp"

namespace pyconc::detail {

void retrieve_when_done(const std::vector<TaskCore*>& tasks) {
  for (TaskCore* t : tasks) {
    if (t->done()) continue;
    add_task_callback(*t, [ref = asyncio::TaskRef(t)] { ref.core().mark_retrieved(); });
  }
}

}  // namespace pyconc::detail
