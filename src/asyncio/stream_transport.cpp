// StreamTransport: pulled reads, pushed writes with a flusher task, flow control, closing.
#include "pyconc/asyncio/detail/stream_transport.hpp"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <string>
#include <vector>

#include "pyconc/asyncio/task.hpp"
#include "pyconc/asyncio/timeout.hpp"
#include "pyconc/detail/spawn.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {

namespace {
constexpr std::size_t max_read_chunk = 256 * 1024;  // Python's selector transports read 256 KiB
}

StreamTransport::StreamTransport(std::size_t limit) : kind_(Kind::feed), limit_(limit) {
  if (limit == 0) throw ValueError("Limit cannot be <= 0");
}

StreamTransport::StreamTransport(LoopCore& loop, UniqueFd fd, Kind kind, std::size_t limit)
    : loop_(&loop), fd_(std::move(fd)), kind_(kind), limit_(limit) {
  if (limit == 0) throw ValueError("Limit cannot be <= 0");
  io_.emplace(loop, fd_.get());
}

StreamTransport::~StreamTransport() {
  if (!closed_) close_now(nullptr);
}

// ------------------------------------------------------------------ read side

bool StreamTransport::try_fill() {
  check_error();
  if (eof_) return true;
  if (kind_ == Kind::feed) return false;
  if (closed_) {
    eof_ = true;
    return true;
  }
  if (tls_) return tls_fill();
  while (true) {
    char* room = rbuf_.prepare(read_chunk_);
    const std::size_t size = rbuf_.room();
    const ssize_t n = ::read(fd_.get(), room, size);
    if (n > 0) {
      rbuf_.commit(static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < size) {
        // A short read emptied the kernel's queue: the next read waits for the next edge
        // instead of trying a read(2) that would only fail with EAGAIN (libuv does the same).
        io_->clear_read_ready();
      } else if (read_chunk_ < max_read_chunk) {
        read_chunk_ *= 2;  // the kernel had at least as much as we asked for: ask for more
      }
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
    fail(errno, kind_ == Kind::socket ? "recv" : "read");
    check_error();
    return true;
  }
}

bool StreamTransport::at_eof() noexcept {
  if (rbuf_.empty() && !eof_ && !error_ && kind_ != Kind::feed) {
    try {
      try_fill();
    } catch (...) {  // kept in error_: the next read raises it
    }
  }
  return eof_ && rbuf_.empty();
}

void StreamTransport::feed_data(std::string_view data) {
  if (eof_) throw RuntimeError("feed_data after feed_eof");
  if (data.empty()) return;
  rbuf_.append(data);
  if (feed_waiter_ != nullptr) feed_waiter_->wake();
}

void StreamTransport::feed_eof() noexcept {
  eof_ = true;
  if (feed_waiter_ != nullptr) feed_waiter_->wake();
}

void StreamTransport::set_exception(std::exception_ptr e) noexcept {
  error_ = std::move(e);
  if (feed_waiter_ != nullptr) feed_waiter_->wake();
}

bool StreamTransport::DataAwaiter::await_ready() {
  while (true) {
    // With an fd known to be drained, go straight to waiting for its next edge.
    if (!t_->io_ || t_->io_->read_ready() || t_->tls_input_ || t_->eof_ || t_->error_ ||
        t_->closed_) {
      if (t_->try_fill()) return true;
      if (!t_->io_) return false;  // a feed transport: wait for feed_data / feed_eof
    }
    io_wait_.emplace(t_->io_->readable());
    if (!io_wait_->await_ready()) return false;
    io_wait_.reset();  // an edge came meanwhile: read again
  }
}

void StreamTransport::DataAwaiter::await_suspend(std::coroutine_handle<> h) {
  if (io_wait_) {
    io_wait_->await_suspend(h);
    return;
  }
  if (t_->feed_waiter_ != nullptr) {
    throw RuntimeError("another task is already waiting for incoming data on this stream");
  }
  park(h);
  t_->feed_waiter_ = this;
}

void StreamTransport::DataAwaiter::await_resume() {
  if (io_wait_) {
    io_wait_->await_resume();
  } else if (task_ != nullptr) {  // parked as a feed waiter (not when await_ready was true)
    detach();
    resume_check();
  }
}

bool StreamTransport::DataAwaiter::cancel() noexcept {
  if (!cancellable()) return false;
  detach();
  return cancelled_now();
}

// ------------------------------------------------------------------ write side

long StreamTransport::raw_write(const char* data, std::size_t size) noexcept {
  while (true) {
    if (kind_ != Kind::socket) return write_no_sigpipe(fd_.get(), data, size);  // EPIPE, no signal
    const ssize_t n = ::send(fd_.get(), data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0 || errno != EINTR) return static_cast<long>(n);
  }
}

long StreamTransport::raw_writev(std::span<const std::string_view> parts) noexcept {
  iovec iov[64];
  const std::size_t count = std::min<std::size_t>(parts.size(), 64);
  for (std::size_t i = 0; i < count; ++i) {
    iov[i].iov_base = const_cast<char*>(parts[i].data());
    iov[i].iov_len = parts[i].size();
  }
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  while (true) {
    const ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0 || errno != EINTR) return static_cast<long>(n);
  }
}

