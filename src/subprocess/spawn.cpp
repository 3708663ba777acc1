#include "pyconc/detail/spawn.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <utility>

#include "io.hpp"
#include "pyconc/errors.hpp"

extern char** environ;  // NOLINT: POSIX declares it nowhere

namespace pyconc::detail {

namespace {

std::atomic<bool> g_pidfd_enabled{true};

int sys_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // the new fd is O_CLOEXEC
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

// Moves a descriptor that landed on 0, 1 or 2 (the parent had closed its own stdio) to 3 or
// above, so that the child's dup2() onto 0/1/2 can never overwrite a source not yet used.
void raise_above_stdio(UniqueFd& fd) {
  if (fd.get() >= 0 && fd.get() < 3) {
    const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
    if (moved < 0) raise_os_error(errno);
    fd.reset(moved);
  }
}

struct Pipe {
  UniqueFd read, write;
};

Pipe make_pipe(int pipesize) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) raise_os_error(errno);
  Pipe p{UniqueFd(fds[0]), UniqueFd(fds[1])};
  raise_above_stdio(p.read);
  raise_above_stdio(p.write);
  if (pipesize > 0 && ::fcntl(p.write.get(), F_SETPIPE_SZ, pipesize) < 0) raise_os_error(errno);
  return p;
}

// RAII wrappers for the posix_spawn attribute objects.
struct FileActions {
  posix_spawn_file_actions_t a;
  FileActions() {
    if (const int e = posix_spawn_file_actions_init(&a)) raise_os_error(e);
  }
  ~FileActions() { posix_spawn_file_actions_destroy(&a); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  void dup2(int from, int to) {
    if (const int e = posix_spawn_file_actions_adddup2(&a, from, to)) raise_os_error(e);
  }
  void close(int fd) {
    if (const int e = posix_spawn_file_actions_addclose(&a, fd)) raise_os_error(e);
  }
  void closefrom(int from) {
    if (const int e = posix_spawn_file_actions_addclosefrom_np(&a, from)) raise_os_error(e);
  }
  void chdir(const char* dir) {
    if (const int e = posix_spawn_file_actions_addchdir_np(&a, dir)) raise_os_error(e);
  }
};

struct SpawnAttr {
  posix_spawnattr_t a;
  SpawnAttr() {
    if (const int e = posix_spawnattr_init(&a)) raise_os_error(e);
  }
  ~SpawnAttr() { posix_spawnattr_destroy(&a); }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
};

// Checks a stream's Redirect: STDOUT only for stderr, descriptors non-negative.
void validate(const Redirect& r, const char* name) {
  if (r.kind() == Redirect::Kind::stdout_ && std::string_view(name) != "stderr") {
    throw ValueError(std::string("STDOUT is only valid for stderr, not for ") + name);
  }
  if (r.kind() == Redirect::Kind::fd && r.fd() < 0) {
    throw ValueError(std::string("bad file descriptor for ") + name + ": " +
                     std::to_string(r.fd()));
  }
}

// Python's os.get_exec_path(env): the PATH of `env` when an environment is given (none in it:
// the default path), else this process's PATH.
std::string exec_path(const std::optional<std::vector<std::string>>& env) {
  constexpr const char* kDefaultPath = "/bin:/usr/bin";  // Python's os.defpath
  if (env) {
    for (const auto& kv : *env) {
      if (kv.starts_with("PATH=")) return kv.substr(5);
    }
    return kDefaultPath;
  }
  const char* p = std::getenv("PATH");
  return p != nullptr ? p : kDefaultPath;
}

// The file to execute for `program`: itself when it holds a '/', else the first executable
// regular file named so in a PATH directory (as execvp: a directory without permission is
// skipped but remembered, so that the error is PermissionError rather than FileNotFoundError).
std::string find_program(const std::string& program,
                         const std::optional<std::vector<std::string>>& env) {
  if (program.empty()) raise_os_error(ENOENT, program);
  if (program.find('/') != std::string::npos) return program;
  const std::string path = exec_path(env);
  bool denied = false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = std::min(path.find(':', start), path.size());
    // Built with append (GCC 12 -O3 warns falsely, -Wrestrict, on `dir + "/" + program`).
    std::string candidate = end == start ? std::string(".") : path.substr(start, end - start);
    candidate += '/';
    candidate += program;
    struct stat st {};
    if (::access(candidate.c_str(), X_OK) == 0) {
      if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return candidate;
    } else if (errno == EACCES) {
      denied = true;
    }
    if (end == path.size()) break;
    start = end + 1;
  }
  raise_os_error(denied ? EACCES : ENOENT, program);
}

