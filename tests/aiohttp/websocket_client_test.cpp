// ClientSession::ws_connect: against our own server (echo, ping/pong, close codes, a failed
// handshake, a server breaking the protocol), then against Python's servers --
// python3-websockets and aiohttp (each skipped when absent): fragmented messages and control
// frames from the server, masking of ours, close codes both ways.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "pyconc/aiohttp.hpp"
#include "pyconc/aiohttp/detail/websocket.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc/subprocess.hpp"
#include "pyconc_demo/server.hpp"

namespace aio = pyconc::asyncio;
namespace web = pyconc::aiohttp::web;
namespace http = pyconc::aiohttp::http;
namespace sp = pyconc::subprocess;
using pyconc::aiohttp::ClientSession;
using namespace std::chrono_literals;

namespace {

web::Application& echo_app() {
  static web::Application* app = [] {
    auto* a = new web::Application;
    a->router().add_get("/ws", [](web::Request& req) -> aio::Task<web::WebSocketResponse> {
      web::WebSocketResponse ws({.autoping = false, .protocols = {"echo"}});
      co_await ws.prepare(req);
      for (;;) {
        auto msg = co_await ws.receive();
        if (msg.type == http::WSMsgType::TEXT && msg.data == "close") {
          co_await ws.close(4005, "as asked");
          break;
        }
        if (msg.type == http::WSMsgType::TEXT) {
          co_await ws.send_str(msg.data);
        } else if (msg.type == http::WSMsgType::BINARY) {
          co_await ws.send_bytes(msg.data);
        } else if (msg.type == http::WSMsgType::PING) {
          co_await ws.send_str("got ping " + msg.data);  // autoping is off: we see it
          co_await ws.pong(msg.data);
        } else {
          break;
        }
      }
      co_return ws;
    });
    a->router().add_get("/plain", [](web::Request&) -> aio::Task<web::Response> {
      co_return web::Response("not a websocket");
    });
    return a;
  }();
  return *app;
}

TEST(WebSocketClient, EchoPingAndCloseAgainstOurServer) {
  pyconc::demo::ServerThread server(echo_app());
  const int port = server.port();
  aio::run([](int p) -> aio::Task<> {
    ClientSession session;
    auto connecting = session.ws_connect("ws://127.0.0.1:" + std::to_string(p) + "/ws",
                                         {.protocols = {"other", "echo"}, .autoping = false});
    auto ws = co_await std::move(connecting);
    EXPECT_EQ(ws.ws_protocol(), "echo");
    co_await ws.send_str("héllo");
    EXPECT_EQ(co_await ws.receive_str(), "héllo");
    const std::string big(300000, '\x01');
    co_await ws.send_bytes(big);
    EXPECT_EQ(co_await ws.receive_bytes(), big);
    co_await ws.ping("p1");
    EXPECT_EQ(co_await ws.receive_str(), "got ping p1");
    auto pong = co_await ws.receive();
    EXPECT_EQ(pong.type, http::WSMsgType::PONG);
    EXPECT_EQ(pong.data, "p1");
    co_await ws.send_str("close");
    auto close = co_await ws.receive();
    EXPECT_EQ(close.type, http::WSMsgType::CLOSE);
    EXPECT_EQ(close.code, 4005);
    EXPECT_EQ(close.extra, "as asked");
    EXPECT_EQ(ws.close_code(), 4005);
    EXPECT_TRUE(ws.closed());
    EXPECT_EQ((co_await ws.receive()).type, http::WSMsgType::CLOSED);
    EXPECT_THROW(co_await ws.send_str("late"), pyconc::ConnectionResetError);
  }(port));
}

TEST(WebSocketClient, ClientCloseHandshake) {
  pyconc::demo::ServerThread server(echo_app());
  const int port = server.port();
  aio::run([](int p) -> aio::Task<> {
    ClientSession session;
    auto ws = co_await session.ws_connect("http://127.0.0.1:" + std::to_string(p) + "/ws");
    co_await ws.send_str("x");
    EXPECT_EQ(co_await ws.receive_str(), "x");
    EXPECT_TRUE(co_await ws.close(1000, "done"));
    EXPECT_EQ(ws.close_code(), 1000);  // the server's answer
    EXPECT_FALSE(co_await ws.close());
  }(port));
}

TEST(WebSocketClient, RefusedHandshakeRaises) {
  pyconc::demo::ServerThread server(echo_app());
  const int port = server.port();
  aio::run([](int p) -> aio::Task<> {
    ClientSession session;
    try {
      co_await session.ws_connect("ws://127.0.0.1:" + std::to_string(p) + "/plain");
      ADD_FAILURE() << "no exception";
    } catch (const pyconc::aiohttp::WSServerHandshakeError& e) {
      EXPECT_EQ(e.status(), 200);
    }
    try {
      co_await session.ws_connect("ftp://127.0.0.1/ws");
      ADD_FAILURE() << "no exception";
    } catch (const pyconc::aiohttp::InvalidURL&) {
    }
  }(port));
}

TEST(WebSocketClient, MaskedFrameFromTheServerIsAProtocolError) {
  // A server that completes the handshake, then sends a masked frame (forbidden).
  aio::run([]() -> aio::Task<> {
    auto server = co_await aio::start_server(
        [](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
          std::string head = co_await r.readuntil("\r\n\r\n");
          const auto k = head.find("Sec-WebSocket-Key: ") + 19;
          const std::string key = head.substr(k, head.find("\r\n", k) - k);
          std::string out =
              "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Accept: " +
              pyconc::detail::websocket_accept(key) + "\r\n\r\n";
          pyconc::detail::append_websocket_frame(out, 0x1, "masked!", /*mask=*/true);
          w.write(out);
          co_await w.drain();
          std::string rest = co_await r.read();  // until the client closes
          (void)rest;
          w.close();
        },
        "127.0.0.1", 0);
    const int port = server.port();
    ClientSession session;
    auto ws = co_await session.ws_connect("ws://127.0.0.1:" + std::to_string(port) + "/");
    auto msg = co_await ws.receive();
    EXPECT_EQ(msg.type, http::WSMsgType::ERROR);
    EXPECT_EQ(ws.close_code(), 1002);
    EXPECT_NE(msg.data.find("masked"), std::string::npos) << msg.data;
    server.close();
    co_await server.wait_closed();
  }());
}

// --- Python's servers ---

bool python_has(const char* module) {
  return sp::run({"/usr/bin/python3", "-c", std::string("import ") + module},
                 {.capture_output = true, .timeout = 30s})
             .returncode == 0;
}

// Runs a Python WebSocket server that prints its port and serves until its stdin closes, then
// `client(port)`; the server must exit cleanly.
// `args` follow the script on the command line.
void with_python_server(const std::string& script, const std::function<aio::Task<>(int)>& client,
                        const std::vector<std::string>& args = {}) {
  std::vector<std::string> cmd{"/usr/bin/python3", "-c", script};
  cmd.insert(cmd.end(), args.begin(), args.end());
  aio::run(
      [](std::vector<std::string> argv, const std::function<aio::Task<>(int)>& c) -> aio::Task<> {
        auto proc =
            co_await aio::create_subprocess_exec(argv, {.stdin_ = aio::PIPE, .stdout_ = aio::PIPE});
        const std::string line = co_await aio::wait_for(proc.stdout_().readline(), 30s);
        std::exception_ptr failure;
        try {
          if (line.empty()) throw pyconc::RuntimeError("the Python server did not start");
          co_await c(std::stoi(line));
        } catch (...) {
          failure = std::current_exception();
        }
        proc.stdin_().close();
        bool stopped = true;
        try {
          EXPECT_EQ(co_await aio::wait_for(proc.wait(), 30s), 0);
        } catch (const pyconc::TimeoutError&) {
          stopped = false;
        }
        if (!stopped) {
          proc.kill();
          co_await proc.wait();
          ADD_FAILURE() << "the Python server did not stop";
        }
        if (failure) std::rethrow_exception(failure);
      }(std::move(cmd), client));
}

TEST(WebSocketClientInterop, PythonWebsocketsServer) {
  if (!python_has("websockets")) GTEST_SKIP() << "no python3-websockets";
  const std::string script = R"(
import asyncio, sys, websockets
async def handler(ws, *args):
    async for msg in ws:
        if msg == "frag":
            await ws.send(["frag", "men", "ted"])      # three fragments
        elif msg == "ping-me":
            await asyncio.wait_for(await ws.ping(b"srv"), 20)   # our autoping must answer
            await ws.send("pinged")
        elif msg == "close":
            await ws.close(code=4003, reason="py bye")
            return
        else:
            await ws.send(msg)
async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
asyncio.run(main())
)";
  with_python_server(script, [](int port) -> aio::Task<> {
    ClientSession session;
    auto ws = co_await session.ws_connect("ws://127.0.0.1:" + std::to_string(port) + "/");
    co_await ws.send_str("hello");
    EXPECT_EQ(co_await ws.receive_str(), "hello");
    co_await ws.send_bytes(std::string(200000, 'b'));
    EXPECT_EQ(co_await ws.receive_bytes(), std::string(200000, 'b'));
    co_await ws.send_str("frag");
    EXPECT_EQ(co_await ws.receive_str(), "fragmented");
    co_await ws.send_str("ping-me");
    EXPECT_EQ(co_await ws.receive_str(), "pinged");
    co_await ws.send_str("close");
    auto close = co_await ws.receive();
    EXPECT_EQ(close.type, http::WSMsgType::CLOSE);
    EXPECT_EQ(close.code, 4003);
    EXPECT_EQ(close.extra, "py bye");
  });
}

