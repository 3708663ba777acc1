// EventLoop's Unix signal handlers (a self-pipe woken through the reactor) and the SIGINT
// handling of aio::Runner / aio::run.
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/detail/unique_fd.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::asyncio {

namespace {

// Per signal: the write end of the self-pipe of the loop that handles it (-1: none). Read by
// the signal handler, hence lock-free atomics.
std::atomic<int> signal_pipe[NSIG];
std::atomic<bool> signal_pipe_ready{false};

void init_signal_pipes() noexcept {
  if (signal_pipe_ready.load(std::memory_order_acquire)) return;
  static const bool done = [] {
    for (auto& fd : signal_pipe) fd.store(-1, std::memory_order_relaxed);
    signal_pipe_ready.store(true, std::memory_order_release);
    return true;
  }();
  (void)done;
}

// The process-wide handler: async-signal-safe (one write(2) of the signal number).
extern "C" void pyconc_on_signal(int sig) {
  const int saved = errno;
  const int fd = signal_pipe[sig].load(std::memory_order_relaxed);
  if (fd >= 0) {
    const unsigned char b = static_cast<unsigned char>(sig);
    [[maybe_unused]] const ssize_t n = ::write(fd, &b, 1);  // full pipe: a wake-up is pending
  }
  errno = saved;
}

void check_signal(int sig) {
  if (sig < 1 || sig >= NSIG) throw ValueError("invalid signal number " + std::to_string(sig));
  if (sig == SIGKILL || sig == SIGSTOP) {
    throw RuntimeError("sig " + std::to_string(sig) + " cannot be caught");
  }
}

}  // namespace

struct EventLoop::SignalState {
  struct Entry {
    std::shared_ptr<detail::unique_function<void()>> fn;  // shared: fn may remove itself
    struct sigaction previous {};
  };
  detail::UniqueFd read_end;
  detail::UniqueFd write_end;
  std::map<int, Entry> handlers;
};

void EventLoop::SignalStateDeleter::operator()(SignalState* s) const noexcept {
  delete s;
}

void EventLoop::add_signal_handler(int sig, detail::unique_function<void()> fn) {
  check_signal(sig);
  if (closed_) throw RuntimeError("Event loop is closed");
  if (!fn) throw ValueError("add_signal_handler: the callback is empty");
  init_signal_pipes();
  if (!signals_) {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw_os_error(errno, "pipe2");
    std::unique_ptr<SignalState, SignalStateDeleter> st(new SignalState);
    st->read_end = detail::UniqueFd(fds[0]);
    st->write_end = detail::UniqueFd(fds[1]);
    const int rd = fds[0];
    add_reader(rd, [this, rd] {
      unsigned char buf[64];
      for (;;) {
        const ssize_t n = ::read(rd, buf, sizeof buf);
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; ++i) {
          if (!signals_) return;
          auto it = signals_->handlers.find(buf[i]);
          if (it == signals_->handlers.end()) continue;  // removed meanwhile
          const auto fn = it->second.fn;
          try {
            (*fn)();
          } catch (...) {
            call_exception_handler({"Exception in signal handler for signal " +
                                        std::to_string(static_cast<int>(buf[i])),
                                    std::current_exception(),
                                    {}});
          }
        }
      }
    });
    signals_ = std::move(st);
  }
  auto it = signals_->handlers.find(sig);
  if (it != signals_->handlers.end()) {
    it->second.fn = std::make_shared<detail::unique_function<void()>>(std::move(fn));
    signal_pipe[sig].store(signals_->write_end.get(), std::memory_order_relaxed);
    return;
  }
  SignalState::Entry e;
  e.fn = std::make_shared<detail::unique_function<void()>>(std::move(fn));
  struct sigaction sa {};
  sa.sa_handler = pyconc_on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // Python: siginterrupt(sig, False)
  signal_pipe[sig].store(signals_->write_end.get(), std::memory_order_relaxed);
  if (::sigaction(sig, &sa, &e.previous) != 0) {
    const int err = errno;
    signal_pipe[sig].store(-1, std::memory_order_relaxed);
    if (err == EINVAL) throw RuntimeError("sig " + std::to_string(sig) + " cannot be caught");
    throw_os_error(err, "sigaction");
  }
  signals_->handlers.emplace(sig, std::move(e));
}

bool EventLoop::remove_signal_handler(int sig) {
  check_signal(sig);
  if (!signals_) return false;
  auto it = signals_->handlers.find(sig);
  if (it == signals_->handlers.end()) return false;
  ::sigaction(sig, &it->second.previous, nullptr);
  int mine = signals_->write_end.get();
  signal_pipe[sig].compare_exchange_strong(mine, -1, std::memory_order_relaxed);
  signals_->handlers.erase(it);
  return true;
}

void EventLoop::close_signals() noexcept {
  if (!signals_) return;
  while (!signals_->handlers.empty()) {
    try {
      remove_signal_handler(signals_->handlers.begin()->first);
    } catch (...) {
    }
  }
  remove_reader(signals_->read_end.get());
  signals_.reset();
}

}  // namespace pyconc::asyncio

namespace pyconc::detail {

namespace {
bool on_main_thread() noexcept {
  return static_cast<pid_t>(::syscall(SYS_gettid)) == ::getpid();
}
bool sigint_is_default() noexcept {
  struct sigaction cur {};
  if (::sigaction(SIGINT, nullptr, &cur) != 0) return false;
  return (cur.sa_flags & SA_SIGINFO) == 0 && cur.sa_handler == SIG_DFL;
}
}  // namespace

SigintGuard::SigintGuard(asyncio::EventLoop& loop, TaskCore& main) : loop_(&loop), main_(&main) {
  if (!on_main_thread() || !sigint_is_default()) return;
  loop.add_signal_handler(SIGINT, [this] {
    if (++interrupts_ == 1 && !main_->done()) {
      main_->cancel();  // the run raises KeyboardInterrupt once the main task is cancelled
      return;
    }
    // Second SIGINT (or the main task already done): the default disposition, as Python's
    // immediate KeyboardInterrupt would end a program that does not catch it.
    loop_->remove_signal_handler(SIGINT);
    installed_ = false;
    ::raise(SIGINT);
  });
  installed_ = true;
}

SigintGuard::~SigintGuard() {
  if (installed_ && !loop_->is_closed()) loop_->remove_signal_handler(SIGINT);
}

}  // namespace pyconc::detail
