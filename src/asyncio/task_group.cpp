#include "pyconc/asyncio/task_group.hpp"

namespace pyconc::asyncio {

TaskGroup::~TaskGroup() {
  if (waiter_ != nullptr) waiter_ = nullptr;
  for (auto& c : children_) {
    if (c->watching) {
      c->task.core().remove_watcher(c.get());
      c->watching = false;
      c->task.cancel();
    }
  }
}

void TaskGroup::check_open() const {
  if (finished_) throw RuntimeError("TaskGroup is finished");
  if (aborting_) throw RuntimeError("TaskGroup is shutting down");
}

void TaskGroup::adopt(detail::TaskCore& t) {
  auto c = std::make_unique<Child>();
  c->g = this;
  c->task = TaskRef(&t);
  if (!t.done()) {
    t.add_watcher(c.get());
    c->watching = true;
    ++pending_;
  }
  children_.push_back(std::move(c));
}

void TaskGroup::abort() noexcept {
  aborting_ = true;
  for (auto& c : children_) {
    if (c->watching) c->task.cancel();
  }
}

void TaskGroup::child_done(Child& c) noexcept {
  --pending_;
  detail::TaskCore& t = c.task.core();
  if (!t.cancelled() && t.raw_exception() != nullptr) {
    t.mark_retrieved();
    try {
      errors_.push_back(t.raw_exception());
    } catch (...) {
    }
    if (!aborting_) abort();
  }
  if (pending_ == 0 && waiter_ != nullptr) waiter_->wake();
}

TaskGroup::Awaiter::~Awaiter() {
  if (g_->waiter_ == this) g_->waiter_ = nullptr;
}

void TaskGroup::Awaiter::await_suspend(std::coroutine_handle<> h) {
  if (g_->waiter_ != nullptr) throw RuntimeError("TaskGroup is already being awaited");
  park(h);
  g_->waiter_ = this;
}

bool TaskGroup::Awaiter::cancel() noexcept {
  if (!cancellable()) return false;
  cancel_seen_ = true;
  g_->abort();
  if (g_->pending_ == 0) complete();
  return true;  // resumes once every child finished
}

void TaskGroup::Awaiter::await_resume() {
  if (g_->waiter_ == this) g_->waiter_ = nullptr;
  const bool cancelled = (task_ != nullptr && task_->unpark()) || cancel_seen_;
  g_->finished_ = true;
  if (!g_->errors_.empty()) {
    throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(g_->errors_));
  }
  if (cancelled) throw CancelledError("cancelled");
}

}  // namespace pyconc::asyncio