TEST(WebSocketClientInterop, PythonAiohttpServer) {
  if (!python_has("aiohttp")) GTEST_SKIP() << "no python3-aiohttp";
  const std::string script = R"(
import asyncio, sys
from aiohttp import web
async def ws_handler(request):
    ws = web.WebSocketResponse(protocols=("p1",))
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == web.WSMsgType.TEXT:
            if msg.data == "close":
                await ws.close(code=4004, message=b"aio bye")
                break
            elif msg.data == "ping-me":
                await ws.ping(b"srv")
                await ws.send_str("pinged")
            else:
                await ws.send_str(msg.data)
        elif msg.type == web.WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws
async def main():
    app = web.Application()
    app.router.add_get("/ws", ws_handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()
asyncio.run(main())
)";
  with_python_server(script, [](int port) -> aio::Task<> {
    ClientSession session;
    auto connecting = session.ws_connect("ws://127.0.0.1:" + std::to_string(port) + "/ws",
                                         {.protocols = {"p1"}, .autoping = false});
    auto ws = co_await std::move(connecting);
    EXPECT_EQ(ws.ws_protocol(), "p1");
    co_await ws.send_str("hello");
    EXPECT_EQ(co_await ws.receive_str(), "hello");
    co_await ws.send_str("ping-me");
    auto ping = co_await ws.receive();  // autoping off: the PING is ours to see
    EXPECT_EQ(ping.type, http::WSMsgType::PING);
    EXPECT_EQ(ping.data, "srv");
    EXPECT_EQ(co_await ws.receive_str(), "pinged");
    co_await ws.send_str("close");
    auto close = co_await ws.receive();
    EXPECT_EQ(close.type, http::WSMsgType::CLOSE);
    EXPECT_EQ(close.code, 4004);
    EXPECT_EQ(close.extra, "aio bye");
  });
}

