// pyconc/asyncio/detail/stream_transport.hpp -- the state a StreamReader and a StreamWriter of
// one connection (or one pipe) share: the fd and its single IoHandle registration, the read
// buffer, the write buffer with its flow control, and the connection's fate.
//
// Python: a selector transport plus StreamReaderProtocol, folded into one object. Reading is
// pulled, not pushed: bytes are read from the fd only when a read operation needs more than
// the buffer holds (one read(2) into the buffer's free room, no copy per chunk), so a reader
// that stops reading stops the peer through TCP's own flow control -- Python pauses the
// transport at twice the limit to the same effect. Writing is pushed: write() calls send(2)
// at once when nothing is queued, queues the rest, and a flusher task (started only when bytes
// remain queued) sends them as the fd turns writable. The writer is "paused" (drain() parks)
// while more than the high-water mark is queued, until the queue falls to the low-water mark.
//
// TLS: after start_tls() and a successful handshake_tls(), the same operations carry plaintext:
// reads pull ciphertext from the fd into the TlsSession and decrypt all of it into the read
// buffer; writes encrypt and queue the records on the ordinary write path; close() sends
// close_notify first (see detail/tls.hpp).
//
// Lifetime: shared (std::shared_ptr) by the reader, the writer and a running flusher; the fd
// is closed by close() (after the queue is flushed), by a fatal error, or when the last owner
// goes. Transports belong to their loop: close or drop them before the loop closes.
// Thread safety: loop-thread only.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "pyconc/asyncio/detail/byte_buffer.hpp"
#include "pyconc/asyncio/detail/event_waiters.hpp"
#include "pyconc/asyncio/detail/io_handle.hpp"
#include "pyconc/asyncio/detail/loop_core.hpp"
#include "pyconc/asyncio/detail/socket.hpp"
#include "pyconc/asyncio/detail/task_core.hpp"
#include "pyconc/asyncio/detail/tls.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/unique_fd.hpp"

namespace pyconc::detail {

class StreamTransport;

// Told when one of its transports is closed (a server counts its live connections).
class ConnectionOwner {
 public:
  virtual void connection_closed(StreamTransport& t) noexcept = 0;

 protected:
  ~ConnectionOwner() = default;
};

class StreamTransport : public std::enable_shared_from_this<StreamTransport> {
 public:
  enum class Kind : std::uint8_t {
    socket,  // a connected stream socket: send(MSG_NOSIGNAL), shutdown(SHUT_WR) for write_eof
    pipe,    // one end of a pipe: write_eof closes it; EPIPE raised as an error, never SIGPIPE
    feed,    // no fd: bytes come from feed_data() (Python's StreamReader() on its own)
  };
  static constexpr std::size_t default_limit = 64 * 1024;       // Python's _DEFAULT_LIMIT
  static constexpr std::size_t default_high_water = 64 * 1024;  // Python's transports

  // A transport without fd (Kind::feed).
  explicit StreamTransport(std::size_t limit);
  // Takes `fd` (non-blocking) and registers it with `loop` once, edge-triggered.
  StreamTransport(LoopCore& loop, UniqueFd fd, Kind kind, std::size_t limit);
  StreamTransport(const StreamTransport&) = delete;
  StreamTransport& operator=(const StreamTransport&) = delete;
  ~StreamTransport();

  Kind kind() const noexcept { return kind_; }
  int fd() const noexcept { return fd_.get(); }
  // The fd's registration (null for a feed transport), e.g. to connect the socket.
  IoHandle* io() noexcept { return io_ ? &*io_ : nullptr; }
  std::size_t limit() const noexcept { return limit_; }

  // ------------------------------------------------------------------ read side
  ByteBuffer& rbuf() noexcept { return rbuf_; }
  bool eof() const noexcept { return eof_; }
  // Raises the error the connection failed with, if any (Python: the reader's exception()).
  void check_error() const {
    if (error_) std::rethrow_exception(error_);
  }
  const std::exception_ptr& error() const noexcept { return error_; }
  // One read(2) into the buffer: true when bytes came or EOF was seen, false on EAGAIN (and
  // always false for a feed transport, whose bytes come from feed_data). Raises the error of a
  // failed read (the connection is then closed and the error kept for later calls).
  bool try_fill();
  // Python's StreamReader.at_eof(): EOF seen and the buffer empty. Peeks once at the fd
  // (without blocking) when the buffer is empty, so that a peer's close is noticed.
  bool at_eof() noexcept;
  void feed_data(std::string_view data);
  void feed_eof() noexcept;
  void set_exception(std::exception_ptr e) noexcept;

