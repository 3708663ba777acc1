// pyconc/asyncio/detail/io_handle.hpp -- awaitable readiness of one non-blocking fd.
//
// The building block of streams, sockets, pipes and subprocess I/O. The fd is registered once,
// edge-triggered, for both directions; readiness is cached per direction and cleared only when
// the owner saw EAGAIN, so a stream that reads until EAGAIN makes no epoll_ctl call per read.
// Pattern:
//   for (;;) {
//     ssize_t n = ::read(fd, buf, len);
//     if (n >= 0) return n;
//     if (errno != EAGAIN) throw ...;
//     co_await io.readable();           // parks until the next edge (or EOF/error)
//   }
// At most one task may await each direction at a time (RuntimeError otherwise, like Python's
// "readuntil() called while another coroutine is already waiting").
//
// Cancellation: an awaiting task that is cancelled unparks at once (CancelledError); the
// registration stays. Thread safety: loop-thread only. Close: call close() (or destroy the
// handle) before closing the fd; a parked awaiter is woken with EOF/error semantics.
#pragma once

#include <coroutine>
#include <cstdint>

#include "pyconc/asyncio/detail/loop_core.hpp"
#include "pyconc/asyncio/detail/reactor.hpp"
#include "pyconc/asyncio/detail/task_core.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {

class IoHandle final : public IoWatcher {
 public:
  IoHandle() = default;
  // Registers `fd` (already O_NONBLOCK) with `loop`'s reactor. OSError on failure.
  IoHandle(LoopCore& loop, int fd) : loop_(&loop), fd_(fd) {
    loop.reactor().add(fd, io_read | io_write, /*edge=*/true, this);
  }
  IoHandle(const IoHandle&) = delete;
  IoHandle& operator=(const IoHandle&) = delete;
  ~IoHandle() { close(); }

  int fd() const noexcept { return fd_; }
  LoopCore* loop() const noexcept { return loop_; }
  bool is_open() const noexcept { return fd_ >= 0; }

  // Unregisters (does not close the fd); parked awaiters wake (their next I/O call fails).
  void close() noexcept {
    if (fd_ < 0) return;
    loop_->reactor().remove(fd_);
    fd_ = -1;
    ready_ = io_read | io_write | io_hangup;
    wake(reader_);
    wake(writer_);
  }

  class Awaiter;
  // Awaitables for "my call just failed with EAGAIN": they forget the cached readiness of
  // that direction and park until the reactor reports the next edge (ready at once after a
  // hang-up or error, so the caller's retry sees EOF or the error).
  Awaiter readable() noexcept;
  Awaiter writable() noexcept;
  bool hangup() const noexcept { return (ready_ & io_hangup) != 0U; }
  // The cached read readiness: an edge, EOF or error was reported since the last
  // readable()/clear_read_ready(). False means a read(2) now would fail with EAGAIN.
  bool read_ready() const noexcept { return (ready_ & (io_read | io_error | io_hangup)) != 0U; }
  // Forgets the cached read readiness without waiting, for an owner that knows the fd is
  // drained -- e.g. a read(2) returned less than asked: the next edge sets it again.
  void clear_read_ready() noexcept { ready_ &= ~io_read; }

  void on_io(std::uint32_t events) noexcept override {
    ready_ |= events;
    if ((events & (io_read | io_error | io_hangup)) != 0U) wake(reader_);
    if ((events & (io_write | io_error | io_hangup)) != 0U) wake(writer_);
  }

  class Awaiter final : public SuspendPoint {
   public:
    Awaiter(IoHandle* io, std::uint32_t dir) noexcept : io_(io), dir_(dir) {}
    Awaiter(Awaiter&& o) noexcept : io_(o.io_), dir_(o.dir_) {}
    ~Awaiter() { detach(); }
    bool await_ready() const noexcept {
      return (io_->ready_ & (dir_ | io_error | io_hangup)) != 0U;  // an edge, EOF or error came
    }
    void await_suspend(std::coroutine_handle<> h) {
      Awaiter*& slot = dir_ == io_read ? io_->reader_ : io_->writer_;
      if (slot != nullptr) {
        throw RuntimeError(dir_ == io_read ? "another task is already reading this fd"
                                           : "another task is already writing this fd");
      }
      park(h);
      slot = this;
    }
    void await_resume() {
      detach();
      resume_check();
    }
    bool cancel() noexcept override {
      if (!cancellable()) return false;
      detach();
      return cancelled_now();
    }
    void wake() noexcept {
      detach();
      complete();
    }

   private:
    void detach() noexcept {
      if (io_ == nullptr) return;
      Awaiter*& slot = dir_ == io_read ? io_->reader_ : io_->writer_;
      if (slot == this) slot = nullptr;
    }
    IoHandle* io_;
    std::uint32_t dir_;
  };

 private:
  static void wake(Awaiter* a) noexcept {
    if (a != nullptr) a->wake();
  }

  LoopCore* loop_ = nullptr;
  int fd_ = -1;
  std::uint32_t ready_ = 0;
  Awaiter* reader_ = nullptr;
  Awaiter* writer_ = nullptr;
};

inline IoHandle::Awaiter IoHandle::readable() noexcept {
  ready_ &= ~io_read;
  return Awaiter(this, io_read);
}
inline IoHandle::Awaiter IoHandle::writable() noexcept {
  ready_ &= ~io_write;
  return Awaiter(this, io_write);
}

}  // namespace pyconc::detail
