// The process-pool engine, its core: submit/shutdown/terminate, breakage and the manager
// thread's loop. The other members of ProcessPoolImpl (process_pool_impl.hpp) live in
// pool_dispatch.cpp (dispatch policy), pool_protocol.cpp (messages) and worker_spawn.cpp
// (worker processes).
//
// Workers (ARCHITECTURE.md decision 5). A worker is /proc/self/exe executed again with
// PYCONC_MP_WORKER in its environment, never a fork: forking a process that runs threads
// copies locks held by threads that do not exist in the child. The dynamic initializer in
// worker_spawn.cpp lives in a translation unit that every pool links in (the manager calls
// spawn_worker()), so any program that uses a pool has it: in a worker it runs the worker loop and
// exits instead of reaching main(). Like Python's "spawn" start method, the worker re-runs the
// program's static initialization up to this point (the program's own translation units are linked
// before the library, so their globals are initialized; globals assigned in main() are not).
//
// Channels. One AF_UNIX stream socket per worker (send with MSG_NOSIGNAL: a dead worker is an
// EPIPE, never a SIGPIPE in the submitting thread) and a pidfd, both watched by one manager
// thread with epoll. No SIGCHLD handler and no polling: a worker's death makes its pidfd
// readable at once; the manager drains what the worker sent, reaps it with waitpid and, unless
// the exit was asked for, breaks the pool, failing every unfinished future with
// BrokenProcessPool.
//
// Dispatch. submit() serializes the call in the caller's thread, then under the pool lock
// appends the message to the buffer of the worker with the fewest tasks in flight, up to a
// window per worker. The buffer is written at once only if that worker has nothing in flight
// (it may be idle: send now, no thread hop); otherwise the manager writes it when the worker's
// next results arrive, so a burst of submits costs one send per batch. The window adapts to
// the tasks' run time (reported by the worker): about kQueuedWork of work per worker, at least
// 2 tasks (one running, one ready) and at most kMaxWindow, so tiny tasks stream in batches
// while long ones stay balanced across workers (a task is only committed to a worker shortly
// before it can run).
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pool_worker.hpp"
#include "process_pool_impl.hpp"
#include "pyconc/detail/exception_info.hpp"
#include "pyconc/futures/exceptions.hpp"

