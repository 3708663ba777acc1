// TaskCore: stepping, finishing, cancelling and destroying coroutine tasks.
#include <atomic>
#include <chrono>
#include <string>

#include "debug.hpp"
#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/task.hpp"
#include "pyconc/detail/exception_info.hpp"
#include "pyconc/detail/trace.hpp"

namespace pyconc::detail {

bool TaskCore::cancel(std::string_view msg) noexcept {
  if (state_ == State::done) return false;
  // Python keeps the message of the latest cancel() (None clears it).
  if (msg.empty()) {
    cancel_message_.reset();
  } else {
    try {
      cancel_message_ = std::make_unique<std::string>(msg);
    } catch (...) {  // out of memory: the cancellation matters more than its text
    }
  }
  if (state_ == State::created) {
    // A coroutine never started: nothing to unwind, it simply never runs.
    cancelled_ = true;
    state_ = State::done;
    finish();
    return true;
  }
  if (loop_ == nullptr) return false;  // awaited inline: it is part of its caller's task
  ++cancel_requests_;
  if (waiter_ != nullptr && waiter_->cancel()) return true;
  must_cancel_ = true;
  return true;
}

std::exception_ptr TaskCore::take_exception() {
  if (state_ != State::done) throw InvalidStateError("Result is not set.");
  retrieved_ = true;
  if (cancelled_) throw CancelledError(cancel_message("the task was cancelled"));
  return exception_;
}

void TaskCore::add_watcher(DoneWatcher* w) noexcept {
  // Appended: watchers are told in registration order, as Python runs done-callbacks.
  w->next_done_ = nullptr;
  DoneWatcher** p = &watchers_;
  while (*p != nullptr) p = &(*p)->next_done_;
  *p = w;
}

std::vector<DoneWatcher*> TaskCore::take_callbacks(std::uint64_t id, CallbackKey key) {
  std::vector<DoneWatcher*> out;
  for (DoneWatcher** p = &watchers_; *p != nullptr;) {
    DoneWatcher* w = *p;
    if (w->is_callback(id, key)) {
      *p = w->next_done_;
      w->next_done_ = nullptr;
      out.push_back(w);
    } else {
      p = &w->next_done_;
    }
  }
  return out;
}

bool TaskCore::remove_watcher(DoneWatcher* w) noexcept {
  for (DoneWatcher** p = &watchers_; *p != nullptr; p = &(*p)->next_done_) {
    if (*p == w) {
      *p = w->next_done_;
      w->next_done_ = nullptr;
      return true;
    }
  }
  return false;
}

void TaskCore::start_task(LoopCore& loop, std::string name) {
  if (future_ && loop_ == &loop) return;
  if (state_ != State::created || loop_ != nullptr) {
    throw ValueError("create_task: the coroutine was already started or is already a task");
  }
  loop_ = &loop;
  if (name.empty()) {
    number_ = loop.next_task_number();
  } else {
    name_ = std::move(name);
  }
  state_ = State::task_running;
  context_ = contextvars::copy_context();  // Python: the creator's context, copied
  resume_point_ = self_;
  retain();  // the task keeps itself alive until it finishes
  loop.link_task(this);
  loop.schedule(this);
  if (tracing()) [[unlikely]]
    trace_instant("asyncio", "create " + this->name());
}

std::coroutine_handle<> TaskCore::start_inline(std::coroutine_handle<> continuation) {
  state_ = State::inline_running;
  continuation_ = continuation;
  return self_;
}

std::string TaskCore::name() const {
  if (number_ != 0) return "Task-" + std::to_string(number_);
  return name_.empty() ? std::string(coroutine_name_) : name_;
}

void TaskCore::run() noexcept {
  LoopCore* loop = loop_;
  if (state_ == State::done) return;
  if (must_cancel_ && !stepped_) {
    // cancel() before the first step: Python throws CancelledError into the coroutine at its
    // start, so its body never runs. (Not `resume_point_ == self_`: a task parked directly in
    // its own coroutine resumes there too, and must see the CancelledError at its await.)
    must_cancel_ = false;
    cancelled_ = true;
    state_ = State::done;
    loop->unlink_task(this);
    finish();
    release();
    return;
  }
  stepped_ = true;
  TaskCore* prev = loop->exchange_current(this);
  // Each step runs in the task's context (Python: the step is context.run(...)).
  contextvars::Context* prev_context = contextvars::detail::swap_current(&context_);
  if (loop->debug() || tracing()) [[unlikely]] {
    // Tracing: each step is a span named after the task, in the loop thread's lane.
    const std::int64_t start = trace_now_ns();
    const std::string who = name();
    resume_point_.resume();  // may finish and destroy the task: `this` is not used after
    const std::int64_t end = trace_now_ns();
    if (tracing()) trace_complete("asyncio", who, start, end);
    if (loop->debug()) report_if_slow(*loop, who, std::chrono::nanoseconds(end - start));
  } else {
    resume_point_.resume();
  }
  contextvars::detail::swap_current(prev_context);
  loop->exchange_current(prev);
}

void TaskCore::on_exception() noexcept {
  exception_ = std::current_exception();
  try {
    throw;
  } catch (const CancelledError& e) {
    // Python: a task whose coroutine lets CancelledError escape is cancelled, not failed, and
    // keeps the error's message for whoever awaits it.
    if (loop_ != nullptr) {
      cancelled_ = true;
      exception_ = nullptr;
      if (!cancel_message_ && std::string_view(e.what()) != "cancelled") {
        try {
          cancel_message_ = std::make_unique<std::string>(e.what());
        } catch (...) {
        }
      }
    }
  } catch (...) {
  }
}

void TaskCore::finish() noexcept {
  // Detach the whole list first: a watcher may destroy itself (and its node) when told.
  DoneWatcher* w = std::exchange(watchers_, nullptr);
  while (w != nullptr) {
    DoneWatcher* next = w->next_done_;
    w->next_done_ = nullptr;
    w->on_task_done(*this);
    w = next;
  }
}

std::coroutine_handle<> TaskCore::on_final() noexcept {
  state_ = State::done;
  if (tracing() && loop_ != nullptr) [[unlikely]] {
    try {
      const char* how = cancelled_ ? "cancelled " : exception_ ? "error " : "done ";
      trace_instant("asyncio", how + name());
    } catch (...) {
    }
  }
  if (loop_ == nullptr) {
    finish();
    return continuation_ ? continuation_ : std::noop_coroutine();
  }
  loop_->unlink_task(this);
  finish();
  release();  // the task's reference to itself; may destroy the frame (we are suspended)
  return std::noop_coroutine();
}

void TaskCore::destroy() noexcept {
  if (state_ == State::done && exception_ && !retrieved_) {
    report_unretrieved(loop_, name(), exception_);
  } else if (state_ == State::created) {
    report_never_awaited(coroutine_name_);
  }
  self_.destroy();
}

// --- done callbacks ---

namespace {
class CallbackWatcher final : public DoneWatcher {
 public:
  CallbackWatcher(LoopCore* loop, unique_function<void()> fn, std::uint64_t id, CallbackKey key)
      : loop_(loop), fn_(std::move(fn)), id_(id), key_(key) {}
  bool is_callback(std::uint64_t id, CallbackKey key) const noexcept override {
    return (id != 0 && id == id_) || (key != nullptr && key == key_);
  }
  void on_task_done(TaskCore&) noexcept override {
    try {
      loop_->loop().call_soon(std::move(fn_));
    } catch (...) {
      // Out of memory scheduling a callback: run it now rather than lose it.
      run_callback_now();
    }
    delete this;
  }