// After posix_spawn failed with `err`: raises the error Python reports -- about the cwd when it
// is the cwd that cannot be entered, else about the program.
[[noreturn]] void raise_spawn_error(int err, const std::string& program,
                                    const std::optional<PathString>& cwd) {
  if (cwd) {
    const std::string dir = cwd->string();
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) raise_os_error(errno, dir);
    if (!S_ISDIR(st.st_mode)) raise_os_error(ENOTDIR, dir);
    if (::access(dir.c_str(), X_OK) != 0) raise_os_error(errno, dir);
  }
  raise_os_error(err, program);
}

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::vector<std::string> shell_argv(const std::vector<std::string>& args,
                                    const std::string& executable) {
  std::vector<std::string> argv{executable.empty() ? "/bin/sh" : executable, "-c"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

SpawnedProcess spawn_process(const std::vector<std::string>& args, const SpawnOptions& o) {
  if (args.empty()) throw ValueError("the argument list of a process must not be empty");
  validate(o.stdin_, "stdin");
  validate(o.stdout_, "stdout");
  validate(o.stderr_, "stderr");
  for (const int fd : o.pass_fds) {
    if (fd < 0) throw ValueError("bad file descriptor in pass_fds: " + std::to_string(fd));
  }

  const std::vector<std::string> argv = o.shell ? shell_argv(args, o.executable) : args;
  const std::string& program = o.shell || o.executable.empty() ? argv[0] : o.executable;
  const std::string path = find_program(program, o.env);

  // The descriptors the child's 0, 1, 2 are made from. Each is O_CLOEXEC and >= 3, so a child
  // spawned meanwhile by another thread never inherits one, and the dup2() actions below
  // cannot clobber each other.
  SpawnedProcess out;
  int source[3] = {-1, -1, -1};  // what becomes the child's 0, 1, 2 (-1: left as is)
  UniqueFd owned[3];             // the descriptors made here for that
  UniqueFd devnull;
  const Redirect* streams[3] = {&o.stdin_, &o.stdout_, &o.stderr_};
  for (int i = 0; i < 3; ++i) {
    const Redirect& r = *streams[i];
    switch (r.kind()) {
      case Redirect::Kind::inherit:
      case Redirect::Kind::stdout_:
        break;
      case Redirect::Kind::pipe: {
        Pipe p = make_pipe(o.pipesize);
        UniqueFd& parent_end = i == 0 ? out.stdin_ : i == 1 ? out.stdout_ : out.stderr_;
        parent_end = std::move(i == 0 ? p.write : p.read);
        owned[i] = std::move(i == 0 ? p.read : p.write);
        source[i] = owned[i].get();
        if (o.nonblocking) set_nonblocking(parent_end.get(), true);
        break;
      }
      case Redirect::Kind::devnull:
        if (!devnull) {
          devnull.reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
          if (!devnull) raise_os_error(errno, "/dev/null");
          raise_above_stdio(devnull);
        }
        source[i] = devnull.get();
        break;
      case Redirect::Kind::fd:
        // A private duplicate: the caller's descriptor may be 0-2 or the target of another
        // stream (stdout_ = 2, stderr_ = 1 must swap them, not make both 2).
        owned[i].reset(::fcntl(r.fd(), F_DUPFD_CLOEXEC, 3));
        if (!owned[i]) raise_os_error(errno);
        source[i] = owned[i].get();
        break;
    }
  }

  FileActions actions;
  for (int i = 0; i < 3; ++i) {
    if (source[i] >= 0) actions.dup2(source[i], i);
  }
  if (o.stderr_.kind() == Redirect::Kind::stdout_) actions.dup2(1, 2);  // after stdout is set
  if (o.close_fds || !o.pass_fds.empty()) {
    std::vector<int> keep;
    for (const int fd : o.pass_fds) {
      if (fd > 2) keep.push_back(fd);
    }
    std::sort(keep.begin(), keep.end());
    keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
    int next = 3;
    for (const int fd : keep) {
      actions.dup2(fd, fd);  // dup2 onto itself clears FD_CLOEXEC (glibc >= 2.29)
      for (; next < fd; ++next) actions.close(next);  // closing a closed fd is ignored
      next = fd + 1;
    }
    actions.closefrom(next);
  }
  std::string cwd;
  if (o.cwd) {
    cwd = o.cwd->string();
    actions.chdir(cwd.c_str());
  }

  SpawnAttr attr;
  short flags = 0;
  if (o.restore_signals) {
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGXFSZ);
    posix_spawnattr_setsigmask(&attr.a, &none);
    posix_spawnattr_setsigdefault(&attr.a, &defaults);
    flags |= POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  }
  if (o.start_new_session) flags |= POSIX_SPAWN_SETSID;
  if (o.process_group) {
    posix_spawnattr_setpgroup(&attr.a, *o.process_group);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attr.a, flags);

  std::vector<char*> c_argv = c_strings(argv);
  std::vector<char*> c_env;
  if (o.env) c_env = c_strings(*o.env);
  char** envp = o.env ? c_env.data() : environ;

  pid_t pid = -1;
  const int err = ::posix_spawn(&pid, path.c_str(), &actions.a, &attr.a, c_argv.data(), envp);
  if (err != 0) raise_spawn_error(err, program, o.cwd);
  out.pid = pid;

  if (g_pidfd_enabled.load(std::memory_order_relaxed)) {
    const int pidfd = sys_pidfd_open(pid);
    if (pidfd >= 0) {
      out.pidfd.reset(pidfd);
    } else if (errno == ENOSYS) {
      g_pidfd_enabled.store(false, std::memory_order_relaxed);  // old kernel: poll instead
    }
    // Other failures (EMFILE): this child is waited for without a pidfd.
  }
  return out;  // `owned` closes here: the child holds its own copies
}

int returncode_from_status(int status) noexcept {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  if (WIFSTOPPED(status)) return -WSTOPSIG(status);
  return status;
}

std::optional<int> try_reap(pid_t pid) {
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == 0) return std::nullopt;
    if (r == pid) return returncode_from_status(status);
    if (errno == ECHILD) return 0;  // reaped by someone else (e.g. SIGCHLD ignored): Python's 0
    if (errno != EINTR) raise_os_error(errno);
  }
}

