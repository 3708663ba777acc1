// TaskGroup: the children's bookkeeping and Python's __aexit__ (the scoped form's end).
#include "pyconc/asyncio/task_group.hpp"

#include <string>

#include "pyconc/asyncio/event_loop.hpp"

namespace pyconc::asyncio {

TaskGroup::TaskGroup(ScopedTag)
    : parent_(&detail::task_or_raise("aio::task_group() must run inside a task")) {}

TaskGroup::~TaskGroup() {
  // Only reached with children still running when `co_await tg` was skipped (the earlier
  // form), or when the task holding the scope was destroyed mid-flight (loop closed).
  std::size_t left = 0;
  std::string names;
  detail::LoopCore* loop = nullptr;
  for_each_child([&](Child& c) {
    if (!c.watching) return;
    c.task.core().remove_watcher(&c);
    c.watching = false;
    c.task.cancel();
    loop = c.task.core().loop();
    if (++left <= 3) {
      try {
        names += (left > 1 ? ", " : "") + c.task.get_name();
      } catch (...) {
      }
    }
  });
  if (left == 0) return;
  try {
    ExceptionContext ctx{"TaskGroup destroyed with " + std::to_string(left) +
                             " unfinished task(s) (" + names + (left > 3 ? ", ..." : "") +
                             "): they were cancelled but may still use the frame that created "
                             "them; await the group, or use co_await aio::task_group(body)",
                         nullptr, names};
    if (loop != nullptr && detail::LoopCore::running() == loop) {
      loop->loop().call_exception_handler(ctx);
    } else {
      EventLoop::default_exception_handler(ctx);
    }
  } catch (...) {
  }
}

const char* TaskGroup::closed_reason() const noexcept {
  if (finished_) return "TaskGroup is finished";
  if (aborting_) return "TaskGroup is shutting down";
  return nullptr;
}

TaskGroup::Child& TaskGroup::next_node() {
  if (blocks_.empty() || blocks_.back().used == blocks_.back().size) {
    const std::size_t n = blocks_.empty() ? 4 : blocks_.back().size * 2;
    blocks_.reserve(blocks_.size() + 1);
    blocks_.push_back(Block{std::make_unique<Child[]>(n), n, 0});
  }
  Block& b = blocks_.back();
  return b.nodes[b.used];
}

void TaskGroup::adopt(Child& c, detail::TaskCore& t) noexcept {
  ++blocks_.back().used;
  ++count_;
  c.g = this;
  c.task = TaskRef(&t);
  if (!t.done()) {
    t.add_watcher(&c);
    c.watching = true;
    ++pending_;
  }
}

void TaskGroup::abort() noexcept {
  aborting_ = true;
  for_each_child([](Child& c) {
    if (c.watching) c.task.cancel();
  });
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
    if (!aborting_ && !parent_cancel_requested_) {
      abort();
      if (parent_ != nullptr && !parent_->done()) {
        // Python: the parent task is cancelled so that the body stops; __aexit__ takes the
        // cancellation back with uncancel().
        parent_cancel_requested_ = true;
        parent_->cancel();
      }
    }
  }
  if (pending_ == 0 && waiter_ != nullptr) waiter_->wake();
}

TaskGroup::Awaiter TaskGroup::operator co_await() {
  if (parent_ != nullptr) {
    throw RuntimeError(
        "co_await on the TaskGroup of aio::task_group(): the scope waits for its children");
  }
  return Awaiter(this, false);
}

TaskGroup::Awaiter TaskGroup::exit(std::exception_ptr body_error) noexcept {
  exiting_ = true;
  if (body_error) {
    body_cancelled_ = detail::is_cancelled_error(body_error);
    body_error_ = std::move(body_error);
    if (!aborting_) abort();
  }
  return Awaiter(this, true);
}

void TaskGroup::finish_exit(bool cancelled_while_waiting) {
  finished_ = true;
  bool propagate = cancelled_while_waiting || body_cancelled_;
  if (parent_cancel_requested_) {
    parent_cancel_requested_ = false;
    // No cancellation left but ours: the CancelledError that stopped the body is not passed on.
    if (parent_->uncancel() == 0) propagate = false;
  }
  if (body_error_ && !body_cancelled_) errors_.push_back(body_error_);
  if (!errors_.empty()) {
    throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors_));
  }
  if (propagate) {
    if (body_cancelled_) std::rethrow_exception(body_error_);
    throw CancelledError(parent_->cancel_message());
  }
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
  if (!g_->aborting_) g_->abort();
  if (g_->pending_ == 0) complete();
  return true;  // resumes once every child finished
}

void TaskGroup::Awaiter::await_resume() {
  if (g_->waiter_ == this) g_->waiter_ = nullptr;
  const bool cancelled = (task_ != nullptr && task_->unpark()) || cancel_seen_;
  if (exiting_) {
    g_->finish_exit(cancelled);
    return;
  }
  g_->finished_ = true;
  if (!g_->errors_.empty()) {
    throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(g_->errors_));
  }
  if (cancelled) throw CancelledError("cancelled");
}

}  // namespace pyconc::asyncio
