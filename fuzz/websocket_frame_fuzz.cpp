// libFuzzer target for the WebSocket frame parser (pyconc::detail::WebSocketParser).
//
// Input: byte 0 picks the direction and the size limit (bit 0: frames from a client, which
// must be masked; bit 1: a 64-byte max_msg_size, which reaches the 1009 paths), byte 1 seeds
// the chunking, the rest is the byte stream of one direction of a connection. The bytes are
// parsed three ways -- whole, one byte at a time, in uneven chunks -- and must give the same
// messages and the same verdict. Every message must respect the protocol: TEXT and close
// reasons are UTF-8, control payloads at most 125 bytes, close codes sendable, data within the
// limit; a verdict is 1002, 1007 or 1009. The messages, written again by the frame writer and
// parsed, must come back unchanged. A failed check aborts, which libFuzzer reports with the
// input. Run by `make fuzz`.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "pyconc/aiohttp/detail/websocket.hpp"

namespace {

namespace http = pyconc::aiohttp::http;
using pyconc::detail::WebSocketParser;
using pyconc::detail::WebSocketParserOptions;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "websocket_frame_fuzz: %s\n", what);
    std::abort();
  }
}

struct Outcome {
  std::vector<std::string> messages;  // type, code, data and extra of each message
  int error = 0;
  bool operator==(const Outcome&) const = default;
};

std::string render(const http::WSMessage& m) {
  return std::to_string(static_cast<int>(m.type)) + "/" + std::to_string(m.code) + "/" +
         std::to_string(m.data.size()) + ":" + m.data + "/" + m.extra;
}

Outcome drain(WebSocketParser& p, const WebSocketParserOptions& opt,
              std::vector<http::WSMessage>* keep = nullptr) {
  Outcome o;
  http::WSMessage m;
  while (p.next(m)) {
    switch (m.type) {
      case http::WSMsgType::TEXT:
        check(pyconc::detail::is_valid_utf8(m.data), "TEXT message that is not UTF-8");
        [[fallthrough]];
      case http::WSMsgType::BINARY:
        check(opt.max_msg_size == 0 || m.data.size() <= opt.max_msg_size,
              "message above max_msg_size");
        break;
      case http::WSMsgType::PING:
      case http::WSMsgType::PONG:
        check(m.data.size() <= 125, "control payload above 125 bytes");
        break;
      case http::WSMsgType::CLOSE:
        check(m.code == http::NO_STATUS_RECEIVED || pyconc::detail::is_valid_close_code(m.code),
              "close code that may not be sent");
        check(pyconc::detail::is_valid_utf8(m.extra), "close reason that is not UTF-8");
        check(m.extra.size() <= 123, "close reason above 123 bytes");
        break;
      default:
        check(false, "a message type that is not a frame's");
    }
    o.messages.push_back(render(m));
    if (keep != nullptr) keep->push_back(m);
  }
  o.error = p.error_code();
  check(o.error == 0 || o.error == 1002 || o.error == 1007 || o.error == 1009,
        "a verdict other than 1002/1007/1009");
  check((o.error != 0) == p.failed(), "failed() disagrees with error_code()");
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const WebSocketParserOptions opt{.masked = (data[0] & 1) != 0,
                                   .max_msg_size = (data[0] & 2) != 0 ? 64U : 1U << 20};
  const unsigned seed = data[1];
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

  WebSocketParser whole(opt);
  whole.feed(input);
  std::vector<http::WSMessage> messages;
  const Outcome a = drain(whole, opt, &messages);

  WebSocketParser bytes(opt);
  for (char c : input) bytes.feed(std::string_view(&c, 1));
  check(drain(bytes, opt) == a, "byte-at-a-time parse differs from the whole parse");

  WebSocketParser chunks(opt);
  std::size_t pos = 0;
  unsigned step = seed | 1U;
  while (pos < input.size()) {
    const std::size_t n = std::min<std::size_t>(input.size() - pos, 1 + step % 37);
    chunks.feed(input.substr(pos, n));
    pos += n;
    step = step * 1103515245U + 12345U;
  }
  check(drain(chunks, opt) == a, "chunked parse differs from the whole parse");

  // What was accepted, written again (as one frame each) and parsed, comes back the same.
  std::string again;
  for (const auto& m : messages) {
    std::string payload = m.data;
    if (m.type == http::WSMsgType::CLOSE) {
      payload = m.code == http::NO_STATUS_RECEIVED
                    ? std::string()
                    : pyconc::detail::websocket_close_payload(m.code, m.extra);
    }
    pyconc::detail::append_websocket_frame(again, static_cast<unsigned>(m.type), payload,
                                           opt.masked);
  }
  WebSocketParser reparsed(opt);
  reparsed.feed(again);
  const Outcome b = drain(reparsed, opt);
  check(b.error == 0, "a re-encoded message was refused");
  check(b.messages == a.messages, "re-encoded messages differ");
  return 0;
}
