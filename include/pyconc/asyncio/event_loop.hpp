// pyconc/asyncio/event_loop.hpp -- the event loop: ready queue, timers, I/O readiness, and the
// door other threads knock on.
//
// Python: asyncio's event loop (BaseEventLoop). One loop per thread; aio::run() creates one,
// runs a coroutine to completion and closes it. Each iteration: poll I/O (blocking only when
// nothing is ready, until the next timer), move expired timers and cross-thread callbacks to
// the ready queue, then run what was ready when the iteration began (FIFO) -- so a callback
// that schedules more work cannot starve I/O.
//   auto& loop = aio::get_running_loop();
//   loop.call_soon(fn); loop.call_later(1s, fn); loop.call_at(loop.time() + 1s, fn);
//   loop.call_soon_threadsafe(fn);             // from any thread
// Differences: times are std::chrono (steady_clock time points, durations); callbacks are any
// callable taking no arguments (bind arguments with a lambda).
//
// Thread safety: a loop belongs to the thread running it. call_soon_threadsafe() (and
// remote()) may be used from any thread, even after the loop closed (it then throws
// RuntimeError). Everything else -- including Handle::cancel() -- is loop-thread only.
// Memory ordering: what a thread did before call_soon_threadsafe(fn) is visible to fn.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/asyncio/detail/loop_core.hpp"
#include "pyconc/asyncio/detail/task_core.hpp"
#include "pyconc/asyncio/task.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/unique_function.hpp"
#include "pyconc/errors.hpp"

namespace pyconc {
template <class T>
class Future;
}
namespace pyconc::futures {
class ThreadPoolExecutor;
}

namespace pyconc::detail {

// A scheduled callback (call_soon / call_later / call_soon_threadsafe). The loop holds one
// reference while it is queued or armed, each Handle one more.
class CallbackNode final : public Runnable, public TimerEntry {
 public:
  CallbackNode(LoopCore* loop, unique_function<void()> fn) : loop_(loop), fn_(std::move(fn)) {}
  void run() noexcept override;
  void fire() noexcept override { loop_->schedule(this); }
  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  void cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_; }
  LoopCore* loop() const noexcept { return loop_; }

 private:
  LoopCore* loop_;
  unique_function<void()> fn_;
  std::atomic<std::uint32_t> refs_{1};
  bool cancelled_ = false;
};

// The thread-safe entrance of a loop. Shared: it outlives the loop, so a thread that still
// holds it after the loop closed gets a clean RuntimeError instead of a dangling pointer.
class LoopRemote {
 public:
  explicit LoopRemote(Reactor* r) : reactor_(r) {}
  // Queues `node` (taking over one reference); false if the loop is closed.
  bool post(CallbackNode* node);
  // Loop side: takes what was posted.
  void drain(std::vector<CallbackNode*>& out);
  // Whether anything was posted since the last drain (a lock-free peek for the loop).
  bool has_pending() const noexcept { return pending_.load(std::memory_order_acquire); }
  void close();
  bool closed() const;

 private:
  mutable std::mutex mu_;
  std::vector<CallbackNode*> inbox_;
  Reactor* reactor_;
  bool closed_ = false;
  bool wake_pending_ = false;
  std::atomic<bool> pending_{false};
};

}  // namespace pyconc::detail

namespace pyconc::asyncio {

// Python: asyncio.Handle / TimerHandle -- a scheduled callback that can be cancelled before it
// runs. Copyable (copies name the same callback).
class Handle {
 public:
  Handle() noexcept = default;
  explicit Handle(detail::CallbackNode* n) noexcept : n_(n) {
    if (n_ != nullptr) n_->retain();
  }
  Handle(const Handle& o) noexcept : Handle(o.n_) {}
  Handle(Handle&& o) noexcept : n_(std::exchange(o.n_, nullptr)) {}
  Handle& operator=(Handle o) noexcept {
    std::swap(n_, o.n_);
    return *this;
  }
  ~Handle() {
    if (n_ != nullptr) n_->release();
  }
  // Prevents the callback from running (loop thread only); a no-op once it ran.
  void cancel() noexcept {
    if (n_ != nullptr) n_->cancel();
  }
  bool cancelled() const noexcept { return n_ != nullptr && n_->cancelled(); }
  // TimerHandle.when(): the scheduled time (time_point{} for call_soon handles).
  detail::Clock::time_point when() const noexcept {
    return n_ != nullptr ? n_->when() : detail::Clock::time_point{};
  }

