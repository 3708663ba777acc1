// pyconc/asyncio/detail/task_core.hpp -- the type-independent half of a coroutine task, and the
// building block of every suspension point.
//
// A TaskCore is the promise of an aio::Task<T> coroutine. It is either a plain coroutine
// (awaited inline by its caller, like `await coro()` in Python: it runs as part of the
// caller's task) or, once create_task() made it one, a *task*: a root the loop steps on its
// own. Only tasks are parked and cancelled; suspension points find the task they belong to
// through the loop's current task.
//
// Lifetime: reference-counted by the Task<T> handles (non-atomic: a task belongs to one loop
// thread); a running task also holds a reference to itself until it finishes, so a task whose
// handles are all dropped still runs to completion (unlike Python, where such a task may be
// garbage-collected mid-flight).
//
// Thread safety: loop-thread only.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pyconc/asyncio/detail/loop_core.hpp"
#include "pyconc/asyncio/detail/runnable.hpp"
#include "pyconc/contextvars.hpp"
#include "pyconc/detail/callback_handle.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {

class TaskCore;

// Told when a task finishes. Intrusive list node on the task (no allocation per awaiter).
class DoneWatcher {
 public:
  virtual void on_task_done(TaskCore& t) noexcept = 0;
  // A done-callback registration (add_done_callback) answers whether it is the one named by
  // `id`, or registered with the function pointer `key`; other watchers never match.
  virtual bool is_callback(std::uint64_t /*id*/, CallbackKey /*key*/) const noexcept {
    return false;
  }
  DoneWatcher* next_done_ = nullptr;

 protected:
  ~DoneWatcher() = default;
};

class TaskCore : public Runnable {
 public:
  enum class State : std::uint8_t { created, inline_running, task_running, done };

  void retain() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) destroy();
  }

  // Only one handle names this (finished) coroutine: its result may be moved out.
  bool sole_owner() const noexcept { return refs_ == 1; }
  State state() const noexcept { return state_; }
  bool done() const noexcept { return state_ == State::done; }
  bool cancelled() const noexcept { return state_ == State::done && cancelled_; }
  bool is_task() const noexcept { return loop_ != nullptr; }
  LoopCore* loop() const noexcept { return loop_; }

  // Python's Task.cancel(msg): asks the task to throw CancelledError(msg) at its suspension
  // point. False if it is already done. A coroutine never started is simply marked cancelled.
  bool cancel(std::string_view msg = {}) noexcept;
  // The text of the CancelledError this task raises: the message of the cancel() that took
  // effect (Python 3.9+), else `fallback`.
  std::string cancel_message(const char* fallback = "cancelled") const {
    return cancel_message_ ? *cancel_message_ : std::string(fallback);
  }
  int cancelling() const noexcept { return static_cast<int>(cancel_requests_); }
  int uncancel() noexcept {
    if (cancel_requests_ > 0) --cancel_requests_;
    if (cancel_requests_ == 0) must_cancel_ = false;
    return static_cast<int>(cancel_requests_);
  }

  // Marks the outcome as looked at (no "exception was never retrieved" report). Throws
  // InvalidStateError if not done, CancelledError if cancelled; returns the exception.
  std::exception_ptr take_exception();
  // The stored exception without checks (null if none), for combinators.
  const std::exception_ptr& raw_exception() const noexcept { return exception_; }
  void mark_retrieved() noexcept { retrieved_ = true; }

  void add_watcher(DoneWatcher* w) noexcept;
  bool remove_watcher(DoneWatcher* w) noexcept;
  // Unlinks (and returns, for the caller to delete) every watcher with is_callback(id, key).
  std::vector<DoneWatcher*> take_callbacks(std::uint64_t id, CallbackKey key);

  // --- for suspension points (the current task parks on them) ---
  void park(std::coroutine_handle<> h, Waiter* w) noexcept {
    resume_point_ = h;
    waiter_ = w;
    // A cancel() that arrived while the task was running takes effect at this suspension.
    if (must_cancel_ && w != nullptr && w->cancel()) must_cancel_ = false;
  }
  // In await_resume: leaves the suspension point; true if a pending cancel() must be thrown.
  bool unpark() noexcept {
    waiter_ = nullptr;
    if (!must_cancel_) return false;
    must_cancel_ = false;
    return true;
  }

  // --- for Task<T> / create_task ---
  // Makes this coroutine a task of `loop` and schedules its first step. A gathering future
  // (mark_future()) that is already a task of `loop` is accepted as it is.
  void start_task(LoopCore& loop, std::string name);
  // Marks a task the library made on the caller's behalf (gather's), which Python code holds
  // as a future: create_task() on it is not an error.
  void mark_future() noexcept { future_ = true; }
  // Runs this coroutine inline as part of the awaiting one; returns the handle to transfer to.
  std::coroutine_handle<> start_inline(std::coroutine_handle<> continuation);
  std::string name() const;
  const char* coroutine_name() const noexcept { return coroutine_name_; }
  void set_name(std::string name) {
    name_ = std::move(name);
    number_ = 0;
  }
  std::coroutine_handle<> handle() const noexcept { return self_; }

  void run() noexcept override;  // one step of a task (Runnable)

  TaskCore* next_task_ = nullptr;  // LoopCore's list of live tasks
  TaskCore* prev_task_ = nullptr;

 protected:
  TaskCore() = default;
  TaskCore(const TaskCore&) = delete;
  TaskCore& operator=(const TaskCore&) = delete;
  ~TaskCore() = default;

  void set_handle(std::coroutine_handle<> h) noexcept { self_ = h; }
  void set_coroutine_name(const char* n) noexcept { coroutine_name_ = n; }
  void on_exception() noexcept;
  // From final_suspend: publishes the outcome, wakes watchers; returns where to continue.
  std::coroutine_handle<> on_final() noexcept;

 private:
  void finish() noexcept;  // state -> done, notify watchers
  void destroy() noexcept;

  std::coroutine_handle<> self_;
  std::coroutine_handle<> resume_point_;
  std::coroutine_handle<> continuation_;
  Waiter* waiter_ = nullptr;
  LoopCore* loop_ = nullptr;
  std::exception_ptr exception_;
  // The task's context: a copy of its creator's at create_task, entered around every step.
  contextvars::Context context_;
  std::unique_ptr<std::string> cancel_message_;  // rare: kept out of line (8 bytes a task)
  DoneWatcher* watchers_ = nullptr;
  std::string name_;          // set by create_task(name) / set_name(); else "Task-<number_>"
  std::uint64_t number_ = 0;  // formatted lazily: naming a task must not cost a string
  const char* coroutine_name_ = "coroutine";  // the coroutine function's name (a literal)
  std::uint32_t refs_ = 1;
  std::uint32_t cancel_requests_ = 0;
  State state_ = State::created;
  bool cancelled_ = false;
  bool must_cancel_ = false;
  bool stepped_ = false;  // the task ran its first step
  bool retrieved_ = false;
  bool future_ = false;
};

