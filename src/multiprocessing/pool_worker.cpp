// The worker side of the process pools: the loop a re-executed /proc/self/exe runs instead of
// main() (see process_pool.cpp and the hook in worker_spawn.cpp for how it gets here).
//
// It reads task messages from its socket, runs them in order, and sends results back in
// batches: results are written when the worker runs out of input (it is about to block) or when
// the oldest unsent result is older than kResultLatency, so a burst of tiny tasks costs one
// write per batch while a slow task never holds back the results before it.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "pool_worker.hpp"
#include "pyconc/detail/trace.hpp"
#include "pyconc/multiprocessing/detail/call_runner.hpp"
#include "pyconc/multiprocessing/detail/remote_call.hpp"

namespace pyconc::detail {

namespace {

constexpr auto kResultLatency = std::chrono::microseconds(100);
using WorkerClock = std::chrono::steady_clock;

[[noreturn]] void leave(int code) {
  std::fflush(nullptr);  // what tasks printed (std::cout shares stdio's buffers)
  trace_flush();         // _exit runs no atexit handler: this worker's trace part now
  ::_exit(code);
}

class Worker {
 public:
  Worker(int fd, int max_tasks, std::atomic<std::uint64_t>* claim)
      : fd_(fd), max_tasks_(max_tasks), claim_(claim) {}

  [[noreturn]] void run() {
    for (;;) {
      while (const char* msg = next_message()) handle(msg);
      flush();                // about to block: everything computed so far goes out first
      if (!fill()) leave(0);  // the pool closed our socket: nothing more to do
    }
  }

 private:
  // The next complete message in the input buffer (its length prefix), or null.
  const char* next_message() {
    const std::size_t avail = in_.size() - in_pos_;
    if (avail < kWirePrefix) return nullptr;
    const auto body = get_raw<std::uint32_t>(in_.data() + in_pos_);
    if (body == 0) leave(4);  // every message has at least its kind
    if (avail < 4 + static_cast<std::size_t>(body)) return nullptr;
    const char* msg = in_.data() + in_pos_;
    in_pos_ += 4 + static_cast<std::size_t>(body);
    return msg;
  }

  // Reads more input (blocking). False at end of input.
  bool fill() {
    if (in_pos_ == in_.size()) {
      in_.clear();
      in_pos_ = 0;
    } else if (in_pos_ > 0) {
      in_.erase(0, in_pos_);
      in_pos_ = 0;
    }
    std::size_t want = 256 * 1024;
    if (in_.size() >= 4) {  // a large message: make room for all of it at once
      const auto body = get_raw<std::uint32_t>(in_.data());
      want = std::max<std::size_t>(want, 4 + static_cast<std::size_t>(body) - in_.size());
    }
    const std::size_t old = in_.size();
    in_.resize(old + want);
    for (;;) {
      const ssize_t n = ::recv(fd_, in_.data() + old, want, 0);
      if (n > 0) {
        in_.resize(old + static_cast<std::size_t>(n));
        return true;
      }
      if (n == 0) return false;
      if (errno != EINTR) leave(3);
    }
  }

  void flush() {
    if (out_.empty()) return;
    std::fflush(nullptr);  // a task's output comes before its result
    std::size_t pos = 0;
    while (pos < out_.size()) {
      const ssize_t n = ::send(fd_, out_.data() + pos, out_.size() - pos, MSG_NOSIGNAL);
      if (n > 0) {
        pos += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        leave(3);  // the pool is gone
      }
    }
    out_.clear();
    has_pending_ = false;
  }

  void handle(const char* msg) {
    const auto body = get_raw<std::uint32_t>(msg);
    const auto kind = static_cast<WireKind>(msg[4]);
    const std::string_view payload(msg + kWirePrefix, body - 1);
    switch (kind) {
      case WireKind::define:
        if (!runner_.define(payload)) leave(4);
        break;
      case WireKind::task:
        run_task(payload);
        break;
      case WireKind::init:
        run_initializer(payload);
        break;
      case WireKind::exit:
        flush();
        leave(0);
      default:
        leave(4);  // protocol error: the pool will see us exit
    }
  }

  // Claims task `seq` of `epoch` before running it: false if the pool took it back (it has
  // moved to a later epoch, and given the task to another worker).
  bool claim(std::uint64_t seq, std::uint32_t epoch) {
    std::uint64_t w = claim_->load(std::memory_order_seq_cst);
    for (;;) {
      if (claim_epoch(w) != epoch) return false;
      if (claim_->compare_exchange_weak(w, claim_word(epoch, seq), std::memory_order_seq_cst)) {
        return true;
      }
    }
  }

  void run_task(std::string_view p) {
    if (!CallRunner::is_call(p)) leave(4);
    const auto seq = CallRunner::task_seq(p);
    if (!claim(seq, CallRunner::task_epoch(p))) return;  // taken back: skip it
    if (has_pending_ && WorkerClock::now() - pending_since_ > kResultLatency) flush();
    if (tracing()) [[unlikely]] {
      TraceSpan span("ProcessPool", "task");
      span.args().k1 = "seq";
      span.args().v1 = static_cast<std::int64_t>(seq);
      runner_.run_task(p, out_);
    } else {
      runner_.run_task(p, out_);
    }
    if (!has_pending_) {
      has_pending_ = true;
      pending_since_ = WorkerClock::now();
    }
    if (max_tasks_ > 0 && ++done_ >= max_tasks_) {
      put_raw(out_, std::uint32_t{1});  // a message with a kind and no body
      out_.push_back(static_cast<char>(WireKind::retiring));
      flush();
      leave(0);
    }
  }

  void run_initializer(std::string_view p) {
    std::string failure;
    if (runner_.run_initializer(p, failure)) return;  // its own result is dropped
    out_ = std::move(failure);
    flush();
    leave(1);
  }

  int fd_;
  int max_tasks_;
  std::atomic<std::uint64_t>* claim_;
  int done_ = 0;
  std::string in_;
  std::size_t in_pos_ = 0;
  std::string out_;
  bool has_pending_ = false;
  WorkerClock::time_point pending_since_{};
  CallRunner runner_;
};

}  // namespace

void run_pool_worker(const char* spec) {
  // spec: "<socket fd>:<parent pid>:<max tasks>:<claim word fd>"
  int fd = -1;
  long parent = 0;
  int max_tasks = 0;
  int claim_fd = -1;
  if (std::sscanf(spec, "%d:%ld:%d:%d", &fd, &parent, &max_tasks, &claim_fd) != 4 || fd < 0 ||
      claim_fd < 0) {
    leave(5);
  }
  void* shared =
      ::mmap(nullptr, sizeof(std::uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, claim_fd, 0);
  if (shared == MAP_FAILED) leave(5);
  ::close(claim_fd);
  ::unsetenv(kPoolWorkerEnv);  // processes this worker starts are ordinary programs
  ::signal(SIGPIPE, SIG_IGN);
  // Die with the pool's manager thread (the spawning thread) even if it is SIGKILLed.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != static_cast<pid_t>(parent)) leave(6);  // the pool died before prctl
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);                         // not inherited by our children
  // The claim word lives in memory shared with the pool: a lock-free std::atomic is
  // address-free, so both processes may operate on it.
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
  trace_process_name("pool worker " + std::to_string(::getpid()));
  trace_thread_name("worker");
  Worker w(fd, max_tasks, static_cast<std::atomic<std::uint64_t>*>(shared));
  w.run();
}

}  // namespace pyconc::detail