namespace pyconc::detail {

ProcessPoolImpl::ProcessPoolImpl(ProcessPoolConfig config) : config_(std::move(config)) {
  if (config_.start_now) {
    std::lock_guard g(mu_);
    start_locked();
  }
}

ProcessPoolImpl::~ProcessPoolImpl() {
  shutdown(true, false);
  join();
  if (epoll_ >= 0) ::close(epoll_);
  if (event_ >= 0) ::close(event_);
}

void ProcessPoolImpl::submit(std::vector<std::shared_ptr<RemoteTaskBase>>& tasks) {
  bool wake = false;
  {
    std::lock_guard g(mu_);
    check_accepting_locked();
    const std::int64_t now = tracing() ? trace_now_ns() : 0;
    for (auto& t : tasks) {
      RemoteTaskBase* raw = t.get();
      raw->submit_ns = now;
      raw->pool_ref = std::move(t);
      pending_.push_back(raw);
    }
    tasks.clear();
    start_locked();
    wake = dispatch_locked();
  }
  if (wake) wake_manager();
}

void ProcessPoolImpl::shutdown(bool wait, bool cancel_futures) {
  std::vector<RemoteTaskBase*> cancelled;
  {
    std::lock_guard g(mu_);
    if (state_ == State::running) state_ = State::closing;
    if (cancel_futures) cancelled = take_unstarted_locked();
  }
  for (RemoteTaskBase* t : cancelled) {
    auto keep = std::move(t->pool_ref);
    t->cancel_task();
  }
  wake_manager();
  if (wait) join();
}

void ProcessPoolImpl::terminate() {
  std::vector<RemoteTaskBase*> cancelled;
  std::vector<RemoteTaskBase*> failed;
  {
    std::lock_guard g(mu_);
    if (state_ == State::running || state_ == State::closing) state_ = State::terminated;
    cancelled = take_unstarted_locked();
    failed = take_pending_locked();  // taken back from a worker: already running
    for (auto& w : workers_) {
      failed.insert(failed.end(), w->in_flight.begin(), w->in_flight.end());
      w->in_flight.clear();
      w->buffered = 0;
    }
  }
  for (RemoteTaskBase* t : cancelled) {
    auto keep = std::move(t->pool_ref);
    t->cancel_task();
  }
  const auto e = std::make_exception_ptr(
      CancelledError(config_.name + " was terminated before the task finished"));
  for (RemoteTaskBase* t : failed) {
    auto keep = std::move(t->pool_ref);
    t->fail(e);
  }
  wake_manager();
  join();
}

void ProcessPoolImpl::join() {
  std::thread t;
  {
    std::lock_guard g(mu_);
    if (!manager_.joinable() || manager_.get_id() == std::this_thread::get_id()) return;
    t = std::move(manager_);
  }
  t.join();
}

void ProcessPoolImpl::check_accepting_locked() const {
  if (state_ == State::broken) throw futures::BrokenProcessPool(broken_message_);
  if (state_ != State::running) {
    if (config_.name == "Pool") throw ValueError("Pool not running");  // Python's type
    throw RuntimeError("cannot schedule new futures after shutdown");
  }
}

std::vector<RemoteTaskBase*> ProcessPoolImpl::take_pending_locked() {
  std::vector<RemoteTaskBase*> out(pending_.begin(), pending_.end());
  pending_.clear();
  return out;
}

std::vector<RemoteTaskBase*> ProcessPoolImpl::take_unstarted_locked() {
  std::vector<RemoteTaskBase*> out;
  std::erase_if(pending_, [&](RemoteTaskBase* t) {
    if (t->started) return false;
    out.push_back(t);
    return true;
  });
  return out;
}

void ProcessPoolImpl::start_locked() {
  if (started_) return;
  if (std::getenv(kPoolWorkerEnv) != nullptr) {
    // A static initializer of a worker process (it runs before the worker loop) tried to
    // start a pool: without this guard every worker would start workers of its own.
    throw RuntimeError(
        "a process pool cannot start workers during the static initialization of a pool "
        "worker process: create pools in main() (Python: the `if __name__ == '__main__':` "
        "guard)");
  }
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) throw_errno("epoll_create1");
  event_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_ < 0) throw_errno("eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kEventTag;
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, event_, &ev) != 0) throw_errno("epoll_ctl");
  started_ = true;
  manager_ = std::thread([this] { manager_main(); });
}

std::vector<RemoteTaskBase*> ProcessPoolImpl::break_locked(std::string message) {
  std::vector<RemoteTaskBase*> failed;
  if (state_ == State::broken) return failed;
  state_ = State::broken;
  broken_message_ = std::move(message);
  failed = take_pending_locked();
  for (auto& w : workers_) {
    failed.insert(failed.end(), w->in_flight.begin(), w->in_flight.end());
    w->in_flight.clear();
    w->buffered = 0;
  }
  kill_all_locked();
  return failed;
}

void ProcessPoolImpl::kill_all_locked() {
  for (auto& w : workers_) {
    if (!w->killed) {
      w->killed = true;
      ::kill(w->pid, SIGKILL);
    }
  }
}

void ProcessPoolImpl::wake_manager() {
  int fd = -1;
  {
    std::lock_guard g(mu_);
    fd = event_;
  }
  if (fd >= 0) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(fd, &one, sizeof one);
  }
}

void ProcessPoolImpl::fail_all(const std::vector<RemoteTaskBase*>& tasks,
                               const std::string& message) {
  if (tasks.empty()) return;
  const auto e = std::make_exception_ptr(futures::BrokenProcessPool(message));
  for (RemoteTaskBase* t : tasks) {
    auto keep = std::move(t->pool_ref);
    t->fail(e);
  }
}

