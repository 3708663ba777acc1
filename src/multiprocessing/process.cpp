#include "pyconc/multiprocessing/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <new>
#include <thread>
#include <unordered_set>

#include "pyconc/detail/cpu.hpp"
#include "pyconc/detail/exception_info.hpp"
#include "pyconc/detail/trace.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/detail/framing.hpp"

namespace pyconc::detail {

enum class ProcessKind { main, child, parent };

struct ProcessState {
  explicit ProcessState(ProcessKind k) : kind(k) {}
  ProcessState(const ProcessState&) = delete;
  ProcessState& operator=(const ProcessState&) = delete;
  ~ProcessState() {
    if (pidfd >= 0) ::close(pidfd);
  }

  const ProcessKind kind;
  mutable std::mutex mu;  // guards name, exitcode, pidfd, closed (and reaping)
  std::string name;
  bool daemon = false;
  std::vector<int> identity;  // Python's _identity: (1,) for Process-1, (1, 2) for Process-1:2
  std::atomic<bool> started{false};
  std::atomic<int> pid{0};
  int pidfd = -1;
  int creator_pid = 0;  // the process that made the object: only it may start/join/signal it
  std::optional<int> exitcode;
  bool closed = false;
  bool subclass = false;  // run() is the subclass's, called through `self`
  multiprocessing::Process* self = nullptr;
  unique_function<void()> target;
};

// Thrown by multiprocessing::exit() inside a child; not a std::exception, so that
// `catch (const std::exception&)` in user code lets it through (Python's SystemExit is not an
// Exception either).
struct ProcessExit {
  int code;
};

// Per-process state of the module. Leaked on purpose: the exit handler uses it.
struct ProcessGlobals {
  ProcessGlobals() : current(std::make_shared<ProcessState>(ProcessKind::main)) {
    current->name = "MainProcess";
    current->pid = static_cast<int>(::getpid());
    current->started = true;
  }
  std::mutex mu;  // guards everything below
  std::shared_ptr<ProcessState> current;
  std::shared_ptr<ProcessState> parent;
  std::unordered_set<std::shared_ptr<ProcessState>> children;  // started, not known to be reaped
  int counter = 0;                                             // Python's _process_counter
  bool exit_handler_registered = false;
  bool in_child = false;  // this process is a Process child running its target
};

ProcessGlobals& globals() {
  static auto* g = new ProcessGlobals();
  return *g;
}

// fork() from anywhere (Process::start or not): the child starts with no children of its own
// and sane mutexes (another thread may have held one at fork time).
void process_fork_prepare() noexcept {
  globals().mu.lock();
}
void process_fork_parent() noexcept {
  globals().mu.unlock();
}
void process_fork_child() noexcept {
  ProcessGlobals& g = globals();
  g.mu.unlock();
  for (const auto& s : g.children) new (&s->mu) std::mutex();
  g.children.clear();
  new (&g.current->mu) std::mutex();
  g.current->pid = static_cast<int>(::getpid());
  if (g.parent) new (&g.parent->mu) std::mutex();
}
[[maybe_unused]] const bool process_fork_handlers_ready =
    (globals(), ::pthread_atfork(process_fork_prepare, process_fork_parent, process_fork_child),
     true);

struct ProcessAccess {
  static multiprocessing::ProcessRef make(std::shared_ptr<ProcessState> s) {
    return multiprocessing::ProcessRef(std::move(s));
  }
  static void run(multiprocessing::Process* p) { p->run(); }
};

namespace {

int own_pid() noexcept {
  return static_cast<int>(::getpid());
}

bool is_current(const ProcessState* s) {
  ProcessGlobals& g = globals();
  std::lock_guard lk(g.mu);
  return g.current.get() == s;
}

int decode_status(int status) noexcept {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return 255;
}

// With s.mu held: true once the child has ended (its exit code is then known). Never blocks.
bool reap_locked(ProcessState& s) noexcept {
  if (s.exitcode) return true;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(s.pid.load(), &status, WNOHANG);
    if (r == 0) return false;
    if (r > 0) {
      s.exitcode = decode_status(status);
      return true;
    }
    if (errno == EINTR) continue;
    s.exitcode = 255;  // ECHILD: reaped by someone else, the status is lost
    return true;
  }
}

void forget_child(const std::shared_ptr<ProcessState>& s) {
  ProcessGlobals& g = globals();
  std::lock_guard lk(g.mu);
  g.children.erase(s);
}

// Reaps the children that ended; returns those still running.
std::vector<std::shared_ptr<ProcessState>> running_children() {
  ProcessGlobals& g = globals();
  std::vector<std::shared_ptr<ProcessState>> alive;
  std::lock_guard lk(g.mu);
  for (auto it = g.children.begin(); it != g.children.end();) {
    bool ended = false;
    {
      std::lock_guard sl((*it)->mu);
      ended = reap_locked(**it);
    }
    if (ended) {
      it = g.children.erase(it);
    } else {
      alive.push_back(*it);
      ++it;
    }
  }
  return alive;
}

void flush_std_streams() noexcept {
  try {
    std::cout.flush();
    std::cerr.flush();
    std::clog.flush();
  } catch (...) {
  }
  std::fflush(nullptr);
}

int pidfd_open(int pid) noexcept {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

// The child's end of start(): never returns.
[[noreturn]] void child_main(const std::shared_ptr<ProcessState>& st, int parent_pid,
                             const std::string& parent_name, bool forked_on_main_thread) {
  // The fork handlers have run: threading sees one thread (ours, now "MainThread"), this
  // process has no children yet, lock tokens are fresh.
  st->pid = own_pid();
  if (st->daemon && forked_on_main_thread) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent_pid) ::kill(::getpid(), SIGKILL);  // the parent is already gone
  }
  {
    ProcessGlobals& g = globals();
    std::lock_guard lk(g.mu);
    auto parent = std::make_shared<ProcessState>(ProcessKind::parent);
    parent->name = parent_name;
    parent->pid = parent_pid;
    parent->started = true;
    g.parent = std::move(parent);
    g.current = st;
    g.counter = 0;
    g.in_child = true;
  }
  // As Python: a child does not compete with its parent for the terminal's input.
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull >= 0) {
    ::dup2(devnull, STDIN_FILENO);
    if (devnull != STDIN_FILENO) ::close(devnull);
  }

  int code = 0;
  try {
    if (st->subclass) {
      ProcessAccess::run(st->self);
    } else if (st->target) {
      st->target();
    }
  } catch (const ProcessExit& e) {
    code = e.code;
  } catch (...) {
    const auto info = describe_exception(std::current_exception());
    flush_std_streams();
    std::fprintf(stderr, "Process %s:\n%s: %s\n", st->name.c_str(), info.type.c_str(),
                 info.message.c_str());
    code = 1;
  }
  try {
    for (auto& c : running_children()) {
      if (c->daemon) ProcessAccess::make(c).terminate();
    }
    for (auto& c : running_children()) ProcessAccess::make(c).join();
  } catch (...) {
  }
  flush_std_streams();
  detail::trace_flush();  // _exit runs no atexit handler: this child's trace part now
  ::_exit(code & 0xff);
}

