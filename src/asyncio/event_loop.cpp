// The event loop: phases of an iteration, callbacks, fd callbacks, teardown, debug reports.
#include "pyconc/asyncio/event_loop.hpp"

#include <memory>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <unordered_map>

#include "debug.hpp"
#include "pyconc/asyncio/future.hpp"
#include "pyconc/detail/exception_info.hpp"
#include "pyconc/detail/thread_id.hpp"
#include "pyconc/detail/trace.hpp"
#include "pyconc/futures/thread_pool_executor.hpp"

namespace pyconc::detail {

thread_local LoopCore* LoopCore::running_ = nullptr;

LoopCore* LoopCore::running() noexcept {
  return running_;
}

LoopCore* LoopCore::exchange_running(LoopCore* l) noexcept {
  LoopCore* prev = running_;
  running_ = l;
  return prev;
}

asyncio::EventLoop& LoopCore::loop() noexcept {
  return static_cast<asyncio::EventLoop&>(*this);
}

void LoopCore::link_task(TaskCore* t) noexcept {
  t->prev_task_ = nullptr;
  t->next_task_ = tasks_;
  if (tasks_ != nullptr) tasks_->prev_task_ = t;
  tasks_ = t;
  ++task_count_;
}

void LoopCore::unlink_task(TaskCore* t) noexcept {
  if (t->prev_task_ != nullptr) {
    t->prev_task_->next_task_ = t->next_task_;
  } else if (tasks_ == t) {
    tasks_ = t->next_task_;
  } else {
    return;  // not linked
  }
  if (t->next_task_ != nullptr) t->next_task_->prev_task_ = t->prev_task_;
  t->next_task_ = t->prev_task_ = nullptr;
  --task_count_;
}

void LoopCore::unschedule(Runnable* r) noexcept {
  if (!r->queued_) return;
  Runnable* prev = nullptr;
  for (Runnable* p = head_; p != nullptr; prev = p, p = p->next_ready_) {
    if (p != r) continue;
    if (prev != nullptr) {
      prev->next_ready_ = r->next_ready_;
    } else {
      head_ = r->next_ready_;
    }
    if (tail_ == r) tail_ = prev;
    r->next_ready_ = nullptr;
    r->queued_ = false;
    --ready_count_;
    return;
  }
}

// --- CallbackNode ---

void CallbackNode::run() noexcept {
  if (!cancelled_) {
    auto fn = std::move(fn_);
    fn_ = nullptr;
    auto& loop = loop_->loop();
    const bool debug = loop.get_debug();
    const bool timed = debug || tracing();
    const std::int64_t start = timed ? trace_now_ns() : 0;
    try {
      fn();
    } catch (...) {
      loop.call_exception_handler({"Exception in callback", std::current_exception(), {}});
    }
    if (timed) [[unlikely]] {
      const std::int64_t end = trace_now_ns();
      // Tracing: only callbacks over the slow threshold get a span (the loop runs many tiny
      // ones: I/O readiness, timers, wake-ups).
      if (tracing() && std::chrono::nanoseconds(end - start) >= loop.slow_callback_duration()) {
        trace_complete("asyncio", "slow callback", start, end);
      }
      if (debug) report_if_slow(*loop_, "callback", std::chrono::nanoseconds(end - start));
    }
  }
  release();  // the queue's reference
}

void CallbackNode::cancel() noexcept {
  if (cancelled_) return;
  cancelled_ = true;
  fn_ = nullptr;  // Python: a cancelled handle drops its callback (and what it captured)
  if (loop_->timers().erase(this)) release();  // it was armed: the heap's reference
}

// --- LoopRemote ---

bool LoopRemote::post(CallbackNode* node) {
  std::lock_guard g(mu_);
  if (closed_) return false;
  inbox_.push_back(node);
  pending_.store(true, std::memory_order_release);
  // Under the lock: close() takes it too, so the reactor cannot be destroyed mid-wakeup.
  if (!wake_pending_) {
    wake_pending_ = true;
    reactor_->wakeup();
  }
  return true;
}

void LoopRemote::drain(std::vector<CallbackNode*>& out) {
  // Most iterations find nothing posted: skip the mutex then. A post that lands right after
  // this check is taken by the next iteration (its wakeup() ends a blocking poll).
  if (!pending_.load(std::memory_order_acquire)) return;
  std::lock_guard g(mu_);
  wake_pending_ = false;
  pending_.store(false, std::memory_order_relaxed);
  out.swap(inbox_);
}

void LoopRemote::close() {
  std::vector<CallbackNode*> left;
  {
    std::lock_guard g(mu_);
    closed_ = true;
    left.swap(inbox_);
  }
  for (auto* n : left) n->release();
}

bool LoopRemote::closed() const {
  std::lock_guard g(mu_);
  return closed_;
}

// --- reports ---

bool debug_from_environment() noexcept {
  const char* env = std::getenv("PYCONC_DEBUG");
  return env != nullptr && *env != '\0' && std::strcmp(env, "0") != 0;
}

void report_if_slow(LoopCore& loop, const std::string& who, std::chrono::nanoseconds took) {
  auto& l = loop.loop();
  if (took < l.slow_callback_duration()) return;
  std::ostringstream msg;
  msg << "Executing " << who << " took "
      << std::chrono::duration_cast<std::chrono::microseconds>(took).count() / 1000.0
      << " ms (blocking the event loop)";
  l.call_exception_handler({msg.str(), nullptr, who});
}

void report_unretrieved(LoopCore* loop, const std::string& task, const std::exception_ptr& e) {
  asyncio::ExceptionContext ctx{"Task exception was never retrieved", e, task};
  if (loop != nullptr && LoopCore::running() == loop) {
    loop->loop().call_exception_handler(ctx);
  } else {
    asyncio::EventLoop::default_exception_handler(ctx);
  }
}

void report_never_awaited(const char* coroutine) {
  // Always, as Python's RuntimeWarning: a forgotten co_await is never silent.
  LoopCore* l = LoopCore::running();
  const std::string name = coroutine;
  asyncio::ExceptionContext ctx{"coroutine '" + name + "' was never awaited", nullptr, {}};
  if (l != nullptr) {
    l->loop().call_exception_handler(ctx);
  } else {
    asyncio::EventLoop::default_exception_handler(ctx);
  }
}

}  // namespace pyconc::detail