 private:
  detail::CallbackNode* n_ = nullptr;
};
using TimerHandle = Handle;

// What the loop reports to its exception handler (Python: the `context` dict).
struct ExceptionContext {
  std::string message;
  std::exception_ptr exception;
  std::string task;  // the task's name, if a task is concerned
};

// Options of a loop (and of aio::run). Defined at namespace scope for designated initializers.
struct LoopOptions {
  // Python's debug mode (also on when PYCONC_DEBUG=1 is in the environment): reports
  // coroutines destroyed without being awaited and callbacks/steps slower than
  // slow_callback_duration, naming the task; checks that loop methods are called from the
  // loop's thread.
  bool debug = false;
  std::chrono::milliseconds slow_callback_duration{100};
};

class EventLoop : public detail::LoopCore {
 public:
  explicit EventLoop(LoopOptions options = {});
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // --- scheduling callbacks ---
  template <class F>
  Handle call_soon(F&& fn) {
    auto* n = new detail::CallbackNode(this, std::forward<F>(fn));
    Handle h(n);
    schedule(n);  // the queue keeps the node's first reference
    return h;
  }
  template <class F, class Rep, class Period>
  Handle call_later(std::chrono::duration<Rep, Period> delay, F&& fn) {
    return call_at(time() + std::chrono::duration_cast<detail::Clock::duration>(
                                (std::max)(delay, std::chrono::duration<Rep, Period>::zero())),
                   std::forward<F>(fn));
  }
  template <class F>
  Handle call_at(detail::Clock::time_point when, F&& fn) {
    auto* n = new detail::CallbackNode(this, std::forward<F>(fn));
    Handle h(n);
    timers_.push(n, when);
    return h;
  }
  // Any thread. RuntimeError if the loop is closed.
  template <class F>
  Handle call_soon_threadsafe(F&& fn) {
    auto* n = new detail::CallbackNode(this, std::forward<F>(fn));
    Handle h(n);
    if (!remote_->post(n)) {
      n->release();
      throw RuntimeError("Event loop is closed");
    }
    return h;
  }
  // The thread-safe entrance as a shared object (valid after the loop is gone).
  const std::shared_ptr<detail::LoopRemote>& remote() const noexcept { return remote_; }

  // Python: loop.time() -- the loop's clock (steady_clock).
  detail::Clock::time_point time() const noexcept { return detail::Clock::now(); }

  // Python: loop.create_future(): a pending pyconc::Future (the one future type) tied to this
  // loop -- its done-callbacks are scheduled on the loop (call_soon; call_soon_threadsafe when
  // it is completed from another thread) instead of running inside set_result, as
  // asyncio.Future's are. Complete it from loop code (set_result / set_exception / cancel) or
  // from any thread; `co_await fut` in a task. Defined in pyconc/asyncio/future.hpp. Do not
  // call its blocking result() on the loop's own thread before it is done: that would wait
  // for the loop it blocks.
  template <class T = void>
  Future<T> create_future();

  // Python: loop.create_task(coro, name=...): schedules the coroutine as a task of this loop,
  // which need not be running yet (the seeds' `tasks = [loop.create_task(f(u)) for u in urls];
  // loop.run_until_complete(asyncio.wait(tasks))`). Loop thread only. ValueError if `coro` was
  // already started; RuntimeError if the loop is closed.
  template <class T>
  ScheduledTask<T> create_task(Task<T> coro, std::string name = {}) {
    if (closed_) throw RuntimeError("Event loop is closed");
    coro.core().start_task(*this, std::move(name));
    return ScheduledTask<T>(std::move(coro));
  }

  // --- running ---
  // Runs until stop() is called. RuntimeError if the loop is running or closed.
  void run_forever();
  // Runs until `t` is done (scheduling it as a task if it is a plain coroutine); returns its
  // result (moved out) or rethrows its exception.
  template <class T>
  T run_until_complete(Task<T> t);
  // Stops run_forever() after the current iteration.
  void stop() noexcept { stopping_ = true; }
  bool is_running() const noexcept { return running_here_; }
  bool is_closed() const noexcept { return closed_; }
  // Closes the loop (RuntimeError if running). Pending callbacks are dropped; tasks still
  // pending are reported ("Task was destroyed but it is pending!").
  void close();
  // One iteration of the loop, for tests that step it deterministically: polls I/O without
  // blocking (or up to the next timer when `block`), then runs what is ready.
  void run_once(bool block = false);
  // Python: asyncio.run()'s teardown: cancels every task, runs until they are all done, and
  // reports exceptions of those that did not finish with CancelledError.
  void cancel_all_tasks();

