// WebSockets (RFC 6455): the frame parser and writer on their own, then web::WebSocketResponse
// over loopback against a raw-socket client (handshake, echo, fragments, control frames, bad
// frames closing with 1002/1007/1009 while the server goes on), then Python's clients
// (python3-websockets and aiohttp, each skipped when absent) against our server.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "pyconc/aiohttp.hpp"
#include "pyconc/aiohttp/detail/websocket.hpp"
#include "pyconc/aiohttp/json.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc/subprocess.hpp"
#include "pyconc_demo/server.hpp"
#include "socket_client.hpp"

namespace aio = pyconc::asyncio;
namespace web = pyconc::aiohttp::web;
namespace http = pyconc::aiohttp::http;
namespace sp = pyconc::subprocess;
using pyconc::detail::append_websocket_frame;
using pyconc::detail::WebSocketParser;
using namespace std::chrono_literals;

namespace {

std::vector<http::WSMessage> parse_all(WebSocketParser& p) {
  std::vector<http::WSMessage> out;
  http::WSMessage m;
  while (p.next(m)) out.push_back(m);
  return out;
}

std::string frame(unsigned op, std::string_view payload, bool fin = true, bool mask = true) {
  std::string f;
  append_websocket_frame(f, op, payload, mask, fin);
  return f;
}

// --- the codec ---

TEST(WebSocketFrames, AcceptKeyOfTheRfcExample) {
  EXPECT_EQ(pyconc::detail::websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_TRUE(pyconc::detail::is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_TRUE(pyconc::detail::is_valid_websocket_key(pyconc::detail::websocket_key()));
  EXPECT_FALSE(pyconc::detail::is_valid_websocket_key("short=="));
  EXPECT_FALSE(pyconc::detail::is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ"));
}

TEST(WebSocketFrames, RoundTripAtEverySplitAndLength) {
  for (std::size_t len : {0UL, 1UL, 125UL, 126UL, 65535UL, 65536UL, 300000UL}) {
    std::string payload(len, 'x');
    for (std::size_t i = 0; i < len; ++i) payload[i] = static_cast<char>('a' + i % 26);
    const std::string wire = frame(0x2, payload);
    WebSocketParser whole;
    whole.feed(wire);
    auto msgs = parse_all(whole);
    ASSERT_EQ(msgs.size(), 1U) << len;
    EXPECT_EQ(msgs[0].type, http::WSMsgType::BINARY);
    EXPECT_EQ(msgs[0].data, payload);
    if (len <= 126) {  // byte by byte
      WebSocketParser bytes;
      for (char c : wire) bytes.feed(std::string_view(&c, 1));
      auto m2 = parse_all(bytes);
      ASSERT_EQ(m2.size(), 1U);
      EXPECT_EQ(m2[0].data, payload);
    }
  }
}

TEST(WebSocketFrames, FragmentsJoinedWithControlFramesBetween) {
  WebSocketParser p;
  p.feed(frame(0x1, "Hel", false) + frame(0x9, "ping!") + frame(0x0, "lo ", false) +
         frame(0xa, "") + frame(0x0, "w\xc3", false) + frame(0x0, "\xb6rld", true));
  auto msgs = parse_all(p);
  ASSERT_EQ(msgs.size(), 3U);
  EXPECT_EQ(msgs[0].type, http::WSMsgType::PING);
  EXPECT_EQ(msgs[0].data, "ping!");
  EXPECT_EQ(msgs[1].type, http::WSMsgType::PONG);
  EXPECT_EQ(msgs[2].type, http::WSMsgType::TEXT);
  EXPECT_EQ(msgs[2].data, "Hello w\xc3\xb6rld");  // a code point split across fragments
  EXPECT_FALSE(p.failed());
}

TEST(WebSocketFrames, CloseFrameCodeAndReason) {
  WebSocketParser p;
  p.feed(frame(0x8, pyconc::detail::websocket_close_payload(1001, "bye")) + frame(0x8, ""));
  auto msgs = parse_all(p);
  ASSERT_EQ(msgs.size(), 2U);
  EXPECT_EQ(msgs[0].type, http::WSMsgType::CLOSE);
  EXPECT_EQ(msgs[0].code, 1001);
  EXPECT_EQ(msgs[0].extra, "bye");
  EXPECT_EQ(msgs[1].code, 1005);
}

struct BadCase {
  const char* what;
  std::string wire;
  int code;
  bool server = true;  // parser of a server (expects masked frames)
};

TEST(WebSocketFrames, ViolationsGiveTheirCloseCode) {
  std::string unmasked = frame(0x1, "hi", true, false);
  std::string rsv = frame(0x1, "hi");
  rsv[0] = static_cast<char>(rsv[0] | 0x40);
  std::string reserved_op = frame(0x3, "hi");
  std::string long_ping = frame(0x9, std::string(126, 'p'));
  std::string frag_ping = frame(0x9, "p", false);
  std::string big64 = std::string("\x82\xff\x80\0\0\0\0\0\0\0", 10) + "mask";
  const std::vector<BadCase> cases = {
      {"unmasked client frame", unmasked, 1002},
      {"masked server frame", frame(0x1, "hi"), 1002, false},
      {"RSV1 without extension", rsv, 1002},
      {"reserved opcode", reserved_op, 1002},
      {"control frame > 125 bytes", long_ping, 1002},
      {"fragmented control frame", frag_ping, 1002},
      {"continuation without start", frame(0x0, "x"), 1002},
      {"new message inside a fragmented one", frame(0x1, "a", false) + frame(0x1, "b"), 1002},
      {"64-bit length with the top bit", big64, 1002},
      {"close frame of 1 byte", frame(0x8, "x"), 1002},
      {"close code 1005 sent", frame(0x8, std::string("\x03\xed", 2)), 1002},
      {"close code 999", frame(0x8, std::string("\x03\xe7", 2)), 1002},
      {"invalid UTF-8", frame(0x1, "\xc3\x28"), 1007},
      {"invalid UTF-8 across fragments", frame(0x1, "ok\xc3", false) + frame(0x0, "\x28"), 1007},
      {"surrogate in UTF-8", frame(0x1, "\xed\xa0\x80"), 1007},
      {"invalid UTF-8 in close reason", frame(0x8, std::string("\x03\xe8\xff", 3)), 1007},
      {"too big in one frame", frame(0x2, std::string(1025, 'b')), 1009},
      {"too big across fragments",
       frame(0x2, std::string(600, 'b'), false) + frame(0x0, std::string(600, 'b')), 1009},
  };
  for (const auto& c : cases) {
    WebSocketParser p({.masked = c.server, .max_msg_size = 1024});
    p.feed(c.wire);
    EXPECT_TRUE(p.failed()) << c.what;
    EXPECT_EQ(p.error_code(), c.code) << c.what << ": " << p.error_message();
    EXPECT_EQ(p.ready(), 0U) << c.what;
  }
  // The oversize verdict comes from the header alone: no need to buffer the payload.
  WebSocketParser early({.max_msg_size = 1024});
  early.feed(std::string("\x82\xfe\x10\x00", 4));
  EXPECT_EQ(early.error_code(), 1009);
}

TEST(WebSocketFrames, Utf8Validator) {
  using pyconc::detail::is_valid_utf8;
  EXPECT_TRUE(is_valid_utf8("plain ascii, long enough for the 8-byte path"));
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xa9"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("abc\xe2\x82"));       // cut short
}

// --- the server, with a raw-socket client ---

using test_support::connect_to;
using test_support::send_all;

// A blocking WebSocket client speaking raw frames (every read bounded by SO_RCVTIMEO).
class RawClient {
 public:
  RawClient(int port, std::string path = "/ws", std::string extra_headers = {}) {
    fd_ = connect_to(port, 10);
    send_all(fd_, "GET " + path +
                      " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n" +
                      extra_headers + "\r\n");
    while (head_.find("\r\n\r\n") == std::string::npos) {
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return;
      head_.append(buf, static_cast<std::size_t>(n));
    }
    const auto end = head_.find("\r\n\r\n") + 4;
    parser_.feed(std::string_view(head_).substr(end));
    head_.resize(end);
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  const std::string& head() const { return head_; }
  void send(unsigned op, std::string_view payload, bool fin = true, bool mask = true) {
    send_all(fd_, frame(op, payload, fin, mask));
  }
  void send_raw(std::string_view bytes) { send_all(fd_, bytes); }
  // The next message from the server; CLOSED type when the connection ends.
  http::WSMessage next() {
    http::WSMessage m;
    while (!parser_.next(m)) {
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return {};
      parser_.feed(std::string_view(buf, static_cast<std::size_t>(n)));
    }
    return m;
  }
  // True when the server closed the TCP connection (EOF within the receive timeout).
  bool eof() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n < 0) return false;
    }
  }

 private:
  int fd_ = -1;
  std::string head_;
  WebSocketParser parser_{{.masked = false, .max_msg_size = 0}};
};

// Echo server: TEXT and BINARY back; "close:<code>" closes from the server side; records the
// last close code seen.
struct EchoApp {
  web::Application app;
  int last_close_code = 0;
  EchoApp(web::WebSocketResponseOptions options = {}) {
    app.router().add_get(
        "/ws", [this, options](web::Request& req) -> aio::Task<web::WebSocketResponse> {
          web::WebSocketResponse ws(options);
          co_await ws.prepare(req);
          for (;;) {
            auto msg = co_await ws.receive();
            if (msg.type == http::WSMsgType::TEXT && msg.data.rfind("close:", 0) == 0) {
              co_await ws.close(std::stoi(msg.data.substr(6)), "server says bye");
              break;
            }
            if (msg.type == http::WSMsgType::TEXT) {
              co_await ws.send_str(msg.data);
            } else if (msg.type == http::WSMsgType::BINARY) {
              co_await ws.send_bytes(msg.data);
            } else {
              break;
            }
          }
          last_close_code = ws.close_code().value_or(-1);
          co_return ws;
        });
    app.router().add_get("/plain", [](web::Request&) -> aio::Task<web::Response> {
      co_return web::Response("plain");
    });
  }
};

TEST(WebSocketServer, HandshakeEchoAndClientClose) {
  EchoApp a;
  pyconc::demo::ServerThread server(a.app);
  RawClient c(server.port());
  EXPECT_EQ(c.head().rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0U) << c.head();
  EXPECT_NE(c.head().find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            std::string::npos);
  c.send(0x1, "hello");
  auto m = c.next();
  EXPECT_EQ(m.type, http::WSMsgType::TEXT);
  EXPECT_EQ(m.data, "hello");
  // Fragmented, with a PING between the fragments: the PONG comes first, then the echo.
  c.send(0x2, std::string(70000, 'a'), false);
  c.send(0x9, "are you there");
  c.send(0x0, "bc", true);
  auto pong = c.next();
  EXPECT_EQ(pong.type, http::WSMsgType::PONG);
  EXPECT_EQ(pong.data, "are you there");
  auto big = c.next();
  EXPECT_EQ(big.type, http::WSMsgType::BINARY);
  EXPECT_EQ(big.data.size(), 70002U);
  c.send(0x8, pyconc::detail::websocket_close_payload(1000, "done"));
  auto close = c.next();
  EXPECT_EQ(close.type, http::WSMsgType::CLOSE);
  EXPECT_EQ(close.code, 1000);
  EXPECT_TRUE(c.eof());
}

TEST(WebSocketServer, ServerInitiatedClose) {
  EchoApp a;
  pyconc::demo::ServerThread server(a.app);
  RawClient c(server.port());
  c.send(0x1, "close:4001");
  auto m = c.next();
  EXPECT_EQ(m.type, http::WSMsgType::CLOSE);
  EXPECT_EQ(m.code, 4001);
  EXPECT_EQ(m.extra, "server says bye");
  c.send(0x8, pyconc::detail::websocket_close_payload(4001, ""));
  EXPECT_TRUE(c.eof());
}

TEST(WebSocketServer, BadFramesCloseWithTheirCodeAndTheServerGoesOn) {
  EchoApp a({.max_msg_size = 1000});
  pyconc::demo::ServerThread server(a.app);
  struct Case {
    const char* what;
    std::string wire;
    int code;
  };
  std::string rsv = frame(0x1, "x");
  rsv[0] = static_cast<char>(rsv[0] | 0x20);
  const std::vector<Case> cases = {
      {"unmasked", frame(0x1, "hi", true, false), 1002},
      {"reserved opcode", frame(0xb, "hi"), 1002},
      {"RSV2", rsv, 1002},
      {"ping of 126 bytes", frame(0x9, std::string(126, 'p')), 1002},
      {"continuation first", frame(0x0, "x"), 1002},
      {"invalid UTF-8 across fragments", frame(0x1, "\xe2\x82", false) + frame(0x0, "x"), 1007},
      {"too big", frame(0x2, std::string(1001, 'b')), 1009},
  };
  for (const auto& cs : cases) {
    RawClient c(server.port());
    c.send_raw(cs.wire);
    auto m = c.next();
    EXPECT_EQ(m.type, http::WSMsgType::CLOSE) << cs.what;
    EXPECT_EQ(m.code, cs.code) << cs.what;
    EXPECT_TRUE(c.eof()) << cs.what;
  }
  // The server still serves: a well-behaved client gets its echo.
  RawClient ok(server.port());
  ok.send(0x1, "still here");
  EXPECT_EQ(ok.next().data, "still here");
}

TEST(WebSocketServer, NotAHandshakeIs400AndKeepsTheConnection) {
  EchoApp a;
  pyconc::demo::ServerThread server(a.app);
  int fd = connect_to(server.port());
  send_all(fd,
           "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"
           "GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  std::string all;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    all.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  EXPECT_EQ(all.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0U) << all;
  EXPECT_NE(all.find("Sec-WebSocket-Version: 13"), std::string::npos) << all;
  EXPECT_NE(all.find("HTTP/1.1 200 OK"), std::string::npos) << all;
  EXPECT_NE(all.find("\r\n\r\nplain"), std::string::npos) << all;
}

TEST(WebSocketServer, SubprotocolNegotiation) {
  web::Application app;
  app.router().add_get("/ws", [](web::Request& req) -> aio::Task<web::WebSocketResponse> {
    web::WebSocketResponse ws({.protocols = {"chat.v2", "chat.v1"}});
    co_await ws.prepare(req);
    co_await ws.send_str(ws.ws_protocol());
    co_await ws.close();
    co_return ws;
  });
  pyconc::demo::ServerThread server(app);
  RawClient c(server.port(), "/ws", "Sec-WebSocket-Protocol: other, chat.v1, chat.v2\r\n");
  EXPECT_NE(c.head().find("Sec-WebSocket-Protocol: chat.v1\r\n"), std::string::npos) << c.head();
  EXPECT_EQ(c.next().data, "chat.v1");
  RawClient none(server.port(), "/ws", "Sec-WebSocket-Protocol: other\r\n");
  EXPECT_EQ(none.head().find("Sec-WebSocket-Protocol"), std::string::npos) << none.head();
  EXPECT_EQ(none.next().data, "");
}

TEST(WebSocketServer, HeartbeatClosesASilentPeer) {
  EchoApp a({.heartbeat = 200ms});
  pyconc::demo::ServerThread server(a.app);
  RawClient c(server.port());
  // The server pings; we never answer: it gives up (1006) and drops the connection.
  auto ping = c.next();
  EXPECT_EQ(ping.type, http::WSMsgType::PING);
  EXPECT_TRUE(c.eof());
}

TEST(WebSocketServer, HandlerReturningLeavesItOpenThenTheServerCloses) {
  web::Application app;
  app.router().add_get("/ws", [](web::Request& req) -> aio::Task<web::WebSocketResponse> {
    web::WebSocketResponse ws;
    co_await ws.prepare(req);
    const nlohmann::json hello = {{"hello", 1}};
    co_await ws.send_json(hello);
    co_return ws;
  });
  pyconc::demo::ServerThread server(app);
  RawClient c(server.port());
  EXPECT_EQ(c.next().data, R"({"hello":1})");
  auto close = c.next();
  EXPECT_EQ(close.type, http::WSMsgType::CLOSE);
  EXPECT_EQ(close.code, 1000);
  c.send(0x8, pyconc::detail::websocket_close_payload(1000, ""));
  EXPECT_TRUE(c.eof());
}

TEST(WebSocketServer, AHandlerThatThrowsClosesWith1011) {
  web::Application app;
  app.router().add_get("/ws", [](web::Request& req) -> aio::Task<web::WebSocketResponse> {
    web::WebSocketResponse ws;
    co_await ws.prepare(req);
    auto msg = co_await ws.receive();
    if (msg.data == "boom") throw std::runtime_error("handler bug");
    co_await ws.send_str(msg.data);
    co_return ws;
  });
  pyconc::demo::ServerThread server(app);
  RawClient c(server.port());
  c.send(0x1, "boom");
  auto close = c.next();
  EXPECT_EQ(close.type, http::WSMsgType::CLOSE);
  EXPECT_EQ(close.code, 1011);
  c.send(0x8, pyconc::detail::websocket_close_payload(1011, ""));
  EXPECT_TRUE(c.eof());
  RawClient ok(server.port());
  ok.send(0x1, "fine");
  EXPECT_EQ(ok.next().data, "fine");
}

TEST(WebSocketServer, CanPrepareAndAnUnpreparedWebSocketIs500) {
  web::Application app;
  app.router().add_get("/ws", [](web::Request& req) -> aio::Task<web::WebSocketResponse> {
    web::WebSocketResponse ws;
    if (!ws.can_prepare(req)) co_return ws;  // a plain GET: a 101 cannot be its answer
    co_await ws.prepare(req);
    co_await ws.send_str("upgraded");
    co_return ws;
  });
  pyconc::demo::ServerThread server(app);
  const int fd = connect_to(server.port(), 10);
  send_all(fd, "GET /ws HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  const std::string r = test_support::read_all(fd);
  ::close(fd);
  EXPECT_EQ(r.rfind("HTTP/1.1 500 ", 0), 0U) << r;
  RawClient c(server.port());
  EXPECT_EQ(c.next().data, "upgraded");
}

// --- Python's clients against our server ---

bool python_has(const char* module) {
  return sp::run({"/usr/bin/python3", "-c", std::string("import ") + module},
                 {.capture_output = true, .timeout = 30s})
             .returncode == 0;
}

// Runs `script` with the port as its argument under /usr/bin/python3 and expects it to
// print "ok" (skipped when `module` is not installed).
void expect_python_ok(const char* module, const std::string& script, int port) {
  if (!python_has(module)) GTEST_SKIP() << "python3 has no " << module;
  auto r = sp::run({"/usr/bin/python3", "-c", script, std::to_string(port)},
                   {.capture_output = true, .timeout = 60s, .text = true});
  EXPECT_EQ(r.returncode, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "ok\n");
}

TEST(WebSocketInterop, PythonWebsocketsClient) {
  EchoApp a;
  pyconc::demo::ServerThread server(a.app);
  const std::string script = R"(
import asyncio, sys, websockets
async def main():
    async with websockets.connect("ws://127.0.0.1:%s/ws" % sys.argv[1], max_size=None) as ws:
        await ws.send("héllo")
        assert await ws.recv() == "héllo"
        await ws.send(b"\x00\x01" * 50000)
        assert await ws.recv() == b"\x00\x01" * 50000
        await ws.send(["frag", "mented ", "text"])      # a fragmented message
        assert await ws.recv() == "fragmented text"
        pong = await ws.ping(b"abc")
        await asyncio.wait_for(pong, 10)
        await ws.close(code=4000, reason="bye")
        assert ws.close_code == 4000, ws.close_code
    print("ok")
asyncio.run(main())
)";
  expect_python_ok("websockets", script, server.port());
}

TEST(WebSocketInterop, PythonAiohttpClient) {
  EchoApp a;
  pyconc::demo::ServerThread server(a.app);
  const std::string script = R"(
import asyncio, sys, aiohttp
async def main():
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect("http://127.0.0.1:%s/ws" % sys.argv[1]) as ws:
            await ws.send_str("hi")
            assert (await ws.receive_str()) == "hi"
            await ws.send_bytes(b"x" * 200000)
            assert (await ws.receive_bytes()) == b"x" * 200000
            await ws.send_str("close:4002")
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 4002, msg
            assert ws.close_code == 4002, ws.close_code
    print("ok")
asyncio.run(main())
)";
  expect_python_ok("aiohttp", script, server.port());
}

}  // namespace
