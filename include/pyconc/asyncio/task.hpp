// pyconc/asyncio/task.hpp -- aio::Task<T>: the coroutine type, and the handle of a scheduled task.
//
// Python: a coroutine object and asyncio.Task in one type. A function returning Task<T> is a
// coroutine function; calling it creates a suspended coroutine (nothing runs yet).
//   int a = co_await crawl_page("url");                 // runs inline, as `await coro()`
//   aio::Task<int> t = aio::create_task(crawl_page("u"), "crawl-u");  // scheduled on the loop
//   int b = co_await t;  t.done();  t.cancel();  t.result();  t.get_name();
// Awaiting an unstarted coroutine runs it inline (symmetric transfer: a chain of a million
// nested awaits does not grow the stack); awaiting a task waits for it to finish. Any number
// of coroutines may await the same task. `co_await t` on an lvalue returns a reference to the
// stored result (it stays in the task); on an rvalue (a temporary) the result is moved out.
// Differences: a task runs to completion even if every handle to it is dropped (Python may
// garbage-collect it); a coroutine awaited twice returns its stored result instead of raising.
//
// Cancellation: t.cancel() makes t throw CancelledError at its current suspension point (or
// at the next one); t may catch it. A task awaiting another task passes the cancel on to it,
// as Python does. A coroutine that was never started is just marked cancelled.
//
// Thread safety: a Task and the coroutine it names belong to the loop thread that runs them
// (its reference count is not atomic). To hand work to a loop from another thread use
// run_coroutine_threadsafe() or EventLoop::call_soon_threadsafe().
#pragma once

#include <concepts>
#include <coroutine>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/asyncio/detail/loop_core.hpp"
#include "pyconc/asyncio/detail/task_core.hpp"
#include "pyconc/detail/unique_function.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::asyncio {

template <class T = void>
class Task;
template <class T = void>
class ScheduledTask;

}  // namespace pyconc::asyncio

namespace pyconc::detail {

template <class T>
class TaskValue : public TaskCore {
 public:
  template <class U = T>
  requires std::constructible_from<T, U&&>
  void return_value(U&& v) { value_.emplace(std::forward<U>(v)); }
  T& value() noexcept { return *value_; }

 protected:
  std::optional<T> value_;
};

template <>
class TaskValue<void> : public TaskCore {
 public:
  void return_void() noexcept {}
  void value() noexcept {}
};

template <class T>
class TaskPromise final : public TaskValue<T> {
 public:
  // The compiler constructs the promise inside the coroutine's own ramp function, so this
  // default argument names the coroutine ("crawl_page") for debug reports, at no cost.
  explicit TaskPromise(const char* coroutine = __builtin_FUNCTION()) noexcept {
    this->set_coroutine_name(coroutine);
  }
  asyncio::Task<T> get_return_object() noexcept;
  std::suspend_always initial_suspend() noexcept { return {}; }
  auto final_suspend() noexcept {
    struct Final {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<TaskPromise> h) noexcept {
        return h.promise().on_final();
      }
      void await_resume() noexcept {}
    };
    return Final{};
  }
  void unhandled_exception() noexcept { this->on_exception(); }
};

// Awaits a task or runs a coroutine inline. `Move`: the result is moved out (rvalue await).
template <class T, bool Move>
class TaskAwaiter final : public SuspendPoint, public DoneWatcher {
 public:
  explicit TaskAwaiter(TaskPromise<T>* p) : p_(p) {
    if (p_ == nullptr) throw InvalidStateError("co_await on an empty Task");
  }
  TaskAwaiter(TaskAwaiter&&) = delete;
  ~TaskAwaiter() {
    if (watching_) p_->remove_watcher(this);
  }