void StreamTransport::write(std::string_view data) {
  if (kind_ == Kind::feed) throw RuntimeError("this stream has no transport to write to");
  if (eof_written_) throw RuntimeError("Cannot call write() after write_eof()");
  if (data.empty() || closing_ || closed_) return;
  if (tls_) {
    try {
      tls_write(*tls_, data);
    } catch (...) {
      close_now(std::current_exception());  // raised by drain() and the reads
      return;
    }
    tls_flush_output();
    return;
  }
  send_bytes(data);
}

void StreamTransport::send_bytes(std::string_view data) {
  if (wbuf_.empty()) {
    const long n = raw_write(data.data(), data.size());
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        fail(errno, kind_ == Kind::socket ? "send" : "write");
        return;
      }
    } else {
      data.remove_prefix(static_cast<std::size_t>(n));
      if (data.empty()) return;
    }
  }
  queue_rest(data);
}

void StreamTransport::write_many(std::span<const std::string_view> parts) {
  if (kind_ == Kind::feed) throw RuntimeError("this stream has no transport to write to");
  if (eof_written_) throw RuntimeError("Cannot call write() after write_eof()");
  if (closing_ || closed_) return;
  if (tls_) {
    for (std::string_view p : parts) write(p);
    return;
  }
  std::size_t skip = 0;  // bytes of `parts` already sent
  if (wbuf_.empty() && kind_ == Kind::socket && parts.size() > 1) {
    const long n = raw_writev(parts);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        fail(errno, "sendmsg");
        return;
      }
    } else {
      skip = static_cast<std::size_t>(n);
    }
  } else if (parts.size() == 1) {
    write(parts[0]);
    return;
  }
  const bool was_empty = wbuf_.empty();
  for (std::string_view p : parts) {
    if (skip >= p.size()) {
      skip -= p.size();
      continue;
    }
    p.remove_prefix(skip);
    skip = 0;
    wbuf_.append(p);
  }
  if (wbuf_.empty()) return;
  if (was_empty && kind_ != Kind::socket) {
    // A pipe: one write of what was queued (writev on a pipe could raise SIGPIPE).
    const long n = raw_write(wbuf_.data(), wbuf_.size());
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      fail(errno, "write");
      return;
    }
    if (n > 0) wbuf_.consume(static_cast<std::size_t>(n));
    if (wbuf_.empty()) return;
  }
  queue_rest({});
}

void StreamTransport::queue_rest(std::string_view rest) {
  wbuf_.append(rest);
  if (wbuf_.size() > high_) paused_ = true;
  start_flusher();
}

asyncio::Task<> flush_loop(std::shared_ptr<StreamTransport> t) {
  struct Running {
    StreamTransport* t;
    ~Running() { t->flushing_ = false; }
  } running{t.get()};
  while (!t->closed_ && !t->wbuf_.empty()) {
    const long n = t->raw_write(t->wbuf_.data(), t->wbuf_.size());
    if (n > 0) {
      t->wbuf_.consume(static_cast<std::size_t>(n));
      t->after_progress();
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      t->fail(errno, t->kind_ == StreamTransport::Kind::socket ? "send" : "write");
      co_return;
    }
    co_await t->io_->writable();
  }
  t->flushing_ = false;
  if (!t->closed_) t->after_flush();
}

void StreamTransport::start_flusher() {
  if (flushing_ || closed_) return;
  flushing_ = true;
  try {
    asyncio::Task<> flusher = flush_loop(shared_from_this());
    flusher.core().start_task(*loop_, "pyconc.stream.flush");
  } catch (...) {
    flushing_ = false;
    throw;
  }
}

void StreamTransport::after_progress() noexcept {
  if (paused_ && wbuf_.size() <= low_) {
    paused_ = false;
    drainers_.wake_all();
  }
}

void StreamTransport::after_flush() noexcept {
  after_progress();
  if (eof_pending_) {
    eof_pending_ = false;
    if (kind_ == Kind::socket) {
      ::shutdown(fd_.get(), SHUT_WR);
    } else {
      close_now(nullptr);
      return;
    }
  }
  if (closing_) close_now(nullptr);
}

void StreamTransport::set_write_buffer_limits(std::optional<std::size_t> high,
                                              std::optional<std::size_t> low) {
  const std::size_t h = high ? *high : (low ? 4 * *low : default_high_water);
  const std::size_t l = low ? *low : h / 4;
  if (h < l) {
    throw ValueError("high (" + std::to_string(h) + ") must be >= low (" + std::to_string(l) + ")");
  }
  high_ = h;
  low_ = l;
  if (wbuf_.size() > high_) {
    paused_ = true;
  } else {
    after_progress();
  }
}

void StreamTransport::write_eof() {
  if (kind_ == Kind::feed) throw RuntimeError("this stream has no transport to write to");
  if (tls_) throw RuntimeError("SSL doesn't support half-closes");
  if (closing_ || closed_ || eof_written_) return;
  eof_written_ = true;
  if (wbuf_.empty() && !flushing_) {
    eof_pending_ = true;
    after_flush();
  } else {
    eof_pending_ = true;  // the flusher shuts down once the queue is sent
  }
}