TEST(WebSocketClientInterop, WssThroughTlsToPythonWebsockets) {
  if (!python_has("websockets")) GTEST_SKIP() << "no python3-websockets";
  // A throw-away self-signed certificate for 127.0.0.1, trusted by our client alone.
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("pyconc_wss_" + std::to_string(::getpid())))
          .string();
  std::filesystem::create_directories(dir);
  const auto made = sp::run(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem", "-days", "2", "-subj",
       "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
      {.capture_output = true, .timeout = 60s});
  if (made.returncode != 0) {
    std::filesystem::remove_all(dir);
    GTEST_SKIP() << "the openssl command could not make a certificate";
  }
  const std::string script = R"(
import asyncio, ssl, sys, websockets
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1] + "/cert.pem", sys.argv[1] + "/key.pem")
async def handler(ws, *args):
    async for msg in ws:
        await ws.send("tls:" + msg)
async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, ssl=ctx) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
asyncio.run(main())
)";
  with_python_server(script,
                     [&dir](int port) -> aio::Task<> {
                       auto ctx = aio::SSLContext::client();
                       ctx.load_verify_locations(dir + "/cert.pem");
                       ClientSession session;
                       auto connecting = session.ws_connect(
                           "wss://127.0.0.1:" + std::to_string(port) + "/", {.ssl = ctx});
                       auto ws = co_await std::move(connecting);
                       co_await ws.send_str("secret");
                       EXPECT_EQ(co_await ws.receive_str(), "tls:secret");
                       EXPECT_TRUE(co_await ws.close());
                     },
                     {dir});
  std::filesystem::remove_all(dir);
}

}  // namespace
