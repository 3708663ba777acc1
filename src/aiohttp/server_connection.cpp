// HttpServerConnection (see server_connection.hpp).
#include "server_connection.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "pyconc/aiohttp/detail/http_response.hpp"
#include "pyconc/asyncio/stream_errors.hpp"

namespace pyconc::detail {

namespace aio = pyconc::asyncio;

void HttpServerConnection::detach() noexcept {
  gone_ = broken_ = closed_ = true;
  if (ws_) ws_->detach();
  ws_.reset();
}

// Sends from `data` what the socket takes now; returns how much, or -1 (and broken_) when
// the peer is gone.
std::ptrdiff_t HttpServerConnection::send_some(std::string_view data) noexcept {
  if (tls_) {
    // Encrypt all of it: the records wait in tls_out_ for the socket.
    try {
      tls_write(*tls_, data);
      tls_out_ += tls_take_output(*tls_);
    } catch (...) {
      broken_ = true;
      return -1;
    }
    return push_tls() ? static_cast<std::ptrdiff_t>(data.size()) : -1;
  }
  return send_raw(data);
}

std::ptrdiff_t HttpServerConnection::send_raw(std::string_view data) noexcept {
  std::size_t done = 0;
  while (done < data.size() && !broken_) {
    const ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      broken_ = true;
    }
  }
  return broken_ ? -1 : static_cast<std::ptrdiff_t>(done);
}

bool HttpServerConnection::push_tls() noexcept {
  const std::ptrdiff_t n = send_raw(std::string_view(tls_out_).substr(tls_sent_));
  if (n > 0) tls_sent_ += static_cast<std::size_t>(n);
  if (tls_sent_ == tls_out_.size()) {
    tls_out_.clear();
    tls_sent_ = 0;
  } else if (tls_sent_ > kHighWater && tls_sent_ > tls_out_.size() / 2) {
    tls_out_.erase(0, tls_sent_);
    tls_sent_ = 0;
  }
  return !broken_;
}

ssize_t HttpServerConnection::tls_recv(char* buf, std::size_t cap) {
  for (;;) {
    if (!tls_in_.empty()) {
      const std::size_t n = std::min(cap, tls_in_.size());
      std::memcpy(buf, tls_in_.data(), n);
      tls_in_.consume(n);
      return static_cast<ssize_t>(n);
    }
    if (tls_eof_) return 0;
    // The ciphertext goes through the caller's buffer on its way into the session.
    const ssize_t n = ::recv(fd_, buf, cap, 0);
    if (n <= 0) return n;  // EOF without close_notify counts as EOF: HTTP frames its messages
    try {
      tls_feed(*tls_, buf, static_cast<std::size_t>(n));
      if (tls_read(*tls_, tls_in_) == TlsRead::eof) tls_eof_ = true;
      // Post-handshake records (an alert, a KeyUpdate answer) go out at once.
      tls_out_ += tls_take_output(*tls_);
    } catch (const Error&) {
      errno = EPROTO;
      return -1;
    }
    if (!push_tls()) {
      errno = ECONNRESET;
      return -1;
    }
  }
}

aio::Task<bool> HttpServerConnection::handshake(char* buf, std::size_t cap) {
  for (;;) {
    TlsStep step = TlsStep::want_read;
    bool failed = false;
    try {
      step = tls_handshake(*tls_);
    } catch (const asyncio::SSLError& e) {
      failed = true;
      if (e.reason() == "HTTP_REQUEST") {
        // Someone spoke plain HTTP to the TLS port: tell them so, in the clear.
        static constexpr std::string_view kBody =
            "400: The plain HTTP request was sent to HTTPS port\n";
        std::string reply =
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Connection: close\r\nContent-Length: " +
            std::to_string(kBody.size()) + "\r\n\r\n";
        reply += kBody;
        tls_out_ = std::move(reply);  // instead of the alert
        tls_sent_ = 0;
      } else {
        tls_out_ += tls_take_output(*tls_);  // the alert, if any
      }
    }
    if (failed) {
      co_await flush();
      co_return false;
    }
    tls_out_ += tls_take_output(*tls_);
    if (!(co_await flush())) co_return false;
    if (step == TlsStep::done) {
      // The client may have sent its first request with its Finished message.
      try {
        if (tls_read(*tls_, tls_in_) == TlsRead::eof) tls_eof_ = true;
        tls_out_ += tls_take_output(*tls_);
      } catch (const Error&) {
        co_return false;
      }
      co_return push_tls();
    }
    const ssize_t n = ::recv(fd_, buf, cap, 0);
    if (n > 0) {
      try {
        tls_feed(*tls_, buf, static_cast<std::size_t>(n));
      } catch (const Error&) {
        co_return false;
      }
    } else if (n == 0) {
      co_return false;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      co_await io_.readable();
    } else if (errno != EINTR) {
      co_return false;
    }
  }
}