// At exit of a process that started children: as Python's multiprocessing.util._exit_function,
// terminate the daemon children, then join every child.
void exit_handler() {
  try {
    for (auto& c : running_children()) {
      if (c->daemon) ProcessAccess::make(c).terminate();
    }
    for (auto& c : running_children()) ProcessAccess::make(c).join();
  } catch (...) {
  }
}

}  // namespace
}  // namespace pyconc::detail

namespace pyconc::multiprocessing {

using detail::ProcessKind;
using detail::ProcessState;

namespace {

void check_closed(const ProcessState& s) {
  if (s.closed) throw ValueError("process object is closed");
}

// A child of the calling process: started, made here, not closed.
void check_child(const ProcessState& s, const char* what) {
  check_closed(s);
  if (s.kind != ProcessKind::child || s.creator_pid != detail::own_pid()) {
    throw RuntimeError(std::string("can only ") + what + " a child process");
  }
  if (!s.started) throw RuntimeError(std::string("can only ") + what + " a started process");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ProcessRef
// ---------------------------------------------------------------------------------------------
std::string ProcessRef::name() const {
  std::lock_guard g(state_->mu);
  return state_->name;
}

void ProcessRef::set_name(std::string name) {
  std::lock_guard g(state_->mu);
  state_->name = std::move(name);
}

int ProcessRef::pid() const noexcept {
  return state_->pid.load();
}

bool ProcessRef::daemon() const noexcept {
  return state_->daemon;
}

bool ProcessRef::is_alive() const {
  ProcessState& s = *state_;
  if (detail::is_current(&s)) return true;
  if (s.kind == ProcessKind::parent) return ::getppid() == s.pid.load();
  if (s.kind == ProcessKind::main) return false;  // the main process seen from a raw fork
  check_closed(s);
  if (!s.started) return false;
  if (s.creator_pid != detail::own_pid()) throw RuntimeError("can only test a child process");
  bool ended = false;
  {
    std::lock_guard g(s.mu);
    ended = detail::reap_locked(s);
  }
  if (ended) detail::forget_child(state_);
  return !ended;
}

std::optional<int> ProcessRef::exitcode() const {
  ProcessState& s = *state_;
  check_closed(s);
  if (s.kind != ProcessKind::child || !s.started) return std::nullopt;
  std::lock_guard g(s.mu);
  if (s.creator_pid != detail::own_pid()) return s.exitcode;
  detail::reap_locked(s);
  return s.exitcode;
}

bool ProcessRef::join_until(detail::Clock::time_point deadline) const {
  ProcessState& s = *state_;
  if (s.kind == ProcessKind::parent && !detail::is_current(&s)) {
    // The parent is not ours to reap: wait for its end on a pidfd of our own.
    if (::getppid() != s.pid.load()) return true;
    const int fd = detail::pidfd_open(s.pid.load());
    if (fd < 0) return ::getppid() != s.pid.load();
    const bool ended = detail::wait_readable(fd, deadline);
    ::close(fd);
    return ended;
  }
  check_child(s, "join");
  auto backoff = std::chrono::milliseconds(1);
  for (;;) {
    int fd = -1;
    {
      std::lock_guard g(s.mu);
      if (detail::reap_locked(s)) break;
      fd = s.pidfd;
    }
    if (detail::Clock::now() >= deadline) return false;
    if (fd >= 0) {
      detail::wait_readable(fd, deadline);
    } else {
      // No pidfd (Linux < 5.3): sleep in growing steps (capped at 50 ms) between checks.
      std::this_thread::sleep_for(
          std::min<detail::Clock::duration>(backoff, detail::remaining(deadline)));
      backoff = std::min(backoff * 2, std::chrono::milliseconds(50));
    }
  }
  detail::forget_child(state_);
  return true;
}

void ProcessRef::join() const {
  join_until(detail::Clock::time_point::max());
}

void ProcessRef::send_signal(int sig) const {
  ProcessState& s = *state_;
  check_child(s, sig == SIGKILL ? "kill" : "terminate");
  std::lock_guard g(s.mu);
  if (detail::reap_locked(s)) return;  // ended: the pid may belong to someone else by now
  // The child is not reaped, so its pid cannot have been reused: kill() is as safe as the
  // pidfd here. (pidfd_send_signal needs Linux 5.1.)
  ::kill(s.pid.load(), sig);
}

void ProcessRef::terminate() const {
  send_signal(SIGTERM);
}

void ProcessRef::kill() const {
  send_signal(SIGKILL);
}

int ProcessRef::sentinel() const {
  ProcessState& s = *state_;
  check_closed(s);
  if (!s.started) throw ValueError("process not started");
  std::lock_guard g(s.mu);
  return s.pidfd;
}

// ---------------------------------------------------------------------------------------------
// Process
// ---------------------------------------------------------------------------------------------
Process::Process(Options options) : state_(std::make_shared<ProcessState>(ProcessKind::child)) {
  detail::ProcessGlobals& g = detail::globals();
  std::lock_guard lk(g.mu);
  ProcessState& s = *state_;
  s.identity = g.current->identity;
  s.identity.push_back(++g.counter);
  if (options.name.empty()) {
    s.name = "Process-";
    for (std::size_t i = 0; i < s.identity.size(); ++i) {
      if (i > 0) s.name += ':';
      s.name += std::to_string(s.identity[i]);
    }
  } else {
    s.name = std::move(options.name);
  }
  s.daemon = options.daemon.value_or(g.current->daemon);
  s.creator_pid = detail::own_pid();
  s.subclass = true;  // until a target is given
  s.self = this;
}

void Process::set_target(detail::unique_function<void()> target) {
  state_->target = std::move(target);
  state_->subclass = false;
  state_->self = nullptr;
}

Process::Process(Process&& other) noexcept : state_(std::move(other.state_)) {
  if (state_ && state_->subclass) state_->self = this;
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    state_ = std::move(other.state_);
    if (state_ && state_->subclass) state_->self = this;
  }
  return *this;
}

Process::~Process() = default;

void Process::run() {
  if (state_->target) state_->target();
}

ProcessRef Process::ref() const {
  if (!state_) throw RuntimeError("process object was moved from");
  return ProcessRef(state_);
}

void Process::set_daemon(bool daemon) {
  if (state_->started) throw RuntimeError("process has already started");
  state_->daemon = daemon;
}

void Process::start() {
  if (!state_) throw RuntimeError("process object was moved from");
  ProcessState& s = *state_;
  check_closed(s);
  if (s.started) throw RuntimeError("cannot start a process twice");
  if (s.creator_pid != detail::own_pid()) {
    throw RuntimeError("can only start a process object created by current process");
  }
  detail::ProcessGlobals& g = detail::globals();
  std::string parent_name;
  {
    std::lock_guard lk(g.mu);
    if (g.current->daemon)
      throw RuntimeError("daemonic processes are not allowed to have children");
    std::lock_guard cl(g.current->mu);
    parent_name = g.current->name;
  }
  detail::running_children();  // reap the children that ended (Python's _cleanup)
  {
    std::lock_guard lk(g.mu);
    if (!g.exit_handler_registered) {
      std::atexit(detail::exit_handler);
      g.exit_handler_registered = true;
    }
  }

  const int parent_pid = detail::own_pid();
  const bool main_thread = ::gettid() == parent_pid;
  detail::flush_std_streams();  // or buffered output would be printed twice
  s.started = true;
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    s.started = false;
    raise_os_error(err, "fork()");
  }
  if (pid == 0) detail::child_main(state_, parent_pid, parent_name, main_thread);

