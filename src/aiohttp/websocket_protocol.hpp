// WebSocketProtocol: one WebSocket connection after its handshake -- receive (with autoping,
// autoclose and the receive timeout), send, the closing handshake, the heartbeat -- over a
// WebSocketTransport: the server's connection (HttpServerConnection) or the client's asyncio
// streams. web::WebSocketResponse and ClientWebSocketResponse are thin handles on it.
// Private to src/aiohttp.
//
// Behaviour follows aiohttp's WebSocketResponse/ClientWebSocketResponse:
//   receive(): TEXT/BINARY/CLOSE (and PING/PONG without autoping). A CLOSE from the peer is
//   answered (autoclose) and returned; then CLOSED for every later call. A protocol violation
//   sends the close frame with its code (1002/1007/1009), closes the connection and returns
//   ERROR. The end of the connection without a close frame returns CLOSED (close code 1006).
//   close(code, reason): sends the close frame, waits (within `timeout`) for the peer's, then
//   closes the connection; false if already closed. With a receive() pending in another task
//   it lets that receive finish first (it returns the next message, often the peer's CLOSE).
//   heartbeat: a PING after `heartbeat` without any frame from the peer; no frame within half
//   of it after that closes the connection (1006, a TimeoutError in exception()).
//
// Thread safety: loop-thread only. One receive() at a time (RuntimeError otherwise); sends may
// come from several tasks -- each frame is written whole, in call order.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "pyconc/aiohttp/detail/websocket.hpp"
#include "pyconc/aiohttp/http_websocket.hpp"
#include "pyconc/asyncio/event.hpp"
#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/task.hpp"

namespace pyconc::detail {

// The byte stream under a WebSocket.
class WebSocketTransport {
 public:
  virtual ~WebSocketTransport() = default;
  // Queues `data` and sends what the socket takes now; never blocks. ConnectionResetError
  // once the connection is closed.
  virtual void write(std::string_view data) = 0;
  // Whether drain() would wait: more than the high-water mark is still queued.
  virtual bool needs_drain() const noexcept = 0;
  // Waits until the queue is below the high-water mark (backpressure from a slow reader).
  virtual asyncio::Task<> drain() = 0;
  // Reads at least one byte, appended to `buf`; 0 at EOF. ConnectionError on a reset.
  virtual asyncio::Task<std::size_t> read(std::string& buf) = 0;
  // Ends the connection now (what is queued is still sent when possible).
  virtual void close() noexcept = 0;
};

struct WebSocketProtocolOptions {
  bool client{false};  // our frames are masked, the peer's must not be
  std::size_t max_msg_size{4 << 20};
  bool autoping{true};
  bool autoclose{true};
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // closing handshake
  std::optional<std::chrono::milliseconds> receive_timeout{};
  std::optional<std::chrono::milliseconds> heartbeat{};
};

class WebSocketProtocol {
 public:
  // `transport` must outlive this object or be detached first (detach()). `initial`: bytes
  // that came with the handshake.
  WebSocketProtocol(WebSocketTransport& transport, WebSocketProtocolOptions options,
                    std::string_view initial = {});
  ~WebSocketProtocol();
  WebSocketProtocol(const WebSocketProtocol&) = delete;
  WebSocketProtocol& operator=(const WebSocketProtocol&) = delete;

  asyncio::Task<aiohttp::http::WSMessage> receive(
      std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // One frame of `opcode` (1 text, 2 binary, 9 ping, 10 pong), queued at once; the task
  // waits for the drain. ConnectionResetError once closed or closing; ValueError for a
  // control frame over 125 bytes (both raised by the call itself).
  asyncio::Task<> send_frame(unsigned opcode, std::string_view payload);
  asyncio::Task<> drain();
  asyncio::Task<bool> close(int code, std::string_view message);

  bool closed() const noexcept { return closed_; }
  // The code of the closing handshake (nullopt while open).
  std::optional<int> close_code() const noexcept { return close_code_; }
  std::exception_ptr exception() const noexcept { return exception_; }

  // The transport is going away (the server's connection ended): the protocol becomes closed
  // (1006 unless a code is known) and never touches it again.
  void detach() noexcept;

 private:
  // Waits for the next frame's worth of bytes and parses them; false at EOF.
  asyncio::Task<bool> read_more(std::optional<std::chrono::milliseconds> timeout);
  void send_now(unsigned opcode, std::string_view payload);
  void abort() noexcept;
  void arm_heartbeat();
  void on_ping_timer();
  void on_pong_timer();

  WebSocketTransport* t_;
  WebSocketProtocolOptions opt_;
  WebSocketParser parser_;
  std::string rbuf_;
  std::string frame_;  // scratch for outgoing frames
  bool reading_ = false;
  bool closed_ = false;   // our close frame is sent (or the connection is gone)
  bool closing_ = false;  // the peer's close frame arrived
  int closed_reads_ = 0;
  std::optional<int> close_code_;
  std::exception_ptr exception_;
  asyncio::Event read_done_;
  // Heartbeat: the last time a frame arrived; the ping and pong timers.
  asyncio::EventLoop* loop_ = nullptr;
  Clock::time_point last_rx_{};
  asyncio::Handle ping_timer_, pong_timer_;
  bool pong_wait_ = false;
};

}  // namespace pyconc::detail
