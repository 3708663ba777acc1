// The process pool's worker processes (members of ProcessPoolImpl, see process_pool_impl.hpp):
// the hook that turns a re-executed program into a pool worker, spawning a worker
// (posix_spawn of /proc/self/exe with its socket, claim word and pidfd), and reaping one once
// its pidfd says it has exited. Why workers are spawned, never forked: process_pool.cpp.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "fork_server.hpp"
#include "pool_worker.hpp"
#include "process_pool_impl.hpp"
#include "self_exec.hpp"

namespace pyconc::detail {

namespace {

// In a worker process: run the worker loop instead of main().
[[maybe_unused]] const bool kWorkerHook = [] {
  if (const char* spec = std::getenv(kPoolWorkerEnv)) run_pool_worker(spec);
  return true;
}();

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

int ProcessPoolImpl::reap(pid_t pid) const {
  if (config_.start_method == multiprocessing::StartMethod::forkserver) {
    return ForkServerClient::instance().wait_status(pid);  // the server's child, not ours
  }
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, 0);
  } while (r < 0 && errno == EINTR);
  return r == pid ? status : -1;
}

pid_t ProcessPoolImpl::exec_worker(int sock, int claim_fd) const {
  const std::string spec = std::to_string(sock) + ":" + std::to_string(::getpid()) + ":" +
                           std::to_string(config_.max_tasks_per_child) + ":" +
                           std::to_string(claim_fd);
  return exec_self(kPoolWorkerEnv, spec, {sock, claim_fd});
}

pid_t ProcessPoolImpl::fork_worker(int our_end, int sock, int claim_fd) const {
  std::fflush(nullptr);  // what is buffered now would otherwise be printed twice
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork of a pool worker");
  if (pid > 0) return pid;
  // The worker: a copy of the parent with one thread (this pool's manager). The pool's own
  // descriptors are not its business -- and a copy of another worker's socket would keep that
  // worker from seeing its end of input. workers_ is only changed by the manager thread, which
  // is the one that forked: it is consistent here.
  ::close(our_end);
  ::close(epoll_);
  ::close(event_);
  for (const auto& other : workers_) {
    ::close(other->fd);
    if (other->pidfd >= 0) ::close(other->pidfd);
  }
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull >= 0) {
    ::dup2(devnull, 0);
    ::close(devnull);
  }
  // The parent's signal handlers would act on the parent's objects (an event loop's wake-up
  // pipe...): back to the defaults; what the parent ignores stays ignored.
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler != SIG_IGN &&
        old.sa_handler != SIG_DFL) {
      ::signal(sig, SIG_DFL);
    }
  }
  sigset_t none;
  sigemptyset(&none);
  ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
  char spec[96];
  std::snprintf(spec, sizeof spec, "%d:%ld:%d:%d", sock, static_cast<long>(::getppid()),
                config_.max_tasks_per_child, claim_fd);
  run_pool_worker(spec);
}

void ProcessPoolImpl::on_exit(ProcWorker& w) {
  // Its last results. (No end of stream yet can mean a child of the worker holds the
  // socket: what the worker wrote is there all the same.)
  while (read_results(w)) {
  }
  const int status = reap(w.pid);
  const std::string how =
      status != -1 ? describe_status(status) : std::string("ended (its exit status is unknown)");
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
                " " + how + " while tasks were running or pending; the pool is not usable anymore";
    }
    if (!message.empty()) failed = break_locked(message);
    respawn = w.retiring && (state_ == State::running || state_ == State::closing);
    std::erase_if(workers_, [&](const auto& p) { return p.get() == &w; });
  }
  fail_all(failed, message);
  if (respawn) spawn_worker();
}

void ProcessPoolImpl::spawn_worker() {
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
  pid_t pid = -1;
  try {
    switch (config_.start_method) {
      case multiprocessing::StartMethod::forkserver:
        pid =
            ForkServerClient::instance().spawn_worker(sv[1], claim_fd, config_.max_tasks_per_child);
        break;
      case multiprocessing::StartMethod::fork:
        pid = fork_worker(sv[0], sv[1], claim_fd);
        break;
      case multiprocessing::StartMethod::spawn:
        pid = exec_worker(sv[1], claim_fd);
        break;
    }
  } catch (...) {
    ::close(sv[0]);
    ::close(sv[1]);
    ::close(claim_fd);
    ::munmap(shared, sizeof(std::uint64_t));
    throw;
  }
  ::close(sv[1]);
  ::close(claim_fd);
  auto w = std::make_unique<ProcWorker>();
  w->id = next_worker_id_++;
  w->pid = pid;
  if (tracing()) [[unlikely]]
    trace_lane_name(static_cast<int>(pid), "pool -> worker " + std::to_string(pid));
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

void ProcessPoolImpl::reap_all_after_failure() {
  std::vector<std::unique_ptr<ProcWorker>> all;
  {
    std::lock_guard g(mu_);
    all.swap(workers_);
  }
  for (auto& w : all) {
    ::kill(w->pid, SIGKILL);
    reap(w->pid);
    ::close(w->fd);
    if (w->pidfd >= 0) ::close(w->pidfd);
    ::munmap(w->claim, sizeof(std::uint64_t));
  }
}

}  // namespace pyconc::detail