  // Awaited when a read needs more bytes than buffered: returns once the buffer grew, EOF was
  // seen or an error happened (re-check all three). One reader at a time (RuntimeError).
  class [[nodiscard]] DataAwaiter;
  DataAwaiter wait_for_data() noexcept;

  // ------------------------------------------------------------------ write side
  // Python's transport.write(): sends at once when nothing is queued, queues the rest. Never
  // raises for a connection failure (the error is raised by drain()); RuntimeError after
  // write_eof(). Dropped silently after close() or once the connection is lost.
  void write(std::string_view data);
  // The same for several buffers (one writev/sendmsg when nothing is queued).
  void write_many(std::span<const std::string_view> parts);
  std::size_t write_buffer_size() const noexcept { return wbuf_.size(); }
  // Python's transport.set_write_buffer_limits(high, low): low defaults to high / 4.
  void set_write_buffer_limits(std::optional<std::size_t> high, std::optional<std::size_t> low);
  std::size_t high_water() const noexcept { return high_; }
  std::size_t low_water() const noexcept { return low_; }
  bool can_write_eof() const noexcept { return kind_ != Kind::feed && !tls_; }
  // Python's write_eof(): shuts down the sending side once the queue is flushed (a pipe is
  // closed instead).
  void write_eof();

  class [[nodiscard]] DrainAwaiter;
  DrainAwaiter drain() noexcept;

  // ------------------------------------------------------------------ closing
  // Python's transport.close(): no more writes; the queue is flushed, then the fd is closed.
  void close() noexcept;
  // Python's transport.abort(): closes now, dropping the queue; `error` (may be null) is what
  // the reader, drain() and wait_closed() raise from now on.
  void abort(std::exception_ptr error = nullptr) noexcept;
  bool is_closing() const noexcept { return closing_ || closed_; }
  bool closed() const noexcept { return closed_; }

  class ClosedAwaiter;
  ClosedAwaiter wait_closed() noexcept;

  // ------------------------------------------------------------------ TLS
  // Makes this socket transport a TLS one; handshake_tls() must then complete before use.
  void start_tls(TlsSessionPtr session) noexcept { tls_ = std::move(session); }
  bool is_tls() const noexcept { return static_cast<bool>(tls_); }

  // ------------------------------------------------------------------ extra info
  std::optional<SockAddr> peername();
  std::optional<SockAddr> sockname();
  void set_peername(const SockAddr& a) { peer_ = a; }

  void set_owner(ConnectionOwner* owner) noexcept { owner_ = owner; }
  StreamTransport* next_conn_ = nullptr;  // the owner's list of live connections
  StreamTransport* prev_conn_ = nullptr;

 private:
  friend asyncio::Task<> flush_loop(std::shared_ptr<StreamTransport> t);
  friend asyncio::Task<> handshake_tls(std::shared_ptr<StreamTransport> t);

  // The body of write() once the checks passed: send now, queue the rest (ciphertext for TLS).
  void send_bytes(std::string_view data);
  struct SSLEof {};  // tls_pull: the fd reached EOF
  // TLS: try_fill's work (decrypt what was fed, pull more ciphertext from the fd).
  bool tls_fill();
  // TLS: one read(2) of ciphertext fed to the session. True when bytes came, false on
  // EAGAIN; raises SSLEof at the fd's EOF, OSError on a read error.
  bool tls_pull();
  // TLS: sends what the session produced (records, alerts, close_notify).
  void tls_flush_output();

  // write(2)/send(2) without SIGPIPE: bytes written, or -1 with errno.
  long raw_write(const char* data, std::size_t size) noexcept;
  long raw_writev(std::span<const std::string_view> parts) noexcept;
  void queue_rest(std::string_view rest);
  void start_flusher();
  void after_progress() noexcept;  // resumes drain() below the low-water mark
  void after_flush() noexcept;     // the queue went empty: pending write_eof / close
  // The fd failed with `err` during `op`: the connection is lost with that error.
  void fail(int err, const char* op) noexcept;
  void close_now(std::exception_ptr error) noexcept;