// The task the running loop is stepping; RuntimeError(`outside`) when there is none.
TaskCore& task_or_raise(const char* outside);

// Whether `e` holds a CancelledError (which is no std::exception: sorted by rethrowing).
bool is_cancelled_error(const std::exception_ptr& e) noexcept;

// The common half of every awaiter that parks the current task (sleep, I/O, queue, lock,
// future, another task). Usage in an awaiter:
//   await_suspend(h): register with the source, then park(h);
//   source completes: complete();            (schedules the task once)
//   cancel():         if (!cancellable()) return false; unregister; return cancelled_now();
//   await_resume():   resume_check(); then take the result.
class SuspendPoint : public Waiter {
 public:
  bool cancel() noexcept override = 0;

 protected:
  SuspendPoint() = default;
  ~SuspendPoint() = default;
  SuspendPoint(const SuspendPoint&) = delete;
  SuspendPoint& operator=(const SuspendPoint&) = delete;

  // The task stepping right now; RuntimeError outside a task.
  static TaskCore& current_task();
  void park(std::coroutine_handle<> h) {
    task_ = &current_task();
    task_->park(h, this);
  }
  // The source finished the operation: schedule the task (idempotent).
  void complete() noexcept {
    if (woken_) return;
    woken_ = true;
    task_->loop()->schedule(task_);
  }
  bool cancellable() const noexcept { return !woken_; }
  bool cancelled_now() noexcept {
    cancelled_ = true;
    complete();
    return true;
  }
  void resume_check() {
    const bool must = task_->unpark();
    if (cancelled_ || must) throw CancelledError(task_->cancel_message());
  }

  TaskCore* task_ = nullptr;
  bool woken_ = false;
  bool cancelled_ = false;
};

}  // namespace pyconc::detail
