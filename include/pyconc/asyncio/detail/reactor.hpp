// pyconc/asyncio/detail/reactor.hpp -- the I/O readiness interface under the event loop.
//
// The loop talks to the kernel only through this: register an fd with a watcher, poll with a
// timeout (dispatching readiness to watchers), and wake a poll from another thread. The epoll
// backend lives in src/asyncio/epoll_reactor.cpp; an io_uring backend can be added behind the
// same interface and measured against it.
//
// Thread safety: everything but wakeup() is loop-thread only; wakeup() may be called from
// any thread at any time while the reactor exists.
#pragma once

#include <cstdint>
#include <memory>

namespace pyconc::detail {

enum IoEvent : std::uint32_t {
  io_read = 1U << 0,
  io_write = 1U << 1,
  io_error = 1U << 2,   // error condition on the fd (wake both directions)
  io_hangup = 1U << 3,  // peer closed (reads will see EOF)
};

// Receives readiness for one registered fd. `events` is a set of IoEvent bits.
class IoWatcher {
 public:
  virtual void on_io(std::uint32_t events) noexcept = 0;

 protected:
  ~IoWatcher() = default;
};

class Reactor {
 public:
  virtual ~Reactor() = default;

  // Registers `fd` for `interest` (io_read | io_write). Edge-triggered registrations report a
  // direction once each time it becomes ready (the owner caches readiness until EAGAIN);
  // level-triggered ones report it at every poll while it stays ready. Throws OSError.
  virtual void add(int fd, std::uint32_t interest, bool edge, IoWatcher* w) = 0;
  virtual void modify(int fd, std::uint32_t interest, bool edge, IoWatcher* w) = 0;
  // Unregisters `fd` (a no-op if it was not registered). Call it before closing the fd.
  virtual void remove(int fd) noexcept = 0;

  // Waits up to `timeout_ns` (negative: no limit, 0: do not block) for readiness and calls the
  // watchers. Returns early when wakeup() is called.
  virtual void poll(std::int64_t timeout_ns) = 0;

  // Makes a concurrent or the next poll() return promptly. Thread-safe, async-signal-safe.
  virtual void wakeup() noexcept = 0;
};

std::unique_ptr<Reactor> make_epoll_reactor();

}  // namespace pyconc::detail