  bool await_ready() const noexcept { return p_->done(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) {
    if (p_->state() == TaskCore::State::created) return p_->start_inline(h);
    if (p_->state() == TaskCore::State::inline_running) {
      throw RuntimeError("coroutine is being awaited already");
    }
    p_->add_watcher(this);
    watching_ = true;
    park(h);
    return std::noop_coroutine();
  }
  decltype(auto) await_resume() {
    if (task_ != nullptr) resume_check();  // only when we parked (awaited a task)
    if (const auto& e = p_->raw_exception()) {
      p_->mark_retrieved();
      std::rethrow_exception(e);
    }
    if (p_->cancelled()) throw CancelledError(p_->cancel_message("the awaited task was cancelled"));
    if constexpr (std::is_void_v<T>) {
      return;
    } else if constexpr (Move) {
      return T(std::move(p_->value()));
    } else {
      return static_cast<T&>(p_->value());
    }
  }

  void on_task_done(TaskCore&) noexcept override {
    watching_ = false;
    complete();
  }
  // Python: cancelling a task that awaits another cancels the other; we stay parked until
  // it finishes (with CancelledError, or with a value if it swallowed the cancel).
  bool cancel() noexcept override { return cancellable() && p_->cancel(); }

 private:
  TaskPromise<T>* p_;
  bool watching_ = false;
};

// Schedules `fn` on the loop with call_soon once `t` is done (node deletes itself).
std::uint64_t add_task_callback(TaskCore& t, unique_function<void()> fn, CallbackKey key = nullptr);
std::size_t remove_task_callbacks(TaskCore& t, std::uint64_t id, CallbackKey key);

}  // namespace pyconc::detail

namespace pyconc::asyncio {

// [[nodiscard]]: calling a coroutine function and dropping the result (`crawl_page("u");`, a
// forgotten co_await) warns at compile time; at run time such a coroutine is reported as never
// awaited when it is destroyed (see docs/asyncio.md).
template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using value_type = T;