int reap(pid_t pid) {
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, 0);
    if (r == pid) return returncode_from_status(status);
    if (errno == ECHILD) return 0;
    if (errno != EINTR) raise_os_error(errno);
  }
}

bool wait_exited(int pidfd, pid_t pid, const Clock::time_point* deadline) {
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    return poll_until(&p, 1, deadline) > 0;
  }
  // No pidfd: look without reaping (WNOWAIT), sleeping a little longer each time.
  auto delay = std::chrono::microseconds(500);
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0) {
      if (info.si_pid != 0) return true;
    } else if (errno == ECHILD) {
      return true;  // already reaped elsewhere
    } else if (errno != EINTR) {
      raise_os_error(errno);
    }
    Clock::duration nap = delay;
    if (deadline != nullptr) {
      const auto left = remaining(*deadline);
      if (left == Clock::duration::zero()) return false;
      nap = std::min(nap, left);
    }
    std::this_thread::sleep_for(nap);
    delay = std::min(delay * 2, std::chrono::microseconds(50'000));
  }
}

void send_signal(int pidfd, pid_t pid, int sig) {
#ifdef SYS_pidfd_send_signal
  if (pidfd >= 0) {
    if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0 || errno == ESRCH) return;
    if (errno != ENOSYS) raise_os_error(errno);
  }
#else
  (void)pidfd;
#endif
  if (::kill(pid, sig) != 0 && errno != ESRCH) raise_os_error(errno);
}

bool pidfd_enabled() noexcept {
  return g_pidfd_enabled.load(std::memory_order_relaxed);
}
void set_pidfd_enabled(bool enabled) noexcept {
  g_pidfd_enabled.store(enabled, std::memory_order_relaxed);
}

// SIGPIPE from a write to a pipe is sent to the writing thread: blocked, it stays pending
// until consumed here.
SigpipeBlock::SigpipeBlock() noexcept {
  sigset_t pipe_set, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigemptyset(&pending);
  ::sigpending(&pending);
  was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask_);
}

SigpipeBlock::~SigpipeBlock() {
  const int saved = errno;
  if (raised_ && !was_pending_) {
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    const timespec zero{0, 0};
    while (::sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  errno = saved;
}

long SigpipeBlock::write(int fd, const void* data, std::size_t size) noexcept {
  ssize_t n;
  do {
    n = ::write(fd, data, size);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EPIPE) raised_ = true;
  return n;
}

long write_no_sigpipe(int fd, const void* data, std::size_t size) noexcept {
  SigpipeBlock block;
  return block.write(fd, data, size);
}

}  // namespace pyconc::detail