  // --- file descriptors (level-triggered, Python's add_reader/add_writer) ---
  void add_reader(int fd, detail::unique_function<void()> cb);
  bool remove_reader(int fd);
  void add_writer(int fd, detail::unique_function<void()> cb);
  bool remove_writer(int fd);

  // --- Unix signals (Python's add_signal_handler / remove_signal_handler) ---
  // Runs `fn` as a loop callback each time signal `sig` arrives (a self-pipe written by the
  // async-signal-safe handler wakes the loop; `fn` itself runs outside the handler, on the
  // loop thread, so it may do anything a callback may). Replaces this loop's previous handler
  // for `sig`. ValueError for an invalid signal number, RuntimeError for SIGKILL/SIGSTOP
  // ("cannot be caught") or a closed loop. A signal belongs to one loop at a time: the last
  // loop that added a handler for it receives it. An exception escaping `fn` goes to the
  // exception handler. Loop thread only.
  void add_signal_handler(int sig, detail::unique_function<void()> fn);
  // Removes the handler of `sig` and restores the disposition it replaced; false if this loop
  // had none. close() removes them all.
  bool remove_signal_handler(int sig);

  // --- executor for to_thread / run_in_executor(nullptr, ...) ---
  futures::ThreadPoolExecutor& default_executor();
  // Waits for the default executor's work to finish (called by aio::run at exit).
  void shutdown_default_executor();

  // --- errors ---
  void set_exception_handler(detail::unique_function<void(EventLoop&, const ExceptionContext&)> h);
  void call_exception_handler(const ExceptionContext& context) noexcept;
  static void default_exception_handler(const ExceptionContext& context) noexcept;

  bool get_debug() const noexcept { return debug_; }
  void set_debug(bool on) noexcept { debug_ = on; }
  std::chrono::milliseconds slow_callback_duration() const noexcept { return slow_; }

 private:
  struct SignalState;  // the self-pipe and the handlers (src/asyncio/signals.cpp)
  struct SignalStateDeleter {
    void operator()(SignalState* s) const noexcept;
  };
  void close_signals() noexcept;
  struct FdCallbacks;
  struct FdTable;  // fd -> FdCallbacks (a hash map, kept out of this header)
  void run_ready() noexcept;
  void run_timers(detail::Clock::time_point now) noexcept;
  void drain_remote() noexcept;
  void update_fd(int fd, FdCallbacks& f);
  void enter();
  void leave() noexcept;

  std::shared_ptr<detail::LoopRemote> remote_;
  std::unique_ptr<FdTable> fds_;
  std::unique_ptr<SignalState, SignalStateDeleter> signals_;
  std::unique_ptr<futures::ThreadPoolExecutor> executor_;
  detail::unique_function<void(EventLoop&, const ExceptionContext&)> handler_;
  std::vector<detail::CallbackNode*> drained_;
  std::chrono::milliseconds slow_;
  std::uintptr_t owner_thread_ = 0;
  detail::Clock::time_point last_poll_{};
  bool stopping_ = false;
  bool running_here_ = false;
  bool closed_ = false;
};

// Python: asyncio.get_running_loop(): RuntimeError("no running event loop") outside a loop.
EventLoop& get_running_loop();
// Python: asyncio.get_event_loop(): the running loop if there is one, else this thread's
// default loop, created at the first call and closed when the thread ends (Python 3.11 creates
// one for the main thread the same way; 3.12 warns). Prefer aio::run() in new code.
EventLoop& get_event_loop();

}  // namespace pyconc::asyncio

namespace pyconc::detail {
// Stops the loop when the watched task finishes (run_until_complete).
struct StopWhenDone final : DoneWatcher {
  asyncio::EventLoop* loop;
  explicit StopWhenDone(asyncio::EventLoop* l) : loop(l) {}
  void on_task_done(TaskCore&) noexcept override { loop->stop(); }
};
}  // namespace pyconc::detail

namespace pyconc::asyncio {

template <class T>
T EventLoop::run_until_complete(Task<T> t) {
  if (closed_) throw RuntimeError("Event loop is closed");
  if (running_here_) throw RuntimeError("This event loop is already running");
  {
    // create_task needs this loop to be the running one while it schedules.
    struct Enter {
      LoopCore* prev;
      explicit Enter(EventLoop* loop) : prev(exchange_running(loop)) {}
      ~Enter() { exchange_running(prev); }
    } enter_scope(this);
    t = ensure_future(std::move(t));
  }
  detail::StopWhenDone stopper(this);
  const bool watch = !t.done();
  if (watch) t.core().add_watcher(&stopper);
  try {
    run_forever();
  } catch (...) {
    if (watch && !t.done()) t.core().remove_watcher(&stopper);
    throw;
  }
  if (!t.done()) {
    t.core().remove_watcher(&stopper);
    throw RuntimeError("Event loop stopped before the task completed");
  }
  if constexpr (std::is_void_v<T>) {
    t.result();
  } else {
    return T(std::move(t.result()));
  }
}

}  // namespace pyconc::asyncio

