// The WebSocket wire format: frame parser, frame writer, handshake keys (see
// pyconc/aiohttp/detail/websocket.hpp).
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <utility>

#include "pyconc/aiohttp/detail/websocket.hpp"

namespace pyconc::detail {

namespace http = aiohttp::http;

namespace {

constexpr unsigned kContinuation = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9,
                   kPong = 0xa;

static_assert(std::endian::native == std::endian::little, "apply_mask assumes little-endian");

// XOR `data` with the 4-byte `key`, starting at key byte `phase`; 8 bytes at a time.
void apply_mask(char* data, std::size_t n, const unsigned char key[4]) noexcept {
  std::uint64_t k8 = 0;
  for (int i = 0; i < 8; ++i) k8 |= static_cast<std::uint64_t>(key[i % 4]) << (8 * i);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= k8;  // little-endian: byte j of w is data[i + j], masked by key[j % 4]
    std::memcpy(data + i, &w, 8);
  }
  for (; i < n; ++i) data[i] = static_cast<char>(data[i] ^ key[i % 4]);
}

// Random masking keys, drawn from OpenSSL's CSPRNG in batches (RFC 6455 §5.3 asks for keys a
// peer cannot predict).
void random_key(unsigned char key[4]) {
  thread_local std::array<unsigned char, 4096> pool;
  thread_local std::size_t used = pool.size();
  if (used + 4 > pool.size()) {
    if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1) {
      throw RuntimeError("WebSocket: RAND_bytes failed");
    }
    used = 0;
  }
  std::memcpy(key, pool.data() + used, 4);
  used += 4;
}

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

}  // namespace

bool is_valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // ASCII runs, 8 bytes at a time.
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      if ((w & 0x8080808080808080ULL) != 0) break;
      p += 8;
    }
    if (p >= end) break;
    const unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    unsigned lo = 0x80, hi = 0xbf;  // bounds of the second byte (no overlongs, surrogates)
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (int i = 2; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
    }
    p += n + 1;
  }
  return true;
}