void HttpServerConnection::close_tls() noexcept {
  if (!tls_ || broken_ || gone_) return;
  tls_shutdown(*tls_);
  try {
    tls_out_ += tls_take_output(*tls_);
  } catch (...) {
    return;
  }
  push_tls();
}

bool HttpServerConnection::try_send() noexcept {
  if (gone_) return false;
  if (tls_ && sent_ == out_.size()) return push_tls();
  const std::ptrdiff_t n = send_some(std::string_view(out_).substr(sent_));
  if (n < 0) return false;
  sent_ += static_cast<std::size_t>(n);
  if (sent_ == out_.size()) {
    out_.clear();
    sent_ = 0;
  } else if (sent_ > kHighWater && sent_ > out_.size() / 2) {
    out_.erase(0, sent_);  // keep the queue from growing without bound at its front
    sent_ = 0;
  }
  return true;
}

aio::Task<bool> HttpServerConnection::flush() {
  if (!try_send()) co_return false;
  if (pending() == 0) co_return true;
  auto held = co_await drain_lock_.acquire();
  while (pending() > 0) {
    co_await io_.writable();
    if (!try_send()) co_return false;
  }
  co_return true;
}

void HttpServerConnection::write(std::string_view data) {
  if (broken_) throw ConnectionResetError(ECONNRESET, "Cannot write to closing transport");
  if (pending() == 0) {
    // Nothing queued: send straight from the caller's buffer, queue only the rest.
    out_.clear();
    sent_ = 0;
    const std::ptrdiff_t n = send_some(data);
    if (n < 0) throw ConnectionResetError(ECONNRESET, "Cannot write to closing transport");
    out_.append(data.substr(static_cast<std::size_t>(n)));
    return;
  }
  out_.append(data);
  try_send();
}

aio::Task<> HttpServerConnection::drain() {
  if (broken_) throw ConnectionResetError(ECONNRESET, "Cannot write to closing transport");
  if (!needs_drain()) co_return;
  auto held = co_await drain_lock_.acquire();
  while (needs_drain()) {
    co_await io_.writable();
    if (!try_send()) throw ConnectionResetError(ECONNRESET, "Connection lost");
  }
}

aio::Task<std::size_t> HttpServerConnection::read(std::string& buf) {
  if (!leftover_.empty()) {
    const std::size_t n = leftover_.size();
    buf.append(leftover_);
    leftover_.clear();
    co_return n;
  }
  constexpr std::size_t kChunk = 65536;
  // After a short read the socket is known to be empty: wait for the next edge instead of
  // asking recv(2) for the EAGAIN we already know about (one system call less per message).
  // (Under TLS decrypted bytes may be waiting whatever the socket says.)
  if (!io_.read_ready() && tls_in_.empty()) co_await io_.readable();
  if (!chunk_) chunk_ = std::make_unique_for_overwrite<char[]>(kChunk);  // never zero-filled
  for (;;) {
    if (closed_) co_return 0;
    const ssize_t n = recv_some(chunk_.get(), kChunk);
    const int err = errno;
    if (n > 0) {
      buf.append(chunk_.get(), static_cast<std::size_t>(n));
      if (!tls_ && static_cast<std::size_t>(n) < kChunk) io_.clear_read_ready();
      co_return static_cast<std::size_t>(n);
    }
    if (n == 0) co_return 0;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      co_await io_.readable();
      continue;
    }
    if (err == EPROTO) throw ConnectionResetError(ECONNRESET, "TLS error on the connection");
    raise_os_error(err, "recv");
  }
}

void HttpServerConnection::close() noexcept {
  if (closed_ || gone_) return;
  closed_ = true;
  // Wakes a read parked on the socket (it then sees closed_); what is queued is still sent
  // by the server before it closes the connection.
  ::shutdown(fd_, SHUT_RD);
}

