// The process-pool engine: worker processes, dispatch, results and breakage.
//
// Workers (ARCHITECTURE.md decision 5). A worker is /proc/self/exe executed again with
// PYCONC_MP_WORKER in its environment, never a fork: forking a process that runs threads
// copies locks held by threads that do not exist in the child. The dynamic initializer below
// lives in this translation unit, which every pool links in, so any program that uses a pool
// has it: in a worker it runs the worker loop and exits instead of reaching main(). Like
// Python's "spawn" start method, the worker re-runs the program's static initialization up to
// this point (the program's own translation units are linked before the library, so their
// globals are initialized; globals assigned in main() are not).
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
#include "pyconc/multiprocessing/detail/process_pool_core.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "pool_worker.hpp"
#include "pyconc/detail/exception_info.hpp"
#include "pyconc/futures/exceptions.hpp"

extern char** environ;  // NOLINT: POSIX

namespace pyconc::detail {

namespace {

// In a worker process: run the worker loop instead of main().
[[maybe_unused]] const bool kWorkerHook = [] {
  if (const char* spec = std::getenv(kPoolWorkerEnv)) run_pool_worker(spec);
  return true;
}();

constexpr std::uint64_t kQueuedWorkNs = 1'000'000;  // ~1 ms of queued work per worker
constexpr std::size_t kMinWindow = 2;
constexpr std::size_t kMaxWindow = 512;
constexpr std::size_t kMaxBufferedBytes = 8U << 20;  // per worker, unsent
// A worker's oldest task must have run this long (and 4x the average task) before idle
// workers take the tasks queued behind it.
constexpr std::chrono::nanoseconds kStealAfter = std::chrono::milliseconds(2);

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

int pidfd_open(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = ::sigabbrev_np(sig);
    return "killed by signal " + std::to_string(sig) +
           (name != nullptr ? std::string(" (SIG") + name + ")" : "");
  }
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  return "ended (status " + std::to_string(status) + ")";
}

}  // namespace

void report_callback_error(const char* what, std::exception_ptr e) noexcept {
  const ExceptionInfo info = describe_exception(e);
  std::fprintf(stderr, "pyconc: exception in a process pool %s: %s: %s\n", what, info.type.c_str(),
               info.message.c_str());
}

void throw_result_encoding(const std::exception_ptr& cause, const char* type_name) {
  const ExceptionInfo info = describe_exception(cause);
  throw multiprocessing::MaybeEncodingError("Error sending result of type " + demangle(type_name) +
                                            ". Reason: " + info.type + ": " + info.message);
}

struct ProcWorker {
  std::uint64_t id = 0;  // epoll tag
  pid_t pid = -1;
  int fd = -1;     // our end of the socket
  int pidfd = -1;  // readable once the process has exited
  // Under the pool lock:
  std::deque<RemoteTaskBase*> in_flight;  // committed to this worker, in send order
  std::size_t buffered = 0;               // of those, tasks still only in `out`
  std::string out;                        // bytes to send
  std::size_t out_pos = 0;
  std::uint32_t defined = 1;                    // code ids below this were sent
  int sent = 0;                                 // tasks committed (max_tasks_per_child)
  std::atomic<std::uint64_t>* claim = nullptr;  // shared with the worker (see remote_call.hpp)
  std::uint64_t next_seq = 1;                   // of the next task sent to this worker
  std::uint32_t epoch = 0;                      // tasks sent now carry this epoch
  std::chrono::steady_clock::time_point front_since{};  // in_flight.front() became the oldest
  bool told_to_exit = false;
  bool killed = false;
  bool retiring = false;  // said it reached max_tasks_per_child
  bool want_out = false;  // a send hit a full socket: the manager must watch EPOLLOUT
  // Manager only:
  bool out_armed = false;
  bool read_closed = false;
  std::string in;
  std::string init_error;
};

class ProcessPoolImpl {
 public:
  explicit ProcessPoolImpl(ProcessPoolConfig config) : config_(std::move(config)) {
    if (config_.start_now) {
      std::lock_guard g(mu_);
      start_locked();
    }
  }