  // An empty handle (valid() is false).
  Task() noexcept = default;
  explicit Task(promise_type* p) noexcept : p_(p) {}
  Task(const Task& o) noexcept : p_(o.p_) {
    if (p_ != nullptr) p_->retain();
  }
  Task(Task&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Task& operator=(Task o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~Task() {
    if (p_ != nullptr) p_->release();
  }

  bool valid() const noexcept { return p_ != nullptr; }
  bool done() const { return core().done(); }
  bool cancelled() const { return core().cancelled(); }
  // Python: Task.cancel(msg=None): `msg` becomes the text of the CancelledError the task (and
  // whoever awaits it) sees. False if the task is already done.
  bool cancel(std::string_view msg = {}) { return core().cancel(msg); }
  int cancelling() const { return core().cancelling(); }
  int uncancel() { return core().uncancel(); }
  // Python: coroutine.close() on a coroutine that never started: it is discarded without the
  // "never awaited" report (what a combinator does with a coroutine it refuses). No effect on
  // a coroutine that started or a task.
  void close() noexcept {
    if (p_ != nullptr && p_->state() == detail::TaskCore::State::created) p_->cancel();
  }

  // Python: Task.result(): the value; rethrows the task's exception; CancelledError if
  // cancelled; InvalidStateError if not done.
  std::add_lvalue_reference_t<T> result() const {
    if (auto e = core().take_exception()) std::rethrow_exception(e);
    return p_->value();
  }
  // Python: Task.exception(): null on success; CancelledError / InvalidStateError as result().
  std::exception_ptr exception() const { return core().take_exception(); }

  // Python: Task.add_done_callback(fn): fn(task) -- or fn() -- is scheduled with call_soon
  // once the task is done (at once if it already is). Returns a handle for
  // remove_done_callback (empty if the task was already done).
  // (Defined here: clang 14 does not match an out-of-line definition whose constraint names
  // Task<T>& against this declaration's Task&.)
  template <class F>
  requires std::invocable<F&, Task&> || std::invocable<F&> CallbackHandle add_done_callback(F fn)
  const {
    detail::CallbackKey key = nullptr;
    if constexpr (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>) {
      key = reinterpret_cast<detail::CallbackKey>(fn);
    }
    if constexpr (std::invocable<F&, Task&>) {
      Task self = *this;
      return CallbackHandle{detail::add_task_callback(
          core(), [fn = std::move(fn), self]() mutable { fn(self); }, key)};
    } else {
      return CallbackHandle{detail::add_task_callback(core(), std::move(fn), key)};
    }
  }
  // Python: Task.remove_done_callback(fn): takes back callbacks not yet scheduled -- the one
  // named by the handle, or every registration of a function pointer; returns how many.
  std::size_t remove_done_callback(CallbackHandle h) const {
    return h.id == 0 ? 0 : detail::remove_task_callbacks(core(), h.id, nullptr);
  }
  template <class R, class... Args>
  std::size_t remove_done_callback(R (*fn)(Args...)) const {
    return detail::remove_task_callbacks(core(), 0, reinterpret_cast<detail::CallbackKey>(fn));
  }

  std::string get_name() const { return core().name(); }
  void set_name(std::string name) { core().set_name(std::move(name)); }

  auto operator co_await() & { return detail::TaskAwaiter<T, false>(p_); }
  auto operator co_await() && { return detail::TaskAwaiter<T, true>(p_); }

  friend bool operator==(const Task& a, const Task& b) noexcept { return a.p_ == b.p_; }

  // For pyconc's own layers.
  detail::TaskCore& core() const {
    if (p_ == nullptr) throw InvalidStateError("empty Task handle");
    return *p_;
  }
  promise_type* promise() const noexcept { return p_; }

 private:
  promise_type* p_ = nullptr;
};

}  // namespace pyconc::asyncio

namespace pyconc::detail {

template <class T>
asyncio::Task<T> TaskPromise<T>::get_return_object() noexcept {
  this->set_handle(std::coroutine_handle<TaskPromise>::from_promise(*this));
  return asyncio::Task<T>(this);
}

LoopCore& running_loop_core();
// The running loop or null. Out of line: header code does not touch the thread_local itself
// (GCC's UBSan reports the TLS wrapper of another TU's thread_local as a null load).
LoopCore* running_loop_or_null() noexcept;

}  // namespace pyconc::detail

namespace pyconc::asyncio {

// What create_task() returns: an aio::Task<T> that is already scheduled on a loop. It is a Task
// in every respect (same methods, converts to Task<T>); the one difference is that dropping it
// does not warn, because a scheduled task runs to completion without its handle (fire and
// forget: `aio::create_task(worker());`, `tg.create_task(child());`).
template <class T>
class ScheduledTask : public Task<T> {
 public:
  ScheduledTask() noexcept = default;
  explicit ScheduledTask(Task<T> t) noexcept : Task<T>(std::move(t)) {}
  using Task<T>::operator=;
};

// Python: asyncio.create_task(coro, name=...): schedules the coroutine on the running loop as
// a task and returns the same handle. RuntimeError without a running loop; ValueError if `coro`
// was already started or is already a task. The name defaults to "Task-<n>".
template <class T>
ScheduledTask<T> create_task(Task<T> coro, std::string name = {}) {
  coro.core().start_task(detail::running_loop_core(), std::move(name));
  return ScheduledTask<T>(std::move(coro));
}

// Python: asyncio.ensure_future: a task as is, a coroutine scheduled with create_task.
template <class T>
Task<T> ensure_future(Task<T> t) {
  if (t.core().is_task()) return t;
  return create_task(std::move(t));
}

// An untyped handle to a task (Python code rarely cares about a task's result type): what
// current_task() and all_tasks() return. Same thread rules as Task<T>.
class TaskRef {
 public:
  TaskRef() noexcept = default;
  explicit TaskRef(detail::TaskCore* t) noexcept : t_(t) {
    if (t_ != nullptr) t_->retain();
  }
  template <class T>
  TaskRef(const Task<T>& t) noexcept : TaskRef(t.promise()) {}  // NOLINT: as Python, any task
  TaskRef(const TaskRef& o) noexcept : TaskRef(o.t_) {}
  TaskRef(TaskRef&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
  TaskRef& operator=(TaskRef o) noexcept {
    std::swap(t_, o.t_);
    return *this;
  }
  ~TaskRef() {
    if (t_ != nullptr) t_->release();
  }

  bool valid() const noexcept { return t_ != nullptr; }
  bool done() const { return core().done(); }
  bool cancelled() const { return core().cancelled(); }
  bool cancel(std::string_view msg = {}) { return core().cancel(msg); }
  int cancelling() const { return core().cancelling(); }
  int uncancel() { return core().uncancel(); }
  std::exception_ptr exception() const { return core().take_exception(); }
  std::string get_name() const { return core().name(); }
  void set_name(std::string name) { core().set_name(std::move(name)); }
  friend bool operator==(const TaskRef& a, const TaskRef& b) noexcept { return a.t_ == b.t_; }

  detail::TaskCore& core() const {
    if (t_ == nullptr) throw InvalidStateError("empty TaskRef");
    return *t_;
  }

 private:
  detail::TaskCore* t_ = nullptr;
};

// Python: asyncio.current_task(): the task running now (valid() false outside a task).
TaskRef current_task();

// Python: asyncio.all_tasks(): the running loop's tasks that are not done yet.
std::vector<TaskRef> all_tasks();

}  // namespace pyconc::asyncio