  s.pid = pid;
  {
    std::lock_guard sl(s.mu);
    s.pidfd = detail::pidfd_open(pid);  // -1 on Linux < 5.3: join() then sleeps in steps
  }
  s.target = nullptr;  // the child has its own copy; free the arguments here, as Python does
  std::lock_guard lk(g.mu);
  g.children.insert(state_);
}

void Process::close() {
  if (!state_) return;
  ProcessState& s = *state_;
  if (s.closed) return;
  {
    std::lock_guard g(s.mu);
    if (s.started && s.creator_pid == detail::own_pid() && !detail::reap_locked(s)) {
      throw ValueError(
          "Cannot close a process while it is still running. You should first call join() or "
          "terminate().");
    }
    if (s.pidfd >= 0) ::close(s.pidfd);
    s.pidfd = -1;
    s.closed = true;
  }
  detail::forget_child(state_);
}

// ---------------------------------------------------------------------------------------------
// Module functions
// ---------------------------------------------------------------------------------------------
ProcessRef current_process() {
  detail::ProcessGlobals& g = detail::globals();
  std::lock_guard lk(g.mu);
  return detail::ProcessAccess::make(g.current);
}

std::optional<ProcessRef> parent_process() {
  detail::ProcessGlobals& g = detail::globals();
  std::lock_guard lk(g.mu);
  if (!g.parent) return std::nullopt;
  return detail::ProcessAccess::make(g.parent);
}

std::vector<ProcessRef> active_children() {
  std::vector<ProcessRef> out;
  for (auto& s : detail::running_children())
    out.push_back(detail::ProcessAccess::make(std::move(s)));
  return out;
}

int cpu_count() noexcept {
  return detail::process_cpu_count();
}

void exit(int code) {
  bool in_child = false;
  {
    detail::ProcessGlobals& g = detail::globals();
    std::lock_guard lk(g.mu);
    in_child = g.in_child;
  }
  if (in_child) throw detail::ProcessExit{code};
  std::exit(code);
}

}  // namespace pyconc::multiprocessing