  ~ProcessPoolImpl() {
    shutdown(true, false);
    join();
    if (epoll_ >= 0) ::close(epoll_);
    if (event_ >= 0) ::close(event_);
  }

  int max_workers() const noexcept { return config_.workers; }

  bool broken() const noexcept {
    std::lock_guard g(mu_);
    return state_ == State::broken;
  }

  std::vector<long> worker_pids() const {
    std::lock_guard g(mu_);
    std::vector<long> out;
    for (const auto& w : workers_) out.push_back(w->pid);
    return out;
  }

  void submit(std::vector<std::shared_ptr<RemoteTaskBase>>& tasks) {
    bool wake = false;
    {
      std::lock_guard g(mu_);
      check_accepting_locked();
      for (auto& t : tasks) {
        RemoteTaskBase* raw = t.get();
        raw->pool_ref = std::move(t);
        pending_.push_back(raw);
      }
      tasks.clear();
      start_locked();
      wake = dispatch_locked();
    }
    if (wake) wake_manager();
  }

  void shutdown(bool wait, bool cancel_futures) {
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

  void terminate() {
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

  void join() {
    std::thread t;
    {
      std::lock_guard g(mu_);
      if (!manager_.joinable() || manager_.get_id() == std::this_thread::get_id()) return;
      t = std::move(manager_);
    }
    t.join();
  }

 private:
  enum class State { running, closing, terminated, broken };

  // --- under mu_ ---------------------------------------------------------------------------
  void check_accepting_locked() const {
    if (state_ == State::broken) throw futures::BrokenProcessPool(broken_message_);
    if (state_ != State::running) {
      if (config_.name == "Pool") throw ValueError("Pool not running");  // Python's type
      throw RuntimeError("cannot schedule new futures after shutdown");
    }
  }

  std::vector<RemoteTaskBase*> take_pending_locked() {
    std::vector<RemoteTaskBase*> out(pending_.begin(), pending_.end());
    pending_.clear();
    return out;
  }

  // The queued tasks never sent to a worker (cancellable); taken-back ones stay queued.
  std::vector<RemoteTaskBase*> take_unstarted_locked() {
    std::vector<RemoteTaskBase*> out;
    std::erase_if(pending_, [&](RemoteTaskBase* t) {
      if (t->started) return false;
      out.push_back(t);
      return true;
    });
    return out;
  }

  // Takes back every task `w` has not claimed yet (its running task stays), oldest first at
  // the front of the queue, by moving `w` to a new epoch: the worker skips the old messages.
  bool revoke_locked(ProcWorker& w) {
    std::uint64_t word = w.claim->load(std::memory_order_seq_cst);
    const std::uint32_t epoch = (w.epoch + 1) & kEpochMask;
    while (!w.claim->compare_exchange_weak(word, claim_word(epoch, claim_seq(word)),
                                           std::memory_order_seq_cst)) {
    }
    w.epoch = epoch;
    const std::uint64_t claimed = claim_seq(word);
    std::size_t keep = 0;
    while (keep < w.in_flight.size() && w.in_flight[keep]->seq <= claimed) ++keep;
    const std::size_t taken = w.in_flight.size() - keep;
    if (taken == 0) return false;
    for (std::size_t i = w.in_flight.size(); i > keep; --i) pending_.push_front(w.in_flight[i - 1]);
    w.in_flight.resize(keep);
    w.buffered -= std::min(w.buffered, taken);
    w.sent -= static_cast<int>(taken);
    return true;
  }

  std::chrono::nanoseconds steal_patience_locked() const {
    return std::max<std::chrono::nanoseconds>(kStealAfter, std::chrono::nanoseconds(4 * avg_ns_));
  }

  // Work stealing between processes: when nothing is queued and a worker is idle while another
  // has tasks waiting behind one that has run for a while, those tasks are taken back and
  // dispatched again. Returns the epoll timeout (ms) until the next such check is due, or -1.
  int balance_locked() {
    if (!pending_.empty() || state_ == State::terminated || state_ == State::broken) return -1;
    const std::size_t window = window_locked();
    bool idle = false;
    for (auto& w : workers_) idle = idle || (w->in_flight.empty() && can_take_locked(*w, window));
    if (!idle) return -1;
    const auto now = std::chrono::steady_clock::now();
    const auto patience = steal_patience_locked();
    auto next = std::chrono::steady_clock::time_point::max();
    bool moved = false;
    for (auto& w : workers_) {
      if (w->in_flight.size() < 2 || w->killed || w->told_to_exit) continue;
      if (now - w->front_since >= patience) {
        moved = revoke_locked(*w) || moved;
      } else {
        next = std::min(next, w->front_since + patience);
      }
    }
    if (moved) dispatch_locked();
    if (next == std::chrono::steady_clock::time_point::max()) return -1;
    return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(next - now).count());
  }

  void start_locked() {
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

  std::size_t window_locked() const {
    if (avg_ns_ == 0) return kMinWindow;
    return std::clamp<std::size_t>(static_cast<std::size_t>(kQueuedWorkNs / avg_ns_), kMinWindow,
                                   kMaxWindow);
  }

  bool can_take_locked(const ProcWorker& w, std::size_t window) const {
    if (w.told_to_exit || w.killed || w.retiring) return false;
    if (config_.max_tasks_per_child > 0 && w.sent >= config_.max_tasks_per_child) return false;
    return w.in_flight.size() < window && w.out.size() - w.out_pos < kMaxBufferedBytes;
  }

  // Sends w every code id it does not know yet.
  void append_defines_locked(ProcWorker& w) {
    const std::uint32_t count = code_count();
    for (; w.defined < count; ++w.defined) {
      const CodeLocation loc = code_location(w.defined);
      const std::size_t start = w.out.size();
      put_raw(w.out, std::uint32_t{0});
      w.out.push_back(static_cast<char>(WireKind::define));
      put_raw(w.out, w.defined);
      put_raw(w.out, loc.offset);
      w.out += loc.object;
      finish_message(w.out, start);
    }
  }

  // Moves pending tasks to workers with room; sends to workers that may be idle. Returns
  // whether the manager must be woken (a send found a full socket).
  bool dispatch_locked() {
    const std::size_t window = window_locked();
    const auto now = std::chrono::steady_clock::now();
    const auto patience = steal_patience_locked();
    // A worker whose oldest task has run longer than `patience` is stalled: others first.
    auto rank = [&](const ProcWorker& w) {
      const bool stalled = !w.in_flight.empty() && now - w.front_since >= patience;
      return std::pair(stalled, w.in_flight.size());
    };
    while (!pending_.empty()) {
      ProcWorker* best = nullptr;
      for (auto& w : workers_) {
        if (can_take_locked(*w, window) && (best == nullptr || rank(*w) < rank(*best))) {
          best = w.get();
        }
      }
      if (best == nullptr) break;
      RemoteTaskBase* t = pending_.front();
      pending_.pop_front();
      if (!t->started) {
        if (t->start() != FutureStatus::pending) {  // cancelled while queued
          auto drop = std::move(t->pool_ref);
          continue;
        }
        t->started = true;
      }
      if (t->max_code >= best->defined) append_defines_locked(*best);
      t->seq = best->next_seq++;
      std::memcpy(t->wire.data() + kTaskSeqOffset, &t->seq, sizeof t->seq);
      std::memcpy(t->wire.data() + kTaskEpochOffset, &best->epoch, sizeof best->epoch);
      best->out += t->wire;  // the wire is kept: the task may be taken back and sent again
      if (best->in_flight.empty()) best->front_since = std::chrono::steady_clock::now();
      best->in_flight.push_back(t);
      ++best->buffered;
      ++best->sent;
    }
    bool wake = false;
    for (auto& w : workers_) {
      if (w->buffered > 0 && w->in_flight.size() == w->buffered) wake |= send_locked(*w);
    }
    return wake;
  }

  // Hands w.out to the kernel as far as it takes it. Returns true if the rest must wait for
  // EPOLLOUT (the manager has to be told).
  bool send_locked(ProcWorker& w) {
    w.buffered = 0;
    while (w.out_pos < w.out.size()) {
      const ssize_t n = ::send(w.fd, w.out.data() + w.out_pos, w.out.size() - w.out_pos,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        w.out_pos += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        const bool tell = !w.want_out;
        w.want_out = true;
        return tell;
      } else {  // the worker is gone: its pidfd will say so
        w.out.clear();
        w.out_pos = 0;
        return false;
      }
    }
    w.out.clear();
    w.out_pos = 0;
    w.want_out = false;
    return false;
  }

  // Breaks the pool: returns every unfinished task (to fail outside the lock).
  std::vector<RemoteTaskBase*> break_locked(std::string message) {
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

  void kill_all_locked() {
    for (auto& w : workers_) {
      if (!w->killed) {
        w->killed = true;
        ::kill(w->pid, SIGKILL);
      }
    }
  }

  // --- manager thread --------------------------------------------------------------------
  static constexpr std::uint64_t kEventTag = ~std::uint64_t{0};

  void wake_manager() {
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

  void fail_all(const std::vector<RemoteTaskBase*>& tasks, const std::string& message) {
    if (tasks.empty()) return;
    const auto e = std::make_exception_ptr(futures::BrokenProcessPool(message));
    for (RemoteTaskBase* t : tasks) {
      auto keep = std::move(t->pool_ref);
      t->fail(e);
    }
  }

  void manager_main() {
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
        message =
            config_.name + " is broken: its manager failed: " + info.type + ": " + info.message;
        failed = break_locked(message);
      }
      fail_all(failed, message);
      reap_all_after_failure();
    }
  }

  // Whether the manager's work is over; asks idle workers to exit when closing.
  bool finished() {
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

  // Arms EPOLLOUT where sends wait, balances work; returns the epoll timeout.
  int update_interest() {
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

  ProcWorker* find_worker(std::uint64_t id) {
    std::lock_guard g(mu_);
    for (auto& w : workers_) {
      if (w->id == id) return w.get();
    }
    return nullptr;
  }

  void handle_event(const epoll_event& ev) {
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

  // Reads what worker `w` sent and completes those tasks. Returns whether bytes arrived.
  bool read_results(ProcWorker& w) {
    if (w.read_closed) return false;
    bool got = false;
    for (int round = 0; round < 8; ++round) {
      const ssize_t n = ::recv(w.fd, rbuf_.get(), kReadChunk, MSG_DONTWAIT);
      if (n > 0) {
        w.in.append(rbuf_.get(), static_cast<std::size_t>(n));
        got = true;
        if (static_cast<std::size_t>(n) < kReadChunk) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      // End of stream (or reset): the worker is exiting; its pidfd reports the rest.
      w.read_closed = true;
      ::epoll_ctl(epoll_, EPOLL_CTL_DEL, w.fd, nullptr);
      break;
    }
    if (got) process_messages(w);
    return got;
  }

  struct Done {
    RemoteTaskBase* task;
    bool ok;
    std::string_view payload;
  };

  void process_messages(ProcWorker& w) {
    std::vector<Done> done;
    std::vector<RemoteTaskBase*> failed;
    std::string broken;
    std::size_t pos = 0;
    {
      std::lock_guard g(mu_);
      for (;;) {
        const std::size_t avail = w.in.size() - pos;
        if (avail < kWirePrefix) break;
        const auto body = get_raw<std::uint32_t>(w.in.data() + pos);
        if (body == 0) {
          broken = protocol_error(w);
          break;
        }
        if (avail < 4 + static_cast<std::size_t>(body)) break;
        const char* msg = w.in.data() + pos;
        pos += 4 + static_cast<std::size_t>(body);
        const auto kind = static_cast<WireKind>(msg[4]);
        const std::string_view payload(msg + kWirePrefix, body - 1);
        if (kind == WireKind::retiring) {
          w.retiring = true;
          continue;
        }
        if (kind == WireKind::init_failed) {
          w.init_error = describe_remote(payload);
          continue;
        }
        if ((kind != WireKind::result_ok && kind != WireKind::result_error) ||
            payload.size() < 16) {
          broken = protocol_error(w);
          break;
        }
        if (state_ == State::terminated || state_ == State::broken) continue;  // already failed
        const auto seq = get_raw<std::uint64_t>(payload.data());
        const auto ns = get_raw<std::uint64_t>(payload.data() + 8);
        if (w.in_flight.empty() || w.in_flight.front()->seq != seq) {
          broken = protocol_error(w);
          break;
        }
        done.push_back({w.in_flight.front(), kind == WireKind::result_ok, payload.substr(16)});
        w.in_flight.pop_front();
        w.front_since = std::chrono::steady_clock::now();
        if (w.buffered > w.in_flight.size()) w.buffered = w.in_flight.size();
        avg_ns_ = avg_ns_ == 0 ? std::max<std::uint64_t>(ns, 1) : (avg_ns_ * 7 + ns) / 8 + 1;
      }
      if (!broken.empty()) failed = break_locked(broken);
    }
    for (const Done& d : done) {
      auto keep = std::move(d.task->pool_ref);
      std::string().swap(d.task->wire);  // the future may live on: keep only the result
      if (d.ok) {
        d.task->complete(d.payload);
      } else {
        d.task->fail(exception_from_bytes(d.payload));
      }
    }
    fail_all(failed, broken);
    w.in.erase(0, pos);
    bool wake = false;
    {
      std::lock_guard g(mu_);
      if (!done.empty()) wake = dispatch_locked();
      if (w.buffered > 0) wake |= send_locked(w);
    }
    (void)wake;  // we are the manager: update_interest() runs before the next wait
  }

  std::string protocol_error(const ProcWorker& w) {
    return config_.name + " is broken: worker process " + std::to_string(w.pid) +
           " sent a malformed message";
  }

  static std::string describe_remote(std::string_view exception_bytes) {
    try {
      multiprocessing::rethrow_exception_bytes(exception_bytes);
    } catch (const std::exception& e) {
      const ExceptionInfo info = describe_exception(std::current_exception());
      return info.type + ": " + e.what();
    } catch (...) {
    }
    return "unknown error";
  }

  // Worker `w` has exited: collect its last results, reap it, and decide what it means.
  void on_exit(ProcWorker& w) {
    // Its last results. (No end of stream yet can mean a child of the worker holds the
    // socket: what the worker wrote is there all the same.)
    while (read_results(w)) {
    }
    int status = 0;
    pid_t r;
    do {
      r = ::waitpid(w.pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    const std::string how =
        r == w.pid ? describe_status(status) : std::string("was reaped by someone else");
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, w.pidfd, nullptr);
    if (!w.read_closed) ::epoll_ctl(epoll_, EPOLL_CTL_DEL, w.fd, nullptr);
    ::close(w.pidfd);
    ::close(w.fd);
    ::munmap(w.claim, sizeof(std::uint64_t));

    std::vector<RemoteTaskBase*> failed;
    std::string message;
    bool respawn = false;
    {
      std::lock_guard g(mu_);
      const bool asked = w.told_to_exit || w.killed || w.retiring;
      const bool clean = asked && w.in_flight.empty();
      if (!w.init_error.empty()) {
        message = config_.name + " is broken: the initializer failed in worker process " +
                  std::to_string(w.pid) + ": " + w.init_error;
      } else if (!clean && state_ != State::terminated && state_ != State::broken) {
        message = "A worker process (pid " + std::to_string(w.pid) + ") of the " + config_.name +
                  " " + how +
                  " while tasks were running or pending; the pool is not usable anymore";
      }
      if (!message.empty()) failed = break_locked(message);
      respawn = w.retiring && (state_ == State::running || state_ == State::closing);
      std::erase_if(workers_, [&](const auto& p) { return p.get() == &w; });
    }
    fail_all(failed, message);
    if (respawn) spawn_worker();
  }

  void spawn_worker() {
    // The claim word, in a page shared with the worker.
    const int claim_fd = ::memfd_create("pyconc-pool-claim", MFD_CLOEXEC);
    if (claim_fd < 0) throw_errno("memfd_create");
    if (::ftruncate(claim_fd, static_cast<off_t>(sizeof(std::uint64_t))) != 0) {
      ::close(claim_fd);
      throw_errno("ftruncate");
    }
    void* shared =
        ::mmap(nullptr, sizeof(std::uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, claim_fd, 0);
    if (shared == MAP_FAILED) {
      ::close(claim_fd);
      throw_errno("mmap");
    }
    auto* claim = new (shared) std::atomic<std::uint64_t>(claim_word(0, 0));
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      ::munmap(shared, sizeof(std::uint64_t));
      ::close(claim_fd);
      throw_errno("socketpair");
    }
    const std::string spec = std::to_string(sv[1]) + ":" + std::to_string(::getpid()) + ":" +
                             std::to_string(config_.max_tasks_per_child) + ":" +
                             std::to_string(claim_fd);
    std::vector<std::string> env_store;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      if (std::strncmp(*e, "PYCONC_MP_WORKER=", 17) != 0) env_store.emplace_back(*e);
    }
    env_store.push_back(std::string(kPoolWorkerEnv) + "=" + spec);
    std::vector<char*> envp;
    for (auto& s : env_store) envp.push_back(s.data());
    envp.push_back(nullptr);
    char* argv[] = {program_invocation_name, nullptr};

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    ::posix_spawn_file_actions_init(&fa);
    ::posix_spawnattr_init(&attr);
    ::posix_spawn_file_actions_adddup2(&fa, sv[1], sv[1]);  // same fd: clears FD_CLOEXEC
    ::posix_spawn_file_actions_adddup2(&fa, claim_fd, claim_fd);
    ::posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    sigset_t none;
    sigemptyset(&none);
    ::posix_spawnattr_setsigmask(&attr, &none);
    ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv, envp.data());
    ::posix_spawn_file_actions_destroy(&fa);
    ::posix_spawnattr_destroy(&attr);
    ::close(sv[1]);
    ::close(claim_fd);
    if (rc != 0) {
      ::close(sv[0]);
      ::munmap(shared, sizeof(std::uint64_t));
      errno = rc;
      throw_errno("posix_spawn of a pool worker");
    }
    auto w = std::make_unique<ProcWorker>();
    w->id = next_worker_id_++;
    w->pid = pid;
    w->fd = sv[0];
    w->claim = claim;
    w->pidfd = pidfd_open(pid);
    if (w->pidfd < 0) {
      const int err = errno;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      ::close(sv[0]);
      ::munmap(shared, sizeof(std::uint64_t));
      errno = err;
      throw_errno("pidfd_open");
    }
    ::fcntl(w->pidfd, F_SETFD, FD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = w->id << 1;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, w->fd, &ev);
    ev.data.u64 = (w->id << 1) | 1U;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, w->pidfd, &ev);

    std::lock_guard g(mu_);
    ProcWorker& ref = *w;
    workers_.push_back(std::move(w));
    if (state_ == State::terminated || state_ == State::broken) {
      kill_all_locked();
      return;
    }
    if (!config_.initializer.empty()) {
      append_defines_locked(ref);
      ref.out += config_.initializer;
    }
    if (!initial_spawn_) dispatch_locked();
    if (!ref.out.empty()) send_locked(ref);
  }

  // After an internal failure: make sure no worker outlives the manager.
  void reap_all_after_failure() {
    std::vector<std::unique_ptr<ProcWorker>> all;
    {
      std::lock_guard g(mu_);
      all.swap(workers_);
    }
    for (auto& w : all) {
      ::kill(w->pid, SIGKILL);
      ::waitpid(w->pid, nullptr, 0);
      ::close(w->fd);
      if (w->pidfd >= 0) ::close(w->pidfd);
      ::munmap(w->claim, sizeof(std::uint64_t));
    }
  }

  const ProcessPoolConfig config_;
  mutable std::mutex mu_;
  State state_ = State::running;
  std::string broken_message_;
  std::deque<RemoteTaskBase*> pending_;
  std::vector<std::unique_ptr<ProcWorker>> workers_;
  std::uint64_t next_worker_id_ = 1;
  std::uint64_t avg_ns_ = 0;  // EWMA of the tasks' run time
  bool started_ = false;
  bool initial_spawn_ = false;  // the manager is starting the first workers
  int epoll_ = -1;
  int event_ = -1;
  std::thread manager_;
  static constexpr std::size_t kReadChunk = 256 * 1024;
  std::unique_ptr<char[]> rbuf_ = std::make_unique_for_overwrite<char[]>(kReadChunk);
};

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