namespace pyconc::detail {
// Python 3.11 Runner's SIGINT handling: while it lives, on the main thread and only if SIGINT
// had its default disposition, the first SIGINT cancels `main` (and the run then raises
// KeyboardInterrupt); a second one restores the default disposition and re-raises the signal,
// ending the process as SIGINT does by default.
class SigintGuard {
 public:
  SigintGuard(asyncio::EventLoop& loop, TaskCore& main);
  ~SigintGuard();
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;
  bool interrupted() const noexcept { return interrupts_ > 0; }

 private:
  asyncio::EventLoop* loop_;
  TaskCore* main_;
  int interrupts_ = 0;
  bool installed_ = false;
};
}  // namespace pyconc::detail

namespace pyconc::asyncio {

// Python: asyncio.Runner (3.11) -- one event loop that runs several top-level coroutines in
// turn, then is shut down the way aio::run() shuts down:
//   aio::Runner runner; runner.run(a()); runner.run(b()); runner.get_loop();  // same loop
// The loop is created at the first run() or get_loop(). run(coro) schedules `coro` as the main
// task and runs the loop until it is done, returning its result or raising its exception; on
// the main thread, with SIGINT at its default disposition, SIGINT cancels the main task and
// run() then raises KeyboardInterrupt (see SigintGuard). Tasks left pending by one run keep
// their place in the loop and go on during the next. close() (also the destructor) cancels
// every remaining task and waits for them, shuts down the default executor and closes the loop.
// Thread safety: one thread uses a Runner (its loop belongs to that thread). RuntimeError if
// run() is called from a running loop or after close().
class Runner {
 public:
  explicit Runner(LoopOptions options = {}) : options_(options) {}
  ~Runner() {
    try {
      close();
    } catch (...) {
    }
  }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  template <class T>
  T run(Task<T> coro);
  // Python: runner.get_loop().
  EventLoop& get_loop() {
    if (closed_) throw RuntimeError("Runner is closed");
    if (!loop_) loop_ = std::make_unique<EventLoop>(options_);
    return *loop_;
  }
  // Python: runner.close(): cancels the remaining tasks, shuts down the default executor and
  // closes the loop. Idempotent.
  void close() {
    if (closed_) return;
    closed_ = true;
    if (!loop_) return;
    loop_->cancel_all_tasks();
    loop_->shutdown_default_executor();
    loop_->close();
  }

 private:
  LoopOptions options_;
  std::unique_ptr<EventLoop> loop_;
  bool closed_ = false;
};

template <class T>
T Runner::run(Task<T> coro) {
  if (detail::LoopCore::running() != nullptr) {
    throw RuntimeError("Runner.run() cannot be called from a running event loop");
  }
  EventLoop& loop = get_loop();
  Task<T> task = coro.core().is_task() ? std::move(coro) : loop.create_task(std::move(coro));
  detail::SigintGuard sigint(loop, task.core());
  try {
    return loop.run_until_complete(std::move(task));
  } catch (const CancelledError&) {
    // Python: the cancellation came from SIGINT -> KeyboardInterrupt.
    if (sigint.interrupted()) throw KeyboardInterrupt();
    throw;
  }
}

// Python: asyncio.run(main): runs `main` on a new event loop in this thread and returns its
// result (a Runner used once). At the end every task still pending is cancelled and awaited,
// the default executor is shut down and the loop closed. RuntimeError if a loop already runs in
// this thread. SIGINT on the main thread: KeyboardInterrupt, after the main task was cancelled
// and finished (see Runner).
template <class T>
T run(Task<T> main, LoopOptions options = {}) {
  if (detail::LoopCore::running() != nullptr) {
    throw RuntimeError("asyncio.run() cannot be called from a running event loop");
  }
  Runner runner(options);
  if constexpr (std::is_void_v<T>) {
    runner.run(std::move(main));
    runner.close();
  } else {
    T value = runner.run(std::move(main));
    runner.close();
    return value;
  }
}

}  // namespace pyconc::asyncio
