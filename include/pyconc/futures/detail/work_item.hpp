// pyconc/futures/detail/work_item.hpp -- an executor's work item: a Future's state fused with its
// callable (named apart from asyncio's TaskCore, which is a coroutine).
//
// submit() makes one allocation per task: the shared state of the returned Future<T> and the
// callable (with its bound arguments) live in one object. An executor queues the task through
// its WorkItemBase side; the queue owns one reference (queue_ref) until the task is run or
// cancelled.
#pragma once

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "pyconc/detail/trace.hpp"
#include "pyconc/future.hpp"

namespace pyconc::detail {

// The executor (identity only) whose worker is running on this thread, if any.
inline thread_local const void* tls_worker_owner = nullptr;
inline thread_local int tls_worker_index = -1;
inline thread_local const char* tls_worker_kind = "";

class WorkItemBase {
 public:
  // Runs the task unless it was cancelled or already run inline. Never throws.
  virtual void run() noexcept = 0;
  // Cancels the task if it has not started (shutdown(cancel_futures=true)).
  virtual void cancel_task() noexcept = 0;
  // Fails the task with `e` if it has not started (a broken executor).
  virtual void fail_task(std::exception_ptr e) noexcept = 0;

  WorkItemBase* next_task = nullptr;        // intrusive link for executor queues
  std::shared_ptr<WorkItemBase> queue_ref;  // the queue's reference while queued
  std::int64_t submit_ns = 0;               // only set when tracing

 protected:
  ~WorkItemBase() = default;
};

template <class T, class F>
class WorkItem final : public FutureState<T>, public WorkItemBase {
 public:
  WorkItem(const void* owner, F&& fn) : owner_(owner), fn_(std::move(fn)) {}

  void run() noexcept override {
    if (this->try_set_running() != FutureStatus::pending) return;  // cancelled, or ran inline
    const std::int64_t start = tracing() ? trace_now_ns() : 0;
    try {
      if constexpr (std::is_void_v<T>) {
        std::move (*fn_)();
        fn_.reset();  // drop the callable and its arguments now, as Python drops the work item
        this->set_value();
      } else {
        this->set_value(std::move(*fn_)());
        fn_.reset();
      }
    } catch (...) {
      fn_.reset();
      try {
        this->set_exception(std::current_exception());
      } catch (...) {  // someone finished the future through its public API meanwhile
      }
    }
    if (tracing()) [[unlikely]] {
      trace_task(tls_worker_kind, tls_worker_index, submit_ns, start, trace_now_ns());
    }
  }

  void cancel_task() noexcept override { this->cancel(); }

  void fail_task(std::exception_ptr e) noexcept override {
    if (this->try_set_running() != FutureStatus::pending) return;
    fn_.reset();
    try {
      this->set_exception(std::move(e));
    } catch (...) {
    }
  }

 private:
  // A worker of our own executor waiting for us runs us itself instead of blocking: a task
  // can submit to its own pool and wait for the result without starving the pool.
  void help_while_waiting() const noexcept override {
    if (tls_worker_owner == owner_ && this->status() == FutureStatus::pending) {
      const_cast<WorkItem*>(this)->run();
    }
  }

  const void* owner_;
  std::optional<F> fn_;
};

}  // namespace pyconc::detail