namespace pyconc::asyncio {

struct EventLoop::FdTable {
  std::unordered_map<int, std::unique_ptr<FdCallbacks>> map;
};

struct EventLoop::FdCallbacks final : detail::IoWatcher {
  EventLoop* loop = nullptr;
  int fd = -1;
  Handle reader_handle, writer_handle;
  detail::unique_function<void()> reader, writer;
  bool registered = false;

  void on_io(std::uint32_t events) noexcept override {
    // Level-triggered: schedule each side's callback once per iteration it is ready.
    if ((events & detail::io_read) != 0U && reader) schedule_side(true);
    if ((events & detail::io_write) != 0U && writer) schedule_side(false);
  }
  void schedule_side(bool read) noexcept {
    try {
      // The callback object stays here (it is called many times): a node borrows it.
      auto* self = this;
      loop->call_soon([self, read, f = fd, l = loop] {
        auto it = l->fds_->map.find(f);
        if (it == l->fds_->map.end() || it->second.get() != self) return;  // removed meanwhile
        auto& cb = read ? self->reader : self->writer;
        if (cb) cb();
      });
    } catch (...) {
    }
  }
};

EventLoop::EventLoop(LoopOptions options)
    : fds_(std::make_unique<FdTable>()),
      slow_(options.slow_callback_duration),
      owner_thread_(detail::this_thread_id()) {
  reactor_ = detail::make_epoll_reactor();
  remote_ = std::make_shared<detail::LoopRemote>(reactor_.get());
  debug_ = options.debug || detail::debug_from_environment();
}

EventLoop::~EventLoop() {
  if (!closed_) {
    try {
      close();
    } catch (...) {
    }
  }
}

EventLoop& get_running_loop() {
  return detail::running_loop_core().loop();
}

EventLoop& get_event_loop() {
  if (detail::LoopCore::running() != nullptr) return detail::running_loop_core().loop();
  thread_local std::unique_ptr<EventLoop> default_loop;
  if (!default_loop) default_loop = std::make_unique<EventLoop>();
  return *default_loop;
}

void EventLoop::enter() {
  if (closed_) throw RuntimeError("Event loop is closed");
  if (running_here_) throw RuntimeError("This event loop is already running");
  if (running_ != nullptr && running_ != this) {
    throw RuntimeError("Cannot run the event loop while another loop is running");
  }
  running_here_ = true;
  running_ = this;
  owner_thread_ = detail::this_thread_id();
}

void EventLoop::leave() noexcept {
  running_here_ = false;
  stopping_ = false;
  running_ = nullptr;
}

void EventLoop::run_forever() {
  enter();
  struct Leave {
    EventLoop* l;
    ~Leave() { l->leave(); }
  } leave_scope{this};
  while (true) {
    run_once(true);
    if (stopping_) break;
  }
}

// One iteration, in libuv's and asyncio's order: poll I/O (waiting only if nothing is ready,
// and only until the next timer), collect expired timers and cross-thread callbacks, then run
// exactly the callbacks that were ready when the run phase began -- those they schedule wait
// for the next iteration, so I/O is polled between rounds and nothing starves.
// One difference from asyncio: while callbacks keep the ready queue busy, the non-blocking
// I/O poll is skipped if the previous one is less than kPollInterval old. A task ping-ponging
// with sleep(0) would otherwise pay an epoll_wait syscall per round; I/O readiness is still
// seen within kPollInterval.
void EventLoop::run_once(bool block) {
  constexpr auto kPollInterval = std::chrono::microseconds(50);
  LoopCore* const prev = running_;
  running_ = this;
  const bool idle = ready_count_ == 0 && !stopping_;
  auto now = detail::Clock::now();
  if (idle || !block || now - last_poll_ >= kPollInterval) {
    std::int64_t timeout_ns = 0;
    if (block && idle) {
      if (timers_.empty()) {
        timeout_ns = -1;
      } else {
        const auto wait = timers_.top()->when() - now;
        timeout_ns = wait.count() > 0
                         ? std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count()
                         : 0;
      }
    }
    reactor_->poll(timeout_ns);
    now = detail::Clock::now();
    last_poll_ = now;
  }
  if (remote_->has_pending()) drain_remote();
  run_timers(now);
  run_ready();
  running_ = prev;
}

void EventLoop::drain_remote() noexcept {
  remote_->drain(drained_);
  for (auto* n : drained_) schedule(n);
  drained_.clear();
}

void EventLoop::run_timers(detail::Clock::time_point now) noexcept {
  while (!timers_.empty() && timers_.top()->when() <= now) timers_.pop()->fire();
}

void EventLoop::run_ready() noexcept {
  std::size_t n = ready_count_;
  while (n-- > 0 && head_ != nullptr) pop_ready()->run();
}

void EventLoop::cancel_all_tasks() {
  if (task_count_ == 0) return;
  std::vector<TaskRef> left;
  for (detail::TaskCore* t = tasks_; t != nullptr; t = t->next_task_) left.emplace_back(t);
  for (auto& t : left) t.cancel();
  enter();
  struct Leave {
    EventLoop* l;
    ~Leave() { l->leave(); }
  } leave_scope{this};
  // Run until every one of them finished (a task may take several steps to unwind).
  while (true) {
    bool all_done = true;
    for (auto& t : left) all_done = all_done && t.done();
    if (all_done) break;
    run_once(true);
  }
  for (auto& t : left) {
    if (t.cancelled()) continue;
    if (auto e = t.core().raw_exception()) {
      t.core().mark_retrieved();
      call_exception_handler(
          {"unhandled exception during asyncio.run() shutdown", e, t.get_name()});
    }
  }
}

void EventLoop::close() {
  if (running_here_) throw RuntimeError("Cannot close a running event loop");
  if (closed_) return;
  closed_ = true;
  remote_->close();
  // Callbacks that never ran are dropped; tasks still pending are reported and lose their
  // self-reference (their frames go when the last handle does).
  while (head_ != nullptr) {
    detail::Runnable* r = pop_ready();
    if (auto* n = dynamic_cast<detail::CallbackNode*>(r)) n->release();
  }
  while (tasks_ != nullptr) {
    detail::TaskCore* t = tasks_;
    unlink_task(t);
    call_exception_handler({"Task was destroyed but it is pending!", nullptr, t->name()});
    t->release();
  }
  while (!timers_.empty()) {
    detail::TimerEntry* e = timers_.pop();
    if (auto* n = dynamic_cast<detail::CallbackNode*>(e)) n->release();
  }
  close_signals();  // before the fd table: the self-pipe is one of its readers
  for (auto& [fd, f] : fds_->map) {
    if (f->registered) reactor_->remove(fd);
  }
  fds_->map.clear();
  if (executor_) shutdown_default_executor();
}

void EventLoop::update_fd(int fd, FdCallbacks& f) {
  const std::uint32_t interest =
      (f.reader ? detail::io_read : 0U) | (f.writer ? detail::io_write : 0U);
  if (interest == 0) {
    if (f.registered) reactor_->remove(fd);
    fds_->map.erase(fd);
    return;
  }
  if (f.registered) {
    reactor_->modify(fd, interest, false, &f);
  } else {
    reactor_->add(fd, interest, false, &f);
    f.registered = true;
  }
}

void EventLoop::add_reader(int fd, detail::unique_function<void()> cb) {
  auto& slot = fds_->map[fd];
  if (!slot) {
    slot = std::make_unique<FdCallbacks>();
    slot->loop = this;
    slot->fd = fd;
  }
  slot->reader = std::move(cb);
  update_fd(fd, *slot);
}

bool EventLoop::remove_reader(int fd) {
  auto it = fds_->map.find(fd);
  if (it == fds_->map.end() || !it->second->reader) return false;
  it->second->reader = nullptr;
  update_fd(fd, *it->second);
  return true;
}

void EventLoop::add_writer(int fd, detail::unique_function<void()> cb) {
  auto& slot = fds_->map[fd];
  if (!slot) {
    slot = std::make_unique<FdCallbacks>();
    slot->loop = this;
    slot->fd = fd;
  }
  slot->writer = std::move(cb);
  update_fd(fd, *slot);
}

bool EventLoop::remove_writer(int fd) {
  auto it = fds_->map.find(fd);
  if (it == fds_->map.end() || !it->second->writer) return false;
  it->second->writer = nullptr;
  update_fd(fd, *it->second);
  return true;
}

futures::ThreadPoolExecutor& EventLoop::default_executor() {
  if (!executor_) executor_ = std::make_unique<futures::ThreadPoolExecutor>();
  return *executor_;
}

void EventLoop::shutdown_default_executor() {
  if (executor_) {
    executor_->shutdown(true);
    executor_.reset();
  }
}

void EventLoop::set_exception_handler(
    detail::unique_function<void(EventLoop&, const ExceptionContext&)> h) {
  handler_ = std::move(h);
}

void EventLoop::call_exception_handler(const ExceptionContext& context) noexcept {
  if (handler_) {
    try {
      handler_(*this, context);
      return;
    } catch (...) {
      default_exception_handler(
          {"Unhandled error in exception handler", std::current_exception(), {}});
    }
  }
  default_exception_handler(context);
}

void EventLoop::default_exception_handler(const ExceptionContext& context) noexcept {
  try {
    std::ostringstream out;
    out << "pyconc.asyncio: " << context.message;
    if (!context.task.empty()) out << "\n  task: " << context.task;
    if (context.exception) {
      auto info = detail::describe_exception(context.exception);
      out << "\n  " << info.type << ": " << info.message;
    }
    out << '\n';
    std::cerr << out.str() << std::flush;
  } catch (...) {
  }
}

}  // namespace pyconc::asyncio

namespace pyconc::detail {

bool post_to_loop(const std::shared_ptr<LoopRemote>& remote, LoopCore* loop,
                  unique_function<void()> fn) {
  auto* n = new CallbackNode(loop, std::move(fn));
  if (remote->post(n)) return true;
  n->release();
  return false;
}

}  // namespace pyconc::detail
