#include "pyconc/subprocess/popen.hpp"

#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <mutex>
#include <optional>

#include "io.hpp"
#include "pyconc/detail/spawn.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/subprocess/exceptions.hpp"

namespace pyconc::subprocess {

namespace {

constexpr int kRunning = INT_MIN;  // returncode_ while the child has not been reaped

detail::SpawnOptions spawn_options(const PopenOptions& o) {
  detail::SpawnOptions s;
  s.stdin_ = o.stdin_;
  s.stdout_ = o.stdout_;
  s.stderr_ = o.stderr_;
  s.shell = o.shell;
  s.executable = o.executable;
  s.cwd = o.cwd;
  if (!o.env.inherits()) s.env = o.env.to_envp();
  s.close_fds = o.close_fds;
  s.pass_fds = o.pass_fds;
  s.restore_signals = o.restore_signals;
  s.start_new_session = o.start_new_session;
  s.process_group = o.process_group;
  s.pipesize = o.pipesize;
  return s;
}

}  // namespace

struct Popen::State {
  std::vector<std::string> args;
  pid_t pid = -1;
  detail::UniqueFd pidfd;
  bool text = false;
  File stdin_, stdout_, stderr_;
  bool stdin_was_pipe = false;

  // Reaping is serialised by wait_mu (never held while blocking); returncode is published
  // with release/acquire so that returncode() needs no lock.
  std::mutex wait_mu;
  std::atomic<int> returncode{kRunning};

  // communicate()'s progress, kept across a TimeoutExpired so that the next call resumes.
  bool communication_started = false;
  std::string input;  // the input not yet written, owned once a call timed out
  std::size_t input_offset = 0;
  detail::ChunkedBuffer out, err;  // raw bytes read so far

