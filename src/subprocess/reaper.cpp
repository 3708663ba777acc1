// The background reaper behind detail::hand_to_reaper(): a Popen destroyed while its child
// still runs gives the child here, and one thread reaps it when it exits, so that no zombie is
// left behind (Python instead keeps such children in a list that the next Popen polls).
//
// One thread at most; it starts when a child arrives and there is none, and ends as soon as it
// has reaped every child it held. It sleeps in poll() on the children's pidfds plus an eventfd
// that adopt() writes to; children without a pidfd (pidfd_open unsupported) are looked at every
// 50 ms. The Reaper object is never destroyed, so the detached thread can outlive main().
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "pyconc/detail/spawn.hpp"

namespace pyconc::detail {

namespace {

class Reaper {
 public:
  static Reaper& instance() {
    static Reaper* const reaper = new Reaper();  // immortal: see the file's comment
    return *reaper;
  }

  void adopt(pid_t pid, UniqueFd pidfd) noexcept {
    try {
      if (try_reap(pid)) return;  // most have exited by the time their Popen goes away
      std::lock_guard lock(mu_);
      children_.push_back(Child{pid, std::move(pidfd)});
      if (running_) {
        wake();
        return;
      }
      std::thread([this] { run(); }).detach();
      running_ = true;
    } catch (...) {
      // No memory or no thread: the child stays in children_ (if it got there) and is reaped
      // when a later adopt() manages to start the thread.
    }
  }

  std::size_t pending() noexcept {
    std::lock_guard lock(mu_);
    return children_.size();
  }

 private:
  struct Child {
    pid_t pid;
    UniqueFd pidfd;
  };

  Reaper() : wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

  void wake() noexcept {
    if (wake_) {
      const std::uint64_t one = 1;
      [[maybe_unused]] const ssize_t r = ::write(wake_.get(), &one, sizeof one);
    }
  }

  // Under mu_: reaps every child that has exited. Returns whether one without a pidfd is left.
  bool reap_exited_locked() {
    bool timed = !wake_;
    for (std::size_t i = 0; i < children_.size();) {
      bool gone = true;
      try {
        gone = try_reap(children_[i].pid).has_value();
      } catch (...) {  // an unexpected waitpid error: nothing more can be done for this one
      }
      if (gone) {
        children_[i] = std::move(children_.back());
        children_.pop_back();
      } else {
        timed = timed || !children_[i].pidfd;
        ++i;
      }
    }
    return timed;
  }

  void run() noexcept {
    std::vector<pollfd> fds;
    for (;;) {
      bool timed = false;
      {
        std::lock_guard lock(mu_);
        timed = reap_exited_locked();
        if (children_.empty()) {
          running_ = false;
          return;
        }
        fds.clear();
        if (wake_) fds.push_back(pollfd{wake_.get(), POLLIN, 0});
        // Only this thread removes children, so these descriptors stay open while it polls.
        for (const Child& c : children_) {
          if (c.pidfd) fds.push_back(pollfd{c.pidfd.get(), POLLIN, 0});
        }
      }
      ::poll(fds.data(), fds.size(), timed ? 50 : -1);
      if (wake_) {
        std::uint64_t count;
        [[maybe_unused]] const ssize_t r = ::read(wake_.get(), &count, sizeof count);
      }
    }
  }

  std::mutex mu_;
  std::vector<Child> children_;
  bool running_ = false;
  UniqueFd wake_;
};

}  // namespace

void hand_to_reaper(pid_t pid, UniqueFd pidfd) noexcept {
  Reaper::instance().adopt(pid, std::move(pidfd));
}

std::size_t reaper_pending() noexcept {
  return Reaper::instance().pending();
}

}  // namespace pyconc::detail
