// HttpServerConnection (see server_connection.hpp).
#include "server_connection.hpp"

#include <sys/socket.h>

#include <array>
#include <cerrno>

#include "pyconc/aiohttp/detail/http_response.hpp"

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

bool HttpServerConnection::try_send() noexcept {
  if (gone_) return false;
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
  if (!io_.read_ready()) co_await io_.readable();
  if (!chunk_) chunk_ = std::make_unique_for_overwrite<char[]>(kChunk);  // never zero-filled
  for (;;) {
    if (closed_) co_return 0;
    const ssize_t n = ::recv(fd_, chunk_.get(), kChunk, 0);
    const int err = errno;
    if (n > 0) {
      buf.append(chunk_.get(), static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < kChunk) io_.clear_read_ready();
      co_return static_cast<std::size_t>(n);
    }
    if (n == 0) co_return 0;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      co_await io_.readable();
      continue;
    }
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

}  // namespace pyconc::detail
