// bench/websocket_echo_bench.cpp -- WebSocket echo over loopback: pyconc's
// web::WebSocketResponse beside aiohttp's (CPython asyncio and uvloop) and python3-websockets,
// all driven by the same load generator (bench/echo_load.hpp).
//
//   WsEcho/conns:100/bytes:N   100 WebSocket connections, each sending an N-byte BINARY
//                              message (masked, as a client must) and waiting for its echo
//                              before sending the next (100 in flight). Time per message
//                              (round trip), all connections together; items_per_second in
//                              the console output is messages/s.
//
// The servers are all the obvious echo handler -- receive a message, send it back, until the
// connection closes:
//   pyconc             web::Application + WebSocketResponse (receive / send_bytes), one event
//                      loop on its own thread (AppRunner + TCPSite)
//   aiohttp / aiohttp_uvloop   bench/python/websocket_echo.py --impl aiohttp, `async for msg
//                      in ws: await ws.send_bytes(msg.data)`, on asyncio's loop or uvloop's
//   websockets         bench/python/websocket_echo.py --impl websockets (python3-websockets,
//                      no compression), `async for msg in ws: await ws.send(msg)`
// server_cpu_us_per_req is the CPU the server itself used per message (its thread's CPU
// clock; /proc/<pid>/schedstat for the Python servers).
#include <benchmark/benchmark.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"
#include "echo_load.hpp"
#include "pyconc/aiohttp.hpp"
#include "pyconc/aiohttp/detail/websocket.hpp"
#include "pyconc/asyncio.hpp"

namespace aio = pyconc::asyncio;
namespace web = pyconc::aiohttp::web;
namespace http = pyconc::aiohttp::http;
using bench_echo::EchoServer;
using bench_echo::LoadGenerator;
using bench_echo::PythonServer;

namespace {

constexpr int kRoundsPerIteration = 20;  // per connection: 2,000 messages per iteration at 100

aio::Task<web::WebSocketResponse> echo(web::Request& req) {
  web::WebSocketResponse ws;
  co_await ws.prepare(req);
  for (;;) {
    auto msg = co_await ws.receive();
    if (msg.type == http::WSMsgType::BINARY) {
      co_await ws.send_bytes(msg.data);
    } else if (msg.type == http::WSMsgType::TEXT) {
      co_await ws.send_str(msg.data);
    } else {
      break;
    }
  }
  co_return ws;
}

class PyconcServer final : public EchoServer {
 public:
  PyconcServer() {
    app_.router().add_get("/ws", echo);
    std::promise<int> port;
    auto ready = port.get_future();
    thread_ = std::thread([this, &port] {
      aio::run([](PyconcServer* self, std::promise<int>& port) -> aio::Task<> {
        web::AppRunner runner(self->app_);
        co_await runner.setup();
        web::TCPSite site(runner, "127.0.0.1", 0);
        co_await site.start();
        self->loop_ = &aio::get_running_loop();
        self->stop_ = &self->stop_event_;
        port.set_value(site.port());
        co_await self->stop_event_.wait();
        co_await runner.cleanup();
      }(this, port));
    });
    port_ = ready.get();
  }
  std::int64_t cpu_ns() override { return bench_echo::thread_cpu_ns(thread_); }
  ~PyconcServer() override {
    loop_->call_soon_threadsafe([e = stop_] { e->set(); });
    thread_.join();
  }

 private:
  web::Application app_;
  std::thread thread_;
  aio::EventLoop* loop_ = nullptr;
  aio::Event stop_event_;
  aio::Event* stop_ = nullptr;
};

EchoServer& server_for(const std::string& impl) {
  static std::map<std::string, std::unique_ptr<EchoServer>> servers;
  auto& s = servers[impl];
  if (!s) {
    const std::string script = PYCONC_BENCH_PYTHON_DIR "/websocket_echo.py";
    if (impl == "pyconc") {
      s = std::make_unique<PyconcServer>();
    } else if (impl == "aiohttp") {
      s = std::make_unique<PythonServer>(std::vector<std::string>{script, "--impl", "aiohttp"});
    } else if (impl == "aiohttp_uvloop") {
      s = std::make_unique<PythonServer>(
          std::vector<std::string>{script, "--impl", "aiohttp", "--loop", "uvloop"});
    } else {
      s = std::make_unique<PythonServer>(std::vector<std::string>{script, "--impl", "websockets"});
    }
  }
  return *s;
}

void BM_WsEcho(benchmark::State& state, const std::string& impl) {
  const int conns = static_cast<int>(state.range(0));
  const auto bytes = static_cast<std::size_t>(state.range(1));
  bench_echo::measure_echo(
      state, [&]() -> EchoServer& { return server_for(impl); },
      [&](EchoServer& server) {
        std::string request;  // a BINARY message, masked as a client's must be
        pyconc::detail::append_websocket_frame(request, 0x2, std::string(bytes, 'x'), true);
        std::string reply;  // what the server sends back: the same message, unmasked
        pyconc::detail::append_websocket_frame(reply, 0x2, std::string(bytes, 'x'), false);
        const std::string handshake =
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: "
            "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n";
        return LoadGenerator(server.port(), conns, request, reply.size(), handshake);
      },
      conns, kRoundsPerIteration);
}

void ws_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"conns", "bytes"})->Args({100, 64})->Args({100, 4096})->UseManualTime();
}

}  // namespace

BENCHMARK_CAPTURE(BM_WsEcho, pyconc, std::string("pyconc"))
    ->Name("BM_WsEcho/pyconc")
    ->Apply(ws_args);
BENCHMARK_CAPTURE(BM_WsEcho, aiohttp_uvloop, std::string("aiohttp_uvloop"))
    ->Name("BM_WsEcho/aiohttp_uvloop")
    ->Apply(ws_args);
BENCHMARK_CAPTURE(BM_WsEcho, aiohttp, std::string("aiohttp"))
    ->Name("BM_WsEcho/aiohttp")
    ->Apply(ws_args);
BENCHMARK_CAPTURE(BM_WsEcho, websockets, std::string("websockets"))
    ->Name("BM_WsEcho/websockets")
    ->Apply(ws_args);

int main(int argc, char** argv) {
  return run_benchmarks(argc, argv);
}
