// HttpServerConnection: the socket of one server connection as its handlers see it -- the
// queue of response bytes the server batches (pipelined answers in order), the state of the
// response being streamed by a web::StreamResponse (head sent, chunked or Content-Length, EOF)
// and, after a WebSocket handshake, the transport of the WebSocketProtocol. Private to
// src/aiohttp: http_server.cpp owns one per connection, web::StreamResponse and
// web::WebSocketResponse reach it through Request::connection().
//
// Writes never block: write() queues and sends what the socket takes now; drain() waits while
// more than kHighWater bytes are queued, which is how a slow reader holds back a handler.
//
// TLS (a site with an SSLContext): start_tls() before the first read puts a TlsSession (memory
// BIOs, pyconc/asyncio/detail/tls.hpp) between this object and the socket. recv_some() then
// hands out decrypted bytes and send_some() encrypts everything it is given into a queue of
// ciphertext that try_send()/flush()/drain() push exactly as they push plain bytes, so the
// server's loop and the handlers see the same API either way. A plain connection only pays
// one test of a null pointer per call.
//
// Thread safety: loop-thread only, like the connection's task.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pyconc/asyncio/detail/byte_buffer.hpp"
#include "pyconc/asyncio/detail/io_handle.hpp"
#include "pyconc/asyncio/detail/tls.hpp"
#include "pyconc/asyncio/lock.hpp"
#include "websocket_protocol.hpp"

namespace pyconc::detail {

class HttpServerConnection final : public WebSocketTransport {
 public:
  static constexpr std::size_t kHighWater = 65536;

  HttpServerConnection(int fd, IoHandle& io, std::string_view server_header)
      : fd_(fd), io_(io), server_header_(server_header) {}

  // The Server header value ("" for none).
  std::string_view server_header() const noexcept { return server_header_; }
  // The connection's task is ending (socket and IoHandle go away): every later call raises
  // ConnectionResetError or reads EOF; a WebSocket on it becomes closed.
  void detach() noexcept;
  bool gone() const noexcept { return gone_; }

  // The response to the request being handled, when a handler streams it.
  struct Exchange {
    bool head_request = false;  // HEAD: the body is not sent
    int version_minor = 1;
    bool keep_alive = true;  // the request allows another one after it
    bool started = false;    // a StreamResponse sent the head (prepare())
    bool finished = false;   // write_eof() done
    bool no_body = false;    // 1xx/204/304, or HEAD
    bool chunked = false;
    std::optional<std::uint64_t> remaining;  // Content-Length still to write
    bool must_close = false;                 // the body ends with the connection
    bool upgraded = false;                   // a WebSocket took over the connection
  };
  Exchange& exchange() noexcept { return ex_; }
  // A new request: forget the previous exchange.
  void begin(bool head_request, int version_minor, bool keep_alive) {
    ex_ = Exchange{
        .head_request = head_request, .version_minor = version_minor, .keep_alive = keep_alive};
  }

  // --- TLS ---
  // Serve this connection over TLS with `session` (a server session): call before any read.
  void start_tls(TlsSessionPtr session) { tls_ = std::move(session); }
  bool is_tls() const noexcept { return tls_ != nullptr; }
  // Runs the TLS handshake, bounded by the caller's deadline. False when it failed or the peer
  // left; a plain HTTP request sent to this TLS port gets a cleartext 400 first (as nginx).
  // `buf` is scratch space for the ciphertext read.
  asyncio::Task<bool> handshake(char* buf, std::size_t cap);
  // Queues the TLS close_notify and tries once to send it (no-op on plain connections).
  void close_tls() noexcept;

  // One read: > 0 bytes (decrypted under TLS) copied to `buf`, 0 at the end of the stream, -1
  // with errno set (EAGAIN: nothing now; EPROTO: a TLS error).
  ssize_t recv_some(char* buf, std::size_t cap) {
    if (!tls_) return ::recv(fd_, buf, cap, 0);
    return tls_recv(buf, cap);
  }

  // The bytes queued for the socket (the server appends whole responses here).
  std::string& out() noexcept { return out_; }
  std::size_t pending() const noexcept {
    return out_.size() - sent_ + (tls_out_.size() - tls_sent_);
  }
  // Sends everything queued, parking while the socket is full; false if the peer is gone.
  asyncio::Task<bool> flush();
  // One non-blocking send of what is queued (the common case needs no more); false if the
  // peer is gone.
  bool try_send() noexcept;

  // A streamed body: the head was appended to out() by the caller.
  asyncio::Task<> write_body(std::string_view data);
  asyncio::Task<> write_eof(std::string_view data);
  // A streamed body from a file: `count` bytes of `file_fd` from `offset` (the file position
  // is not used). On a plain connection, sendfile(2) once the queued head has gone; under TLS
  // and for small bodies, pread(2) and write_body(). OSError if the file ends early (the
  // connection then closes after the response).
  // `chunk`: the size of each read under TLS.
  asyncio::Task<> write_file(int file_fd, std::uint64_t offset, std::uint64_t count,
                             std::size_t chunk = 256 * 1024);

  // Bytes that followed an upgrade request in the same read: the new protocol's first bytes.
  std::string& leftover() noexcept { return leftover_; }
  std::shared_ptr<WebSocketProtocol>& websocket() noexcept { return ws_; }

  // WebSocketTransport
  void write(std::string_view data) override;
  bool needs_drain() const noexcept override { return pending() > kHighWater; }
  asyncio::Task<> drain() override;
  asyncio::Task<std::size_t> read(std::string& buf) override;
  void close() noexcept override;

  bool broken() const noexcept { return broken_; }

 private:
  std::ptrdiff_t send_some(std::string_view data) noexcept;
  // What the socket takes of `data` now (no TLS); -1 (and broken_) when the peer is gone.
  std::ptrdiff_t send_raw(std::string_view data) noexcept;
  ssize_t tls_recv(char* buf, std::size_t cap);
  // Sends the queued ciphertext the socket takes now; false (and broken_) if the peer is gone.
  bool push_tls() noexcept;
  asyncio::Task<> sendfile_body(int file_fd, std::uint64_t offset, std::uint64_t count);

  int fd_;
  IoHandle& io_;
  std::string_view server_header_;
  bool gone_ = false;
  std::string out_;
  std::size_t sent_ = 0;      // out_[0, sent_) is on the wire
  bool broken_ = false;       // a send failed (reset, EPIPE)
  bool closed_ = false;       // close(): no more reads
  asyncio::Lock drain_lock_;  // one task at a time parks on the socket's writability
  Exchange ex_;
  std::string leftover_;
  std::unique_ptr<char[]> chunk_;  // read buffer of a WebSocket, allocated on first read
  std::shared_ptr<WebSocketProtocol> ws_;
  // TLS only: the session, decrypted bytes not yet handed out, ciphertext not yet sent.
  TlsSessionPtr tls_;
  ByteBuffer tls_in_;
  std::string tls_out_;
  std::size_t tls_sent_ = 0;
  bool tls_eof_ = false;
};

}  // namespace pyconc::detail