 private:
  void run_callback_now() noexcept {
    try {
      fn_();
    } catch (...) {
    }
  }
  LoopCore* loop_;
  unique_function<void()> fn_;
  std::uint64_t id_;
  CallbackKey key_;
};

std::atomic<std::uint64_t> next_callback_id{1};
}  // namespace

std::uint64_t add_task_callback(TaskCore& t, unique_function<void()> fn, CallbackKey key) {
  LoopCore* loop = t.loop() != nullptr ? t.loop() : LoopCore::running();
  if (loop == nullptr) throw RuntimeError("add_done_callback: no running event loop");
  if (t.done()) {
    loop->loop().call_soon(std::move(fn));
    return 0;
  }
  const std::uint64_t id = next_callback_id.fetch_add(1, std::memory_order_relaxed);
  t.add_watcher(new CallbackWatcher(loop, std::move(fn), id, key));
  return id;
}

std::size_t remove_task_callbacks(TaskCore& t, std::uint64_t id, CallbackKey key) {
  const auto removed = t.take_callbacks(id, key);
  for (DoneWatcher* w : removed) delete static_cast<CallbackWatcher*>(w);
  return removed.size();
}

TaskCore& task_or_raise(const char* outside) {
  LoopCore* l = LoopCore::running();
  TaskCore* t = l != nullptr ? l->current_task() : nullptr;
  if (t == nullptr) throw RuntimeError(outside);
  return *t;
}

bool is_cancelled_error(const std::exception_ptr& e) noexcept {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const CancelledError&) {
    return true;
  } catch (...) {
    return false;
  }
}

LoopCore* running_loop_or_null() noexcept {
  return LoopCore::running();
}

LoopCore& running_loop_core() {
  LoopCore* l = LoopCore::running();
  if (l == nullptr) throw RuntimeError("no running event loop");
  return *l;
}

TaskCore& SuspendPoint::current_task() {
  LoopCore* l = LoopCore::running();
  TaskCore* t = l != nullptr ? l->current_task() : nullptr;
  if (t == nullptr) {
    throw RuntimeError(l == nullptr ? "no running event loop: await inside aio::run()"
                                    : "await outside a task (e.g. in a plain callback)");
  }
  return *t;
}

}  // namespace pyconc::detail

namespace pyconc::asyncio {

TaskRef current_task() {
  detail::LoopCore* l = detail::LoopCore::running();
  return TaskRef(l != nullptr ? l->current_task() : nullptr);
}

std::vector<TaskRef> all_tasks() {
  std::vector<TaskRef> out;
  detail::LoopCore& l = detail::running_loop_core();
  out.reserve(l.task_count());
  for (detail::TaskCore* t = l.first_task(); t != nullptr; t = t->next_task_) out.emplace_back(t);
  return out;
}

}  // namespace pyconc::asyncio