// ------------------------------------------------------------------ closing

void StreamTransport::fail(int err, const char* op) noexcept {
  try {
    throw_os_error(err, op);
  } catch (...) {
    close_now(std::current_exception());
  }
}

void StreamTransport::close() noexcept {
  if (closing_ || closed_) return;
  if (tls_ && tls_handshake_done(*tls_)) {
    tls_shutdown(*tls_);  // close_notify goes out ahead of the FIN
    try {
      tls_flush_output();
    } catch (...) {  // out of memory queueing it: the peer sees a plain FIN
    }
  }
  closing_ = true;
  if (wbuf_.empty() && !flushing_) close_now(nullptr);
}

void StreamTransport::abort(std::exception_ptr error) noexcept {
  close_now(std::move(error));
}

void StreamTransport::close_now(std::exception_ptr error) noexcept {
  if (closed_) return;
  closed_ = true;
  closing_ = true;
  if (error && !error_) error_ = std::move(error);
  wbuf_.clear();
  paused_ = false;
  eof_ = true;            // nothing more comes in; what is buffered can still be read
  if (io_) io_->close();  // wakes a reader or the flusher parked on the fd
  fd_.reset();
  if (feed_waiter_ != nullptr) feed_waiter_->wake();
  drainers_.wake_all();
  closed_waiters_.wake_all();
  if (ConnectionOwner* owner = std::exchange(owner_, nullptr)) owner->connection_closed(*this);
}

void StreamTransport::DrainAwaiter::await_resume() {
  if (parked()) resume_check();
  t_->check_error();
  // Python: drain() on a closed stream raises ConnectionResetError('Connection lost'); a
  // drain that was waiting when the connection closed cleanly returns.
  if (t_->closed_ && !parked()) throw_os_error(ECONNRESET, "Connection lost");
}

// ------------------------------------------------------------------ TLS

bool StreamTransport::tls_fill() {
  while (true) {
    if (tls_input_) {
      TlsRead r;
      try {
        r = tls_read(*tls_, rbuf_);
        tls_flush_output();  // post-handshake messages may want an answer
      } catch (...) {
        close_now(std::current_exception());
        check_error();
        return true;
      }
      if (r == TlsRead::data) return true;
      if (r == TlsRead::eof) {  // the peer's close_notify
        eof_ = true;
        return true;
      }
      tls_input_ = false;
    }
    try {
      if (!tls_pull()) return false;
    } catch (const SSLEof&) {
      // The peer closed without close_notify: an EOF for the reader (Python's streams too).
      eof_ = true;
      return true;
    }
  }
}

bool StreamTransport::tls_pull() {
  char buf[32 * 1024];
  while (true) {
    const ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n > 0) {
      tls_feed(*tls_, buf, static_cast<std::size_t>(n));
      tls_input_ = true;
      if (static_cast<std::size_t>(n) < sizeof buf) io_->clear_read_ready();
      return true;
    }
    if (n == 0) throw SSLEof();
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
    fail(errno, "recv");
    check_error();
    return false;
  }
}

void StreamTransport::tls_flush_output() {
  std::string out = tls_take_output(*tls_);
  if (!out.empty() && !closed_) send_bytes(out);
}

asyncio::Task<> handshake_tls(std::shared_ptr<StreamTransport> t) {
  while (true) {
    TlsStep step;
    try {
      step = tls_handshake(*t->tls_);
    } catch (...) {
      t->tls_flush_output();  // the alert telling the peer why
      throw;
    }
    t->tls_flush_output();
    if (step == TlsStep::done) co_return;
    t->tls_input_ = false;
    bool fed = false;
    try {
      fed = t->tls_pull();
    } catch (const StreamTransport::SSLEof&) {
      tls_raise_eof_in_handshake();
    }
    if (!fed) co_await t->io_->readable();
    t->check_error();
  }
}

asyncio::Task<> run_handshake(std::shared_ptr<StreamTransport> t,
                              std::chrono::milliseconds timeout) {
  std::exception_ptr error;
  try {
    co_await asyncio::wait_for(handshake_tls(t), timeout);
    co_return;
  } catch (const TimeoutError&) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", static_cast<double>(timeout.count()) / 1000.0);
    error = std::make_exception_ptr(
        ConnectionAbortedError(ECONNABORTED,
                               std::string("SSL handshake is taking longer than ") + secs +
                                   " seconds: aborting the connection",
                               std::string()));
  } catch (const CancelledError&) {
    t->abort();
    throw;
  } catch (...) {
    error = std::current_exception();
  }
  t->abort(error);
  std::rethrow_exception(error);
}

// ------------------------------------------------------------------ extra info

std::optional<SockAddr> StreamTransport::peername() {
  if (!peer_ && kind_ == Kind::socket && fd_) peer_ = peer_address(fd_.get());
  return peer_;
}

std::optional<SockAddr> StreamTransport::sockname() {
  if (!local_ && kind_ == Kind::socket && fd_) local_ = local_address(fd_.get());
  return local_;
}

}  // namespace pyconc::detail