void ProcessPoolImpl::manager_main() {
  const std::string thread_name = (config_.name + "-mgr").substr(0, 15);
  ::pthread_setname_np(::pthread_self(), thread_name.c_str());
  try {
    initial_spawn_ = true;
    for (int i = 0; i < config_.workers; ++i) spawn_worker();
    {
      std::lock_guard g(mu_);
      initial_spawn_ = false;  // every worker exists: share the queued work among them
      dispatch_locked();
    }
    for (;;) {
      if (finished()) break;
      const int timeout = update_interest();
      epoll_event events[64];
      const int n = ::epoll_wait(epoll_, events, 64, timeout);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("epoll_wait");
      }
      for (int i = 0; i < n; ++i) handle_event(events[i]);
    }
  } catch (...) {
    const ExceptionInfo info = describe_exception(std::current_exception());
    std::vector<RemoteTaskBase*> failed;
    std::string message;
    {
      std::lock_guard g(mu_);
      message = config_.name + " is broken: its manager failed: " + info.type + ": " + info.message;
      failed = break_locked(message);
    }
    fail_all(failed, message);
    reap_all_after_failure();
  }
}

bool ProcessPoolImpl::finished() {
  std::lock_guard g(mu_);
  switch (state_) {
    case State::running:
      return false;
    case State::closing: {
      bool idle = pending_.empty();
      for (auto& w : workers_) idle = idle && w->in_flight.empty();
      if (idle) {
        for (auto& w : workers_) {
          if (!w->told_to_exit && !w->killed) {
            w->told_to_exit = true;
            put_raw(w->out, std::uint32_t{1});
            w->out.push_back(static_cast<char>(WireKind::exit));
            send_locked(*w);
          }
        }
      }
      return workers_.empty() && idle;
    }
    case State::terminated:
    case State::broken:
      kill_all_locked();
      return workers_.empty();
  }
  return true;
}

int ProcessPoolImpl::update_interest() {
  std::lock_guard g(mu_);
  const int timeout = balance_locked();
  for (auto& w : workers_) {
    if (w->read_closed || w->want_out == w->out_armed) continue;
    epoll_event ev{};
    ev.events = EPOLLIN | (w->want_out ? EPOLLOUT : 0U);
    ev.data.u64 = w->id << 1;
    if (::epoll_ctl(epoll_, EPOLL_CTL_MOD, w->fd, &ev) == 0) w->out_armed = w->want_out;
  }
  return timeout;
}

ProcWorker* ProcessPoolImpl::find_worker(std::uint64_t id) {
  std::lock_guard g(mu_);
  for (auto& w : workers_) {
    if (w->id == id) return w.get();
  }
  return nullptr;
}

void ProcessPoolImpl::handle_event(const epoll_event& ev) {
  if (ev.data.u64 == kEventTag) {
    std::uint64_t v = 0;
    [[maybe_unused]] const ssize_t n = ::read(event_, &v, sizeof v);
    return;
  }
  ProcWorker* w = find_worker(ev.data.u64 >> 1);
  if (w == nullptr) return;  // already gone (an earlier event of this batch)
  if ((ev.data.u64 & 1U) != 0) {
    on_exit(*w);
    return;
  }
  if ((ev.events & EPOLLOUT) != 0) {
    std::lock_guard g(mu_);
    send_locked(*w);
  }
  if ((ev.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) read_results(*w);
}

ProcessPoolCore::ProcessPoolCore(ProcessPoolConfig config)
    : impl_(std::make_unique<ProcessPoolImpl>(std::move(config))) {}
ProcessPoolCore::~ProcessPoolCore() = default;

void ProcessPoolCore::submit(std::shared_ptr<RemoteTaskBase> task) {
  std::vector<std::shared_ptr<RemoteTaskBase>> one;
  one.push_back(std::move(task));
  impl_->submit(one);
}
void ProcessPoolCore::submit(std::vector<std::shared_ptr<RemoteTaskBase>>& tasks) {
  impl_->submit(tasks);
}
void ProcessPoolCore::shutdown(bool wait, bool cancel_futures) {
  impl_->shutdown(wait, cancel_futures);
}
void ProcessPoolCore::terminate() {
  impl_->terminate();
}
void ProcessPoolCore::join() {
  impl_->join();
}
int ProcessPoolCore::max_workers() const noexcept {
  return impl_->max_workers();
}
std::vector<long> ProcessPoolCore::worker_pids() const {
  return impl_->worker_pids();
}
bool ProcessPoolCore::broken() const noexcept {
  return impl_->broken();
}

}  // namespace pyconc::detail