aio::Task<> HttpServerConnection::write_body(std::string_view data) {
  if (!ex_.started) throw RuntimeError("Cannot call write() before prepare()");
  if (ex_.finished) throw RuntimeError("Cannot call write() after write_eof()");
  if (data.empty()) co_return;
  if (ex_.no_body) {
    if (ex_.head_request) co_return;  // HEAD: the same head as GET, no body
    throw RuntimeError("Cannot write a body: the response's status has none");
  }
  if (ex_.remaining) {
    if (data.size() > *ex_.remaining) {
      throw RuntimeError("StreamResponse.write(): " + std::to_string(data.size()) +
                         " bytes exceed the Content-Length (" + std::to_string(*ex_.remaining) +
                         " bytes left)");
    }
    *ex_.remaining -= data.size();
  }
  if (ex_.chunked) {
    std::array<char, 20> line;
    out_ += ChunkedEncoder::size_line(data.size(), line);
    out_ += data;
    out_ += ChunkedEncoder::kChunkEnd;
    try_send();
  } else {
    write(data);
  }
  if (broken_) throw ConnectionResetError(ECONNRESET, "Connection lost");
  if (needs_drain()) co_await drain();
}

aio::Task<> HttpServerConnection::write_eof(std::string_view data) {
  if (!ex_.started) throw RuntimeError("Cannot call write_eof() before prepare()");
  if (ex_.finished) co_return;
  if (!data.empty()) co_await write_body(data);
  ex_.finished = true;
  if (ex_.chunked && !ex_.no_body) out_ += "0\r\n\r\n";
  // A body shorter than its Content-Length cannot be followed by another response.
  if (ex_.remaining && *ex_.remaining > 0 && !ex_.no_body) ex_.must_close = true;
  try_send();
  if (needs_drain()) co_await drain();
}

aio::Task<> HttpServerConnection::write_file(int file_fd, std::uint64_t offset, std::uint64_t count,
                                             std::size_t chunk) {
  if (!ex_.started) throw RuntimeError("Cannot write a file before prepare()");
  if (ex_.finished) throw RuntimeError("Cannot write a file after write_eof()");
  if (count == 0 || ex_.no_body) co_return;
  // Small bodies ride in the batch with the head (one send); TLS must see the plaintext.
  constexpr std::uint64_t kSmall = 64 * 1024;
  if (!tls_ && !ex_.chunked && count > kSmall) {
    co_await sendfile_body(file_fd, offset, count);
    co_return;
  }
  std::string buf;
  while (count > 0) {
    buf.resize(static_cast<std::size_t>(
        std::min<std::uint64_t>(count, std::max<std::size_t>(chunk, 4096))));
    const ssize_t n = ::pread(file_fd, buf.data(), buf.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) raise_os_error(errno, "pread");
    if (n == 0) {
      ex_.must_close = true;
      throw OSError(EIO, "FileResponse: the file ended " + std::to_string(count) +
                             " bytes before its announced length");
    }
    buf.resize(static_cast<std::size_t>(n));
    co_await write_body(buf);
    offset += static_cast<std::uint64_t>(n);
    count -= static_cast<std::uint64_t>(n);
  }
}

aio::Task<> HttpServerConnection::sendfile_body(int file_fd, std::uint64_t offset,
                                                std::uint64_t count) {
  if (ex_.remaining) {
    if (count > *ex_.remaining) {
      throw RuntimeError("write_file(): " + std::to_string(count) +
                         " bytes exceed the Content-Length (" + std::to_string(*ex_.remaining) +
                         " bytes left)");
    }
    *ex_.remaining -= count;
  }
  // The head (and any pipelined answers before it) first, in order.
  if (!(co_await flush())) throw ConnectionResetError(ECONNRESET, "Connection lost");
  auto held = co_await drain_lock_.acquire();
  auto off = static_cast<off_t>(offset);
  while (count > 0) {
    if (gone_ || broken_) throw ConnectionResetError(ECONNRESET, "Connection lost");
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(count, 1U << 30));
    const ssize_t n = ::sendfile(fd_, file_fd, &off, want);
    if (n > 0) {
      count -= static_cast<std::uint64_t>(n);
    } else if (n == 0) {
      // The file shrank under us: the promised length cannot be kept.
      ex_.must_close = true;
      broken_ = true;
      throw OSError(EIO, "FileResponse: the file ended " + std::to_string(count) +
                             " bytes before its announced length");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      co_await io_.writable();
    } else if (errno != EINTR) {
      const int err = errno;
      broken_ = true;
      if (err == EPIPE || err == ECONNRESET) {
        throw ConnectionResetError(err, "Connection lost");
      }
      raise_os_error(err, "sendfile");
    }
  }
}

}  // namespace pyconc::detail
