// pyconc/aiohttp/detail/websocket.hpp -- the WebSocket wire format (RFC 6455 §5): frame
// parser with message reassembly and validation, frame writer with masking, the handshake's
// Sec-WebSocket-Accept.
//
// Python: aiohttp/http_websocket.py's WebSocketReader and WebSocketWriter; difference: plain
// codecs over byte buffers, with no I/O (the protocol in src/aiohttp does the I/O).
//
// WebSocketParser takes the bytes of one direction of a connection in chunks of any size and
// yields whole messages: fragments are joined, control frames (PING/PONG/CLOSE) between the
// fragments of a message are yielded at once. A violation stops it for good -- failed() is
// true, error_code()/error_message() say how to close (RFC 6455 §7.4.1):
//   reserved opcode, RSV1-3 set (no extension is negotiated), mask bit wrong for the
//   direction (a client must mask, a server must not), control frame fragmented or longer
//   than 125 bytes, continuation without a started message, a data frame inside a
//   fragmented message, 64-bit length with the top bit set, close frame with 1 byte or an
//   invalid code                                                                     -> 1002
//   TEXT message (joined across fragments) or close reason that is not UTF-8          -> 1007
//   message larger than max_msg_size (checked from the frame headers, before buffering) -> 1009
// Messages completed before a violation can still be taken.
//
// Thread safety: one parser per connection direction, used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "pyconc/aiohttp/http_websocket.hpp"

namespace pyconc::detail {

// What the parser accepts; at namespace scope for designated initializers.
struct WebSocketParserOptions {
  bool masked{true};                  // true: frames come from a client and must be masked
  std::size_t max_msg_size{4 << 20};  // 0: no limit
};

class WebSocketParser {
 public:
  explicit WebSocketParser(WebSocketParserOptions options = {}) : opt_(options) {}

  // Parses `data`; completed messages queue up for next(). Nothing happens after failed().
  void feed(std::string_view data);
  // The oldest completed message, moved into `out`; false if none.
  bool next(aiohttp::http::WSMessage& out);
  std::size_t ready() const noexcept { return ready_.size(); }

  bool failed() const noexcept { return error_code_ != 0; }
  int error_code() const noexcept { return error_code_; }
  const std::string& error_message() const noexcept { return error_message_; }

 private:
  // Parses one frame from the front of buf_[pos_..]; false when more bytes are needed.
  bool parse_frame();
  void fail(int code, std::string message);
  void deliver(unsigned opcode, std::string payload);

  WebSocketParserOptions opt_;
  std::string buf_;          // unparsed bytes
  std::size_t pos_ = 0;      // parsed up to here
  std::string message_;      // fragments of the current data message
  unsigned message_op_ = 0;  // its opcode (TEXT/BINARY), 0 = none in progress
  std::deque<aiohttp::http::WSMessage> ready_;
  int error_code_ = 0;
  std::string error_message_;
};

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool is_valid_utf8(std::string_view s) noexcept;

// Appends one frame to `out`: FIN + `opcode`, the length, and `payload` -- masked with a fresh
// random key when `mask` is true (a client's frames, RFC 6455 §5.3).
void append_websocket_frame(std::string& out, unsigned opcode, std::string_view payload, bool mask,
                            bool fin = true);
// The payload of a close frame: the code (big-endian) and the reason, truncated to fit 125
// bytes. An empty payload for code 0.
std::string websocket_close_payload(int code, std::string_view reason);
// Whether `code` may appear in a close frame (1000-1003, 1007-1014, 3000-4999).
bool is_valid_close_code(int code) noexcept;

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)).
std::string websocket_accept(std::string_view key);
// A fresh Sec-WebSocket-Key: base64 of 16 random bytes.
std::string websocket_key();
// Whether `key` is base64 of exactly 16 bytes (what a handshake must carry).
bool is_valid_websocket_key(std::string_view key) noexcept;

}  // namespace pyconc::detail
