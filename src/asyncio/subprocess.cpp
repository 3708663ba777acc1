// asyncio subprocesses: spawning through subprocess's core, pipes as streams, exit via pidfd.
#include "pyconc/asyncio/subprocess.hpp"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "pyconc/asyncio/detail/event_waiters.hpp"
#include "pyconc/asyncio/detail/stream_transport.hpp"
#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/gather.hpp"
#include "pyconc/detail/spawn.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {

class AsyncSubprocessState final : public std::enable_shared_from_this<AsyncSubprocessState> {
 public:
  AsyncSubprocessState(asyncio::EventLoop& loop, SpawnedProcess child)
      : pid_(child.pid), loop_(&loop), remote_(loop.remote()), pidfd_(std::move(child.pidfd)) {}
  AsyncSubprocessState(const AsyncSubprocessState&) = delete;
  AsyncSubprocessState& operator=(const AsyncSubprocessState&) = delete;
  ~AsyncSubprocessState() {
    const bool loop_alive = [&] {
      auto r = remote_.lock();
      return r && !r->closed();
    }();
    if (loop_alive) {
      if (watching_) loop_->remove_reader(pidfd_.get());
      poll_.cancel();
    }
    // Still running: the subprocess module's reaper thread reaps it when it exits.
    if (!returncode_) hand_to_reaper(pid_, std::move(pidfd_));
  }

  // Starts watching for the exit: the pidfd turns readable when the child exits.
  void watch() {
    if (pidfd_) {
      loop_->add_reader(pidfd_.get(), [this] { check_exit(); });
      watching_ = true;
    } else {
      poll_after(std::chrono::milliseconds(1));
    }
  }

  pid_t pid_;
  std::optional<int> returncode_;
  std::optional<asyncio::StreamWriter> stdin_;
  std::optional<asyncio::StreamReader> stdout_;
  std::optional<asyncio::StreamReader> stderr_;
  EventWaitList exit_waiters_;

  void send_signal(int sig) {
    if (returncode_) return;  // reaped: the pid may belong to another process by now
    detail::send_signal(pidfd_.get(), pid_, sig);
  }

 private:
  void check_exit() noexcept {
    std::optional<int> rc;
    try {
      rc = try_reap(pid_);
    } catch (...) {
      loop_->call_exception_handler(
          {"error reaping a child process", std::current_exception(), {}});
      rc = 255;
    }
    if (!rc) return;  // not yet (a spurious readiness)
    if (watching_) {
      loop_->remove_reader(pidfd_.get());
      watching_ = false;
    }
    pidfd_.reset();
    returncode_ = rc;
    exit_waiters_.wake_all();
  }

  // No pidfd (kernels before 5.3): waitid(WNOHANG) on a timer, backing off to 50 ms.
  void poll_after(std::chrono::milliseconds delay) {
    std::weak_ptr<AsyncSubprocessState> self = weak_from_this();
    poll_ = loop_->call_later(delay, [self, delay] {
      auto s = self.lock();
      if (!s) return;
      s->check_exit();
      if (!s->returncode_) s->poll_after(std::min(delay * 2, std::chrono::milliseconds(50)));
    });
  }

  asyncio::EventLoop* loop_;
  std::weak_ptr<LoopRemote> remote_;
  UniqueFd pidfd_;
  asyncio::Handle poll_;
  bool watching_ = false;
};

}  // namespace pyconc::detail