  std::optional<int> known() const noexcept {
    const int rc = returncode.load(std::memory_order_acquire);
    return rc == kRunning ? std::nullopt : std::optional<int>(rc);
  }
  // Under wait_mu.
  int set_returncode(int rc) noexcept {
    returncode.store(rc, std::memory_order_release);
    return rc;
  }
};

Popen::Popen(std::vector<std::string> args, PopenOptions options) : s_(std::make_unique<State>()) {
  detail::SpawnedProcess child = detail::spawn_process(args, spawn_options(options));
  s_->args = std::move(args);
  s_->pid = child.pid;
  s_->pidfd = std::move(child.pidfd);
  s_->text = options.text;
  s_->stdin_was_pipe = static_cast<bool>(child.stdin_);
  s_->stdin_ = File(std::move(child.stdin_), options.text);
  s_->stdout_ = File(std::move(child.stdout_), options.text);
  s_->stderr_ = File(std::move(child.stderr_), options.text);
}

Popen::Popen(Popen&& other) noexcept = default;

Popen& Popen::operator=(Popen&& other) noexcept {
  if (this != &other) {
    release();
    s_ = std::move(other.s_);
  }
  return *this;
}

Popen::~Popen() {
  release();
}

void Popen::release() noexcept {
  if (!s_) return;
  // Closing stdin first lets a child that reads it to the end (cat, sort) finish.
  s_->stdin_.close();
  s_->stdout_.close();
  s_->stderr_.close();
  if (!s_->known()) detail::hand_to_reaper(s_->pid, std::move(s_->pidfd));
  s_.reset();
}

const std::vector<std::string>& Popen::args() const noexcept {
  return s_->args;
}
pid_t Popen::pid() const noexcept {
  return s_->pid;
}
std::optional<int> Popen::returncode() const noexcept {
  return s_->known();
}

File& Popen::stdin_() noexcept {
  return s_->stdin_;
}
File& Popen::stdout_() noexcept {
  return s_->stdout_;
}
File& Popen::stderr_() noexcept {
  return s_->stderr_;
}

std::optional<int> Popen::poll() {
  if (auto rc = s_->known()) return rc;
  std::lock_guard lock(s_->wait_mu);
  if (auto rc = s_->known()) return rc;
  if (auto rc = detail::try_reap(s_->pid)) return s_->set_returncode(*rc);
  return std::nullopt;
}

int Popen::wait() {
  return wait_until(nullptr, {});
}

int Popen::wait_until(const detail::Clock::time_point* deadline,
                      std::chrono::duration<double> timeout) {
  if (auto rc = s_->known()) return *rc;
  // Wait for the exit without the lock (other threads may poll or signal meanwhile), then
  // reap under it; whoever comes second finds the returncode.
  if (!detail::wait_exited(s_->pidfd.get(), s_->pid, deadline)) {
    throw TimeoutExpired(s_->args, timeout);
  }
  std::lock_guard lock(s_->wait_mu);
  if (auto rc = s_->known()) return *rc;
  return s_->set_returncode(detail::reap(s_->pid));
}

void Popen::send_signal(int sig) {
  // As Python: reap first if possible, and never signal a child that was reaped (its pid may
  // belong to another process by now). Holding wait_mu keeps it from being reaped meanwhile.
  std::lock_guard lock(s_->wait_mu);
  if (s_->known()) return;
  if (auto rc = detail::try_reap(s_->pid)) {
    s_->set_returncode(*rc);
    return;
  }
  detail::send_signal(s_->pidfd.get(), s_->pid, sig);
}

void Popen::terminate() {
  send_signal(SIGTERM);
}
void Popen::kill() {
  send_signal(SIGKILL);
}

std::pair<std::string, std::string> Popen::communicate(std::string_view input) {
  return communicate_until(input, nullptr, {});
}

std::pair<std::string, std::string> Popen::communicate_until(
    std::string_view input, const detail::Clock::time_point* deadline,
    std::chrono::duration<double> timeout) {
  State& s = *s_;
  if (!input.empty()) {
    if (s.communication_started) {
      throw ValueError("Cannot send input after starting communication");
    }
    if (!s.stdin_was_pipe) {
      throw ValueError("communicate(input) needs stdin_ = PIPE");
    }
    if (s.stdin_.closed()) throw ValueError("I/O operation on closed file.");
  }
  // What is left to write: the caller's input on the first call, the owned rest afterwards.
  std::string_view pending;
  const bool resumed = s.communication_started;
  if (!resumed) {
    s.communication_started = true;
    pending = input;
    if (input.empty()) s.stdin_.close();
    s.out.append(s.stdout_.take_buffered());  // what readline() & co. read ahead
    s.err.append(s.stderr_.take_buffered());
    for (File* f : {&s.stdin_, &s.stdout_, &s.stderr_}) {
      if (!f->closed()) detail::set_nonblocking(f->fileno(), true);
    }
  } else {
    pending = std::string_view(s.input).substr(s.input_offset);
  }
  std::size_t written = 0;
  // SIGPIPE stays blocked for the whole loop (one signal-mask change, not one per write).
  std::optional<detail::SigpipeBlock> sigpipe;
  if (!s.stdin_.closed()) sigpipe.emplace();

  const auto timed_out = [&] {
    if (resumed) {
      s.input_offset += written;
    } else {
      s.input.assign(pending.substr(written));  // the caller's input is not ours to keep
      s.input_offset = 0;
    }
    throw TimeoutExpired(s.args, timeout, s.out.peek(s.text), s.err.peek(s.text));
  };

  for (;;) {
    pollfd fds[3];
    File* files[3];
    nfds_t n = 0;
    if (!s.stdin_.closed()) {
      if (written == pending.size()) {
        s.stdin_.close();  // all written: the child sees end of file
      } else {
        fds[n] = pollfd{s.stdin_.fileno(), POLLOUT, 0};
        files[n++] = &s.stdin_;
      }
    }
    for (File* f : {&s.stdout_, &s.stderr_}) {
      if (!f->closed()) {
        fds[n] = pollfd{f->fileno(), POLLIN, 0};
        files[n++] = f;
      }
    }
    if (n == 0) break;
    if (detail::poll_until(fds, n, deadline) == 0) timed_out();
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      File& f = *files[i];
      if (&f == &s.stdin_) {
        // Chunks of at most 1 MiB keep each write short enough to go back to reading.
        const std::size_t chunk = std::min<std::size_t>(pending.size() - written, 1 << 20);
        const long w = sigpipe->write(f.fileno(), pending.data() + written, chunk);
        if (w >= 0) {
          written += static_cast<std::size_t>(w);
        } else if (errno == EPIPE) {
          written = pending.size();  // the child stopped reading: as Python, not an error
          f.close();
        } else if (errno != EAGAIN) {
          raise_os_error(errno);
        }
      } else {
        detail::ChunkedBuffer& sink = &f == &s.stdout_ ? s.out : s.err;
        const long r = sink.read_from(f.fileno());
        if (r == 0) {
          f.close();
        } else if (r < 0 && errno != EAGAIN) {
          raise_os_error(errno);
        }
      }
    }
  }
  s.input.clear();
  s.input_offset = 0;
  try {
    wait_until(deadline, timeout);
  } catch (const TimeoutExpired&) {
    throw TimeoutExpired(s.args, timeout, s.out.peek(s.text), s.err.peek(s.text));
  }
  return {s.out.take(s.text), s.err.take(s.text)};
}

std::pair<std::string, std::string> Popen::kill_and_collect() {
  State& s = *s_;
  kill();
  wait();
  // The child is gone: what it wrote is in the pipes. Take what is there now, without waiting
  // for end of file (a grandchild may hold the pipes open for a long time).
  const auto until = detail::Clock::now() + std::chrono::milliseconds(100);
  for (File* f : {&s.stdout_, &s.stderr_}) {
    if (f->closed()) continue;
    detail::ChunkedBuffer& sink = f == &s.stdout_ ? s.out : s.err;
    if (!s.communication_started) sink.append(f->take_buffered());
    detail::set_nonblocking(f->fileno(), true);
    while (detail::Clock::now() < until && sink.read_from(f->fileno()) > 0) {
    }
    f->close();
  }
  s.stdin_.close();
  s.communication_started = true;
  return {s.out.take(s.text), s.err.take(s.text)};
}

}  // namespace pyconc::subprocess