  LoopCore* loop_ = nullptr;
  UniqueFd fd_;
  std::optional<IoHandle> io_;
  Kind kind_;
  std::size_t limit_;
  ByteBuffer rbuf_;
  ByteBuffer wbuf_;
  std::size_t read_chunk_ = 16 * 1024;
  std::size_t high_ = default_high_water;
  std::size_t low_ = default_high_water / 4;
  std::exception_ptr error_;
  StreamTransport::DataAwaiter* feed_waiter_ = nullptr;
  EventWaitList drainers_;
  EventWaitList closed_waiters_;
  std::optional<SockAddr> peer_;
  std::optional<SockAddr> local_;
  ConnectionOwner* owner_ = nullptr;
  TlsSessionPtr tls_;
  bool tls_input_ = false;    // TLS: ciphertext was fed that may hold more plaintext
  bool eof_ = false;          // read side: EOF seen (or fed)
  bool paused_ = false;       // write side: above the high-water mark
  bool flushing_ = false;     // a flusher task runs
  bool eof_pending_ = false;  // write_eof() called: shut down once flushed
  bool eof_written_ = false;  // write_eof() called (writes now raise)
  bool closing_ = false;      // close() called
  bool closed_ = false;       // fd closed: the connection is lost
};

class StreamTransport::DataAwaiter final : public SuspendPoint {
 public:
  explicit DataAwaiter(StreamTransport& t) noexcept : t_(&t) {}
  DataAwaiter(DataAwaiter&& o) noexcept : t_(o.t_) {}
  ~DataAwaiter() { detach(); }

  bool await_ready();
  void await_suspend(std::coroutine_handle<> h);
  void await_resume();
  bool cancel() noexcept override;
  void wake() noexcept {
    detach();
    complete();
  }

 private:
  void detach() noexcept {
    if (t_->feed_waiter_ == this) t_->feed_waiter_ = nullptr;
  }
  StreamTransport* t_;
  std::optional<IoHandle::Awaiter> io_wait_;
};

// drain(): parks while the writer is paused; raises the connection's error, or
// ConnectionResetError("Connection lost") once it is closed.
class StreamTransport::DrainAwaiter final : public EventWaiter {
 public:
  explicit DrainAwaiter(std::shared_ptr<StreamTransport> t) noexcept : t_(std::move(t)) {}
  DrainAwaiter(DrainAwaiter&& o) noexcept : t_(std::move(o.t_)) {}
  bool await_ready() const noexcept { return t_->error_ || t_->closed_ || !t_->paused_; }
  void await_suspend(std::coroutine_handle<> h) { wait_on(t_->drainers_, h); }
  void await_resume();

 private:
  std::shared_ptr<StreamTransport> t_;
};

// wait_closed(): parks until the fd is closed; raises the error the connection was lost with.
class StreamTransport::ClosedAwaiter final : public EventWaiter {
 public:
  explicit ClosedAwaiter(std::shared_ptr<StreamTransport> t) noexcept : t_(std::move(t)) {}
  ClosedAwaiter(ClosedAwaiter&& o) noexcept : t_(std::move(o.t_)) {}
  bool await_ready() const noexcept { return t_->closed_; }
  void await_suspend(std::coroutine_handle<> h) { wait_on(t_->closed_waiters_, h); }
  void await_resume() {
    if (parked()) resume_check();
    t_->check_error();
  }

 private:
  std::shared_ptr<StreamTransport> t_;
};

// The TLS handshake of a transport after start_tls() (SSLError, SSLCertVerificationError,
// OSError; the caller bounds it with a timeout and aborts the transport on failure).
asyncio::Task<> handshake_tls(std::shared_ptr<StreamTransport> t);

// Python's default ssl_handshake_timeout.
inline constexpr std::chrono::milliseconds default_handshake_timeout{60'000};
// handshake_tls bounded by `timeout`: ConnectionAbortedError when it expires (Python's
// words). On any failure the transport is aborted with the error, then the error is raised.
asyncio::Task<> run_handshake(std::shared_ptr<StreamTransport> t,
                              std::chrono::milliseconds timeout);

inline StreamTransport::DataAwaiter StreamTransport::wait_for_data() noexcept {
  return DataAwaiter(*this);
}
inline StreamTransport::DrainAwaiter StreamTransport::drain() noexcept {
  return DrainAwaiter(shared_from_this());
}
inline StreamTransport::ClosedAwaiter StreamTransport::wait_closed() noexcept {
  return ClosedAwaiter(shared_from_this());
}

}  // namespace pyconc::detail