namespace pyconc::asyncio {

using detail::AsyncSubprocessState;

namespace {

// What the options' views name, copied (when create_subprocess_* is called, while they are
// valid) into owned values.
detail::SpawnOptions own(bool shell, const SubprocessOptions& o) {
  if (o.limit == 0) throw ValueError("Limit cannot be <= 0");
  detail::SpawnOptions so;
  so.stdin_ = o.stdin_;
  so.stdout_ = o.stdout_;
  so.stderr_ = o.stderr_;
  so.shell = shell;
  so.executable = std::string(o.executable);
  if (!o.cwd.empty()) so.cwd = detail::PathString(o.cwd);
  if (!o.env.inherits()) {
    so.env = o.env.get() != nullptr ? o.env.get()->to_envp() : std::vector<std::string>{};
  }
  so.close_fds = o.close_fds;
  so.pass_fds.assign(o.pass_fds.begin(), o.pass_fds.end());
  so.restore_signals = o.restore_signals;
  so.start_new_session = o.start_new_session;
  so.process_group = o.process_group;
  so.nonblocking = true;
  return so;
}

// Starts the child when awaited (Python's coroutine).
Task<Process> spawn(std::vector<std::string> args, detail::SpawnOptions so, std::size_t limit) {
  EventLoop& loop = get_running_loop();
  detail::SpawnedProcess child = detail::spawn_process(args, so);
  detail::UniqueFd in = std::move(child.stdin_);
  detail::UniqueFd out = std::move(child.stdout_);
  detail::UniqueFd err = std::move(child.stderr_);
  auto s = std::make_shared<AsyncSubprocessState>(loop, std::move(child));
  // From here on the state owns the child: an error below hands it to the reaper.
  using Kind = detail::StreamTransport::Kind;
  if (in)
    s->stdin_.emplace(
        std::make_shared<detail::StreamTransport>(loop, std::move(in), Kind::pipe, limit));
  if (out)
    s->stdout_.emplace(
        std::make_shared<detail::StreamTransport>(loop, std::move(out), Kind::pipe, limit));
  if (err)
    s->stderr_.emplace(
        std::make_shared<detail::StreamTransport>(loop, std::move(err), Kind::pipe, limit));
  s->watch();
  co_return Process(std::move(s));
}

Task<> feed_stdin(StreamWriter w, std::string input) {
  try {
    if (!input.empty()) {
      w.write(input);
      co_await w.drain();
    }
  } catch (const BrokenPipeError&) {  // the child stopped reading: not an error (Python)
  } catch (const ConnectionResetError&) {
  }
  w.close();
}

Task<std::string> read_all(std::optional<StreamReader> r) {
  if (!r) co_return std::string();
  co_return co_await r->read();
}

Task<int> wait_impl(std::shared_ptr<AsyncSubprocessState> s) {
  while (!s->returncode_) co_await detail::EventAwaiter(s->exit_waiters_);
  co_return *s->returncode_;
}

Task<std::pair<std::string, std::string>> communicate_impl(std::shared_ptr<AsyncSubprocessState> s,
                                                           std::string input) {
  Task<> feeder = s->stdin_ ? feed_stdin(*s->stdin_, std::move(input)) : Task<>();
  std::string out, err;
  if (feeder.valid()) {
    auto results = co_await gather(std::move(feeder), read_all(s->stdout_), read_all(s->stderr_));
    auto& [fed, o, e] = results;
    (void)fed;
    out = std::move(o);
    err = std::move(e);
  } else {
    auto [o, e] = co_await gather(read_all(s->stdout_), read_all(s->stderr_));
    out = std::move(o);
    err = std::move(e);
  }
  co_await wait_impl(s);
  co_return std::pair<std::string, std::string>(std::move(out), std::move(err));
}

}  // namespace

pid_t Process::pid() const noexcept {
  return s_->pid_;
}

std::optional<int> Process::returncode() const noexcept {
  return s_->returncode_;
}

StreamWriter& Process::stdin_() const {
  if (!s_->stdin_) throw ValueError("stdin_ was not created with aio::PIPE");
  return *s_->stdin_;
}

StreamReader& Process::stdout_() const {
  if (!s_->stdout_) throw ValueError("stdout_ was not created with aio::PIPE");
  return *s_->stdout_;
}

StreamReader& Process::stderr_() const {
  if (!s_->stderr_) throw ValueError("stderr_ was not created with aio::PIPE");
  return *s_->stderr_;
}

Task<int> Process::wait() const {
  return wait_impl(s_);
}

Task<std::pair<std::string, std::string>> Process::communicate(std::string input) const {
  return communicate_impl(s_, std::move(input));
}

void Process::send_signal(int sig) const {
  s_->send_signal(sig);
}
void Process::terminate() const {
  s_->send_signal(SIGTERM);
}
void Process::kill() const {
  s_->send_signal(SIGKILL);
}

Task<Process> create_subprocess_exec(detail::ArgList args, SubprocessOptions options) {
  return spawn(std::move(args.items), own(false, options), options.limit);
}

Task<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options) {
  return spawn({std::move(cmd)}, own(true, options), options.limit);
}

}  // namespace pyconc::asyncio