bool is_valid_close_code(int code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

void WebSocketParser::fail(int code, std::string message) {
  error_code_ = code;
  error_message_ = std::move(message);
  buf_.clear();
  pos_ = 0;
  message_.clear();
}

void WebSocketParser::feed(std::string_view data) {
  if (failed()) return;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  buf_.append(data);
  while (!failed() && parse_frame()) {
  }
  // Drop what was parsed once it is most of the buffer (amortised O(1) per byte).
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
}

bool WebSocketParser::parse_frame() {
  const std::size_t avail = buf_.size() - pos_;
  if (avail < 2) return false;
  const auto* h = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
  const bool fin = (h[0] & 0x80) != 0;
  const unsigned rsv = h[0] & 0x70;
  const unsigned opcode = h[0] & 0x0f;
  const bool masked = (h[1] & 0x80) != 0;
  std::uint64_t len = h[1] & 0x7f;
  // Everything the first two bytes decide, checked before waiting for more of the frame.
  if (rsv != 0) {
    fail(http::PROTOCOL_ERROR, "Received frame with non-zero reserved bits");
    return false;
  }
  const bool control = (opcode & 0x8) != 0;
  if (opcode != kContinuation && opcode != kText && opcode != kBinary && opcode != kClose &&
      opcode != kPing && opcode != kPong) {
    fail(http::PROTOCOL_ERROR, "Received frame with invalid opcode " + std::to_string(opcode));
    return false;
  }
  if (masked != opt_.masked) {
    fail(http::PROTOCOL_ERROR, masked ? "Received masked frame from the server"
                                      : "Received unmasked frame from the client");
    return false;
  }
  if (control && !fin) {
    fail(http::PROTOCOL_ERROR, "Received fragmented control frame");
    return false;
  }
  if (control && len > 125) {
    fail(http::PROTOCOL_ERROR, "Control frame payload cannot be larger than 125 bytes");
    return false;
  }
  if (opcode == kContinuation && message_op_ == 0) {
    fail(http::PROTOCOL_ERROR, "Continuation frame for non started message");
    return false;
  }
  if ((opcode == kText || opcode == kBinary) && message_op_ != 0) {
    fail(http::PROTOCOL_ERROR,
         "The opcode in non-fin frame is expected to be zero, got " + std::to_string(opcode));
    return false;
  }
  std::size_t head = 2;
  if (len == 126) {
    if (avail < 4) return false;
    len = (std::uint64_t{h[2]} << 8) | h[3];
    head = 4;
  } else if (len == 127) {
    if (avail < 10) return false;
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | h[2 + i];
    if ((len >> 63) != 0) {
      fail(http::PROTOCOL_ERROR, "Frame length has its most significant bit set");
      return false;
    }
    head = 10;
  }
  if (!control && opt_.max_msg_size != 0 &&
      (len > opt_.max_msg_size || message_.size() + len > opt_.max_msg_size)) {
    fail(http::MESSAGE_TOO_BIG, "Message size " + std::to_string(message_.size() + len) +
                                    " exceeds limit " + std::to_string(opt_.max_msg_size));
    return false;
  }
  const std::size_t mask_at = head;
  if (masked) head += 4;
  if (avail < head || avail - head < len) return false;
  char* payload = buf_.data() + pos_ + head;
  const auto n = static_cast<std::size_t>(len);
  if (masked) apply_mask(payload, n, h + mask_at);
  pos_ += head + n;
  if (control) {
    deliver(opcode, std::string(payload, n));
    return true;
  }
  if (message_op_ == 0 && fin) {  // a whole message in one frame: the common case
    deliver(opcode, std::string(payload, n));
    return true;
  }
  if (message_op_ == 0) message_op_ = opcode;
  message_.append(payload, n);
  if (fin) {
    const unsigned op = message_op_;
    message_op_ = 0;
    deliver(op, std::exchange(message_, std::string()));
  }
  return true;
}

void WebSocketParser::deliver(unsigned opcode, std::string payload) {
  http::WSMessage m;
  switch (opcode) {
    case kText:
      if (!is_valid_utf8(payload)) {
        fail(http::INVALID_TEXT, "Invalid UTF-8 text message");
        return;
      }
      m.type = http::WSMsgType::TEXT;
      m.data = std::move(payload);
      break;
    case kBinary:
      m.type = http::WSMsgType::BINARY;
      m.data = std::move(payload);
      break;
    case kPing:
      m.type = http::WSMsgType::PING;
      m.data = std::move(payload);
      break;
    case kPong:
      m.type = http::WSMsgType::PONG;
      m.data = std::move(payload);
      break;
    case kClose: {
      m.type = http::WSMsgType::CLOSE;
      if (payload.empty()) {
        m.code = http::NO_STATUS_RECEIVED;
      } else if (payload.size() == 1) {
        fail(http::PROTOCOL_ERROR, "Invalid close frame: 1 byte payload");
        return;
      } else {
        m.code =
            (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
        if (!is_valid_close_code(m.code)) {
          fail(http::PROTOCOL_ERROR, "Invalid close code: " + std::to_string(m.code));
          return;
        }
        m.extra = payload.substr(2);
        if (!is_valid_utf8(m.extra)) {
          fail(http::INVALID_TEXT, "Invalid UTF-8 in close reason");
          return;
        }
      }
      m.data = std::to_string(m.code);
      break;
    }
    default:
      return;
  }
  ready_.push_back(std::move(m));
}

bool WebSocketParser::next(http::WSMessage& out) {
  if (ready_.empty()) return false;
  out = std::move(ready_.front());
  ready_.pop_front();
  return true;
}

void append_websocket_frame(std::string& out, unsigned opcode, std::string_view payload, bool mask,
                            bool fin) {
  const std::size_t n = payload.size();
  unsigned char head[14];
  std::size_t h = 0;
  head[h++] = static_cast<unsigned char>((fin ? 0x80 : 0) | (opcode & 0x0f));
  const unsigned char mbit = mask ? 0x80 : 0;
  if (n < 126) {
    head[h++] = static_cast<unsigned char>(mbit | n);
  } else if (n <= 0xffff) {
    head[h++] = static_cast<unsigned char>(mbit | 126);
    head[h++] = static_cast<unsigned char>(n >> 8);
    head[h++] = static_cast<unsigned char>(n);
  } else {
    head[h++] = static_cast<unsigned char>(mbit | 127);
    for (int i = 7; i >= 0; --i)
      head[h++] = static_cast<unsigned char>(std::uint64_t{n} >> (8 * i));
  }
  unsigned char key[4] = {0, 0, 0, 0};
  if (mask) {
    random_key(key);
    std::memcpy(head + h, key, 4);
    h += 4;
  }
  const std::size_t at = out.size();
  out.append(reinterpret_cast<const char*>(head), h);
  out.append(payload);
  if (mask) apply_mask(out.data() + at + h, n, key);
}

std::string websocket_close_payload(int code, std::string_view reason) {
  if (code == 0) return {};
  std::string p;
  p.push_back(static_cast<char>((code >> 8) & 0xff));
  p.push_back(static_cast<char>(code & 0xff));
  // A control frame carries at most 125 bytes: cut the reason at a character boundary.
  std::size_t keep = std::min<std::size_t>(reason.size(), 123);
  while (keep > 0 && keep < reason.size() &&
         (static_cast<unsigned char>(reason[keep]) & 0xc0) == 0x80)
    --keep;
  p.append(reason.substr(0, keep));
  return p;
}

std::string websocket_accept(std::string_view key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string in(key);
  in += kGuid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest);
  return base64(digest, sizeof digest);
}

std::string websocket_key() {
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) throw RuntimeError("WebSocket: RAND_bytes failed");
  return base64(raw, sizeof raw);
}

bool is_valid_websocket_key(std::string_view key) noexcept {
  // 16 bytes are 24 base64 characters ending in "==".
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (std::size_t i = 0; i < 22; ++i) {
    const char c = key[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/';
    if (!ok) return false;
  }
  // The last character before "==" carries only 2 bits: its low 4 bits must be zero.
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  return (kAlphabet.find(key[21]) & 0x0f) == 0;
}

}  // namespace pyconc::detail

namespace pyconc::aiohttp::http {

std::string_view to_string(WSMsgType type) noexcept {
  switch (type) {
    case WSMsgType::CONTINUATION:
      return "CONTINUATION";
    case WSMsgType::TEXT:
      return "TEXT";
    case WSMsgType::BINARY:
      return "BINARY";
    case WSMsgType::PING:
      return "PING";
    case WSMsgType::PONG:
      return "PONG";
    case WSMsgType::CLOSE:
      return "CLOSE";
    case WSMsgType::CLOSING:
      return "CLOSING";
    case WSMsgType::CLOSED:
      return "CLOSED";
    case WSMsgType::ERROR:
      return "ERROR";
  }
  return "?";
}

}  // namespace pyconc::aiohttp::http
