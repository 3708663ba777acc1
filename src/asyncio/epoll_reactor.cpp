// The epoll backend of detail::Reactor, with an eventfd for cross-thread wake-ups.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <ctime>
#include <string>

#include "pyconc/asyncio/detail/reactor.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {
namespace {

std::uint32_t to_epoll(std::uint32_t interest, bool edge) {
  std::uint32_t ev = 0;
  if ((interest & io_read) != 0U) ev |= EPOLLIN | EPOLLRDHUP;
  if ((interest & io_write) != 0U) ev |= EPOLLOUT;
  if (edge) ev |= EPOLLET;
  return ev;
}

std::uint32_t from_epoll(std::uint32_t ev) {
  std::uint32_t out = 0;
  if ((ev & (EPOLLIN | EPOLLPRI)) != 0U) out |= io_read;
  if ((ev & EPOLLOUT) != 0U) out |= io_write;
  if ((ev & EPOLLERR) != 0U) out |= io_error | io_read | io_write;
  if ((ev & (EPOLLHUP | EPOLLRDHUP)) != 0U) out |= io_hangup | io_read;
  if ((ev & EPOLLHUP) != 0U) out |= io_write;
  return out;
}

class EpollReactor final : public Reactor {
 public:
  EpollReactor() {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) throw_os_error(errno, "epoll_create1");
    wakefd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakefd_ < 0) {
      const int err = errno;
      ::close(epfd_);
      throw_os_error(err, "eventfd");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // null watcher = the wake-up eventfd
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) != 0) {
      const int err = errno;
      ::close(wakefd_);
      ::close(epfd_);
      throw_os_error(err, "epoll_ctl(eventfd)");
    }
  }
  ~EpollReactor() override {
    ::close(wakefd_);
    ::close(epfd_);
  }

  void add(int fd, std::uint32_t interest, bool edge, IoWatcher* w) override {
    ctl(EPOLL_CTL_ADD, fd, interest, edge, w);
    ++registered_;
  }
  void modify(int fd, std::uint32_t interest, bool edge, IoWatcher* w) override {
    ctl(EPOLL_CTL_MOD, fd, interest, edge, w);
  }
  void remove(int fd) noexcept override {
    if (::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr) == 0) --registered_;
  }

  void poll(std::int64_t timeout_ns) override {
    // No fd registered and no waiting wanted: nothing can be reported, so skip the system call
    // (libuv does the same). A pending wakeup() stays in the eventfd and ends the next blocking
    // poll early, which is harmless: the loop drains its cross-thread inbox every iteration.
    if (timeout_ns == 0 && registered_ == 0) return;
    int n = 0;
    if (timeout_ns < 0) {
      n = ::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), -1);
    } else if (timeout_ns == 0) {
      n = ::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), 0);
    } else if (have_pwait2_) {
      // Nanosecond timeouts: a 100 µs sleep should not become a 1 ms one.
      timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000),
                  static_cast<long>(timeout_ns % 1'000'000'000)};
      n = ::epoll_pwait2(epfd_, events_.data(), static_cast<int>(events_.size()), &ts, nullptr);
      if (n < 0 && errno == ENOSYS) {
        have_pwait2_ = false;
        n = 0;  // the caller polls again at once with millisecond timeouts
      }
    } else {
      const std::int64_t ms = (timeout_ns + 999'999) / 1'000'000;  // round up: never early
      n = ::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()),
                       static_cast<int>(ms > 86'400'000 ? 86'400'000 : ms));
    }
    if (n < 0) {
      if (errno == EINTR) return;
      throw_os_error(errno, "epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      auto* w = static_cast<IoWatcher*>(events_[i].data.ptr);
      if (w == nullptr) {
        std::uint64_t v = 0;
        while (::read(wakefd_, &v, sizeof v) > 0) {
        }
        continue;
      }
      w->on_io(from_epoll(events_[i].events));
    }
  }

  void wakeup() noexcept override {
    const std::uint64_t one = 1;
    // EAGAIN means the counter is already non-zero: a wake-up is pending anyway.
    [[maybe_unused]] auto r = ::write(wakefd_, &one, sizeof one);
  }

 private:
  void ctl(int op, int fd, std::uint32_t interest, bool edge, IoWatcher* w) {
    epoll_event ev{};
    ev.events = to_epoll(interest, edge);
    ev.data.ptr = w;
    if (::epoll_ctl(epfd_, op, fd, &ev) != 0) {
      throw_os_error(errno, std::string("epoll_ctl(fd ") + std::to_string(fd) + ")");
    }
  }

  int epfd_ = -1;
  int wakefd_ = -1;
  std::size_t registered_ = 0;  // fds added through add() (the wake-up eventfd not counted)
  bool have_pwait2_ = true;
  std::array<epoll_event, 256> events_{};
};

}  // namespace

std::unique_ptr<Reactor> make_epoll_reactor() {
  return std::make_unique<EpollReactor>();
}

}  // namespace pyconc::detail
