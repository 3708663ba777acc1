// pyconc/aiohttp/http_websocket.hpp -- WebSocket messages and close codes (RFC 6455), shared by
// the server's web::WebSocketResponse and the client's ClientWebSocketResponse.
//
// Python: aiohttp.http.WSMsgType, aiohttp.http.WSMessage, aiohttp.http.WSCloseCode,
// aiohttp.http.WebSocketError.
//   auto msg = co_await ws.receive();
//   if (msg.type == http::WSMsgType::TEXT) co_await ws.send_str(msg.data);
//   else if (msg.type == http::WSMsgType::CLOSE) { msg.code; msg.extra; }  // code and reason
// Differences: WSMessage's `data` is always bytes (std::string). For CLOSE, aiohttp's int code
// is `code` (and `data` holds it in decimal), the reason is `extra`; an ERROR message carries
// the exception in `exception` and its text in `data`. A close frame without a code gives
// 1005 (NO_STATUS_RECEIVED, as RFC 6455 §7.1.5 says), where aiohttp gives 0.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "pyconc/errors.hpp"

namespace pyconc::aiohttp::http {

// The kind of a received message; the first six are the frame opcodes.
enum class WSMsgType : std::uint16_t {
  CONTINUATION = 0x0,
  TEXT = 0x1,
  BINARY = 0x2,
  PING = 0x9,
  PONG = 0xa,
  CLOSE = 0x8,
  CLOSING = 0x100,  // our side sent a close frame; the peer's answer is awaited
  CLOSED = 0x101,   // the connection is closed: no more messages
  ERROR = 0x102,    // the peer broke the protocol (see exception); the connection is closed
};

// "TEXT", "BINARY", ... (for messages and test output).
std::string_view to_string(WSMsgType type) noexcept;

// Python: aiohttp.WSCloseCode (RFC 6455 §7.4.1).
enum WSCloseCode : int {
  OK = 1000,
  GOING_AWAY = 1001,
  PROTOCOL_ERROR = 1002,
  UNSUPPORTED_DATA = 1003,
  NO_STATUS_RECEIVED = 1005,  // never sent: a close frame without a code
  ABNORMAL_CLOSURE = 1006,    // never sent: the connection ended without a close frame
  INVALID_TEXT = 1007,
  POLICY_VIOLATION = 1008,
  MESSAGE_TOO_BIG = 1009,
  MANDATORY_EXTENSION = 1010,
  INTERNAL_ERROR = 1011,
  SERVICE_RESTART = 1012,
  TRY_AGAIN_LATER = 1013,
  BAD_GATEWAY = 1014,
};

// One received message.
struct WSMessage {
  WSMsgType type{WSMsgType::CLOSED};
  // TEXT (valid UTF-8) / BINARY payload, PING/PONG payload; CLOSE: the code in decimal;
  // ERROR: the exception's text.
  std::string data{};
  // CLOSE: the reason the peer gave.
  std::string extra{};
  // CLOSE: the close code (1005 when the frame had none).
  int code{0};
  // ERROR: what went wrong (a WebSocketError, TimeoutError, ConnectionError, ...).
  std::exception_ptr exception{};
};

// Python: aiohttp.http.WebSocketError -- the peer broke RFC 6455; code() is the close code we
// answered with (1002 protocol error, 1007 invalid UTF-8, 1009 message too big).
class WebSocketError : public Error {
 public:
  WebSocketError(int code, const std::string& message) : Error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

}  // namespace pyconc::aiohttp::http
