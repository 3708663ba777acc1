// The "forkserver" start method: the server's loop and the client the pools use (see
// fork_server.hpp).
#include "fork_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "pool_worker.hpp"
#include "pyconc/errors.hpp"
#include "self_exec.hpp"

namespace pyconc::detail {

namespace {

// Server -> client.
struct Reply {
  std::int32_t kind;  // kSpawned or kExited
  std::int32_t pid;   // kSpawned: the worker, or -errno when fork failed
  std::int32_t status;
};
constexpr std::int32_t kSpawned = 1;
constexpr std::int32_t kExited = 2;

[[noreturn]] void os_error(const std::string& what) {
  const int err = errno;
  throw OSError(err, what + ": " + std::strerror(err), std::string());
}

bool send_reply(int fd, const Reply& r) {
  for (;;) {
    const ssize_t n = ::send(fd, &r, sizeof r, MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(sizeof r)) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

// In the server: this process was started as the fork server.
[[maybe_unused]] const bool kServerHook = [] {
  if (const char* v = std::getenv(kForkServerEnv)) {
    const int fd = std::atoi(v);
    if (fd > 2) run_fork_server(fd);
    ::_exit(5);
  }
  return true;
}();

}  // namespace

void run_fork_server(int fd) {
  ::unsetenv(kForkServerEnv);  // processes started from here are ordinary programs
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
  const int sfd = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) ::_exit(5);
  for (;;) {
    pollfd pf[2] = {{fd, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (::poll(pf, 2, -1) < 0) {
      if (errno == EINTR) continue;
      ::_exit(5);
    }
    if ((pf[1].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      while (::read(sfd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      }
      int status = 0;
      pid_t pid;
      while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        send_reply(fd, Reply{kExited, static_cast<std::int32_t>(pid), status});
      }
    }
    if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    std::int32_t max_tasks = 0;
    iovec iov{&max_tasks, sizeof max_tasks};
    alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (n == 0) ::_exit(0);  // the process that started us is gone
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      ::_exit(0);
    }
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (n != sizeof max_tasks || c == nullptr || c->cmsg_type != SCM_RIGHTS ||
        c->cmsg_len != CMSG_LEN(2 * sizeof(int))) {
      send_reply(fd, Reply{kSpawned, -EINVAL, 0});
      continue;
    }
    int fds[2];
    std::memcpy(fds, CMSG_DATA(c), sizeof fds);
    const pid_t pid = ::fork();
    if (pid == 0) {
      // The worker: the server's socket and signalfd are not its business.
      ::close(fd);
      ::close(sfd);
      ::sigprocmask(SIG_UNBLOCK, &chld, nullptr);
      ::fcntl(fds[0], F_SETFD, 0);
      ::fcntl(fds[1], F_SETFD, 0);
      char spec[96];
      std::snprintf(spec, sizeof spec, "%d:%ld:%d:%d", fds[0], static_cast<long>(::getppid()),
                    static_cast<int>(max_tasks), fds[1]);
      run_pool_worker(spec);
    }
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    send_reply(fd, Reply{kSpawned, pid > 0 ? static_cast<std::int32_t>(pid) : -err, 0});
  }
}

ForkServerClient& ForkServerClient::instance() {
  static ForkServerClient* client = new ForkServerClient();  // never destroyed: used at exit
  return *client;
}

void ForkServerClient::start_locked() {
  if (fd_ >= 0) return;
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    os_error("socketpair for the fork server");
  }
  pid_t pid = -1;
  try {
    pid = exec_self(kForkServerEnv, std::to_string(sv[1]), {sv[1]});
  } catch (...) {
    ::close(sv[0]);
    ::close(sv[1]);
    throw;
  }
  ::close(sv[1]);
  fd_ = sv[0];
  server_ = pid;
}

bool ForkServerClient::read_message_locked(int timeout_ms) {
  pollfd pf{fd_, POLLIN, 0};
  int r;
  do {
    r = ::poll(&pf, 1, timeout_ms);
  } while (r < 0 && errno == EINTR);
  if (r <= 0) return false;
  Reply m{};
  ssize_t n;
  do {
    n = ::recv(fd_, &m, sizeof m, 0);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof m)) {
    if (n == 0 || (n < 0 && errno != EAGAIN)) forget_server_locked();  // it is gone
    return false;
  }
  if (m.kind == kExited) {
    statuses_[m.pid] = m.status;
  } else if (m.kind == kSpawned) {
    last_spawned_ = m.pid;
    have_reply_ = true;
  }
  return true;
}

void ForkServerClient::forget_server_locked() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  // It closed its end: it has exited or is exiting (our child: reap it).
  ::kill(server_, SIGKILL);
  while (::waitpid(server_, nullptr, 0) < 0 && errno == EINTR) {
  }
  server_ = -1;
}

pid_t ForkServerClient::spawn_worker(int sock, int claim_fd, int max_tasks) {
  std::lock_guard g(mu_);
  // A server that died (killed, say) is replaced by a new one for the next pool.
  for (int attempt = 0;; ++attempt) {
    start_locked();
    try {
      return request_locked(sock, claim_fd, max_tasks);
    } catch (const OSError&) {
      if (fd_ >= 0 || attempt > 0) throw;
    }
  }
}

pid_t ForkServerClient::request_locked(int sock, int claim_fd, int max_tasks) {
  std::int32_t mt = max_tasks;
  iovec iov{&mt, sizeof mt};
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(2 * sizeof(int));
  const int fds[2] = {sock, claim_fd};
  std::memcpy(CMSG_DATA(c), fds, sizeof fds);
  ssize_t n;
  do {
    n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof mt)) {
    const int err = errno;
    forget_server_locked();
    errno = err;
    os_error("the fork server is gone");
  }
  have_reply_ = false;
  while (!have_reply_) {
    if (!read_message_locked(30'000)) {
      errno = EPIPE;
      os_error("the fork server did not answer");
    }
  }
  if (last_spawned_ < 0) {
    errno = -last_spawned_;
    os_error("fork in the fork server");
  }
  return last_spawned_;
}

int ForkServerClient::wait_status(pid_t pid) {
  std::lock_guard g(mu_);
  for (;;) {
    if (auto it = statuses_.find(pid); it != statuses_.end()) {
      const int status = it->second;
      statuses_.erase(it);
      return status;
    }
    if (fd_ < 0 || !read_message_locked(5'000)) return -1;
  }
}

}  // namespace pyconc::detail
