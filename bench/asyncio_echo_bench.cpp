// bench/asyncio_echo_bench.cpp -- TCP echo over loopback: pyconc's asyncio streams beside Asio's
// coroutines, CPython's asyncio streams and uvloop, all driven by the same load generator.
//
//   Echo/conns:100/bytes:N   100 connections, each sending an N-byte message and waiting for
//                            its echo before sending the next (a ping-pong per connection, 100
//                            in flight). Time per request (round trip), all connections
//                            together; items_per_second in the console output is requests/s.
//
// The servers are all the same loop -- read up to 64 KiB, write it back, drain, until EOF:
//   pyconc        aio::start_server + StreamReader::read / StreamWriter::write + drain(), one
//                 event loop on its own thread
//   asio          asio::awaitable coroutines: async_read_some + async_write, one io_context
//                 (concurrency hint 1) on its own thread
//   python_asyncio / uvloop   bench/python/asyncio_echo.py (asyncio.start_server, the same
//                 loop in Python) run by /usr/bin/python3, on asyncio's loop or uvloop's
// Besides the time per request, server_cpu_us_per_req reports the CPU the server itself used
// per request (its thread's CPU clock; /proc/<pid>/schedstat for the Python servers), a figure
// other load on the machine does not skew.
// The load generator is one thread of this process with its own epoll (no library): the same
// client for every server, so the ratios compare the servers only. Its own cost (about 1.5 µs
// of CPU per request here) is part of every server's time per request: loopback wake-ups are
// synchronous, so the kernel tends to run client and server on one core in turn (pinning them
// to separate cores was tried: cross-core wake-ups made every server slower and the ratios
// no better). server_cpu_us_per_req isolates what each server itself costs.
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <pthread.h>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common.hpp"
#include "echo_load.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc/subprocess.hpp"

namespace aio = pyconc::asyncio;
using bench_echo::EchoServer;
using bench_echo::LoadGenerator;
using bench_echo::PythonServer;
using bench_echo::thread_cpu_ns;

namespace {

constexpr int kRoundsPerIteration = 20;  // per connection: 2,000 requests per iteration at 100

// ------------------------------------------------------------------ servers

aio::Task<> pyconc_echo(aio::StreamReader reader, aio::StreamWriter writer) {
  while (true) {
    std::string data = co_await reader.read(65536);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
  writer.close();
}

class PyconcServer final : public EchoServer {
 public:
  PyconcServer() {
    std::promise<int> port;
    auto ready = port.get_future();
    thread_ = std::thread([this, &port] {
      try {
        aio::run([](PyconcServer* self, std::promise<int>& port) -> aio::Task<> {
          auto server = co_await aio::start_server(pyconc_echo, "127.0.0.1", 0);
          self->loop_ = &aio::get_running_loop();
          self->server_ = &server;
          port.set_value(server.port());
          try {
            co_await server.serve_forever();
          } catch (const pyconc::CancelledError&) {  // closed by the destructor
          }
        }(this, port));
      } catch (...) {
      }
    });
    port_ = ready.get();
  }
  std::int64_t cpu_ns() override { return thread_cpu_ns(thread_); }
  ~PyconcServer() override {
    loop_->call_soon_threadsafe([s = server_] { s->close(); });
    thread_.join();
  }

 private:
  std::thread thread_;
  aio::EventLoop* loop_ = nullptr;
  aio::Server* server_ = nullptr;
};

asio::awaitable<void> asio_session(asio::ip::tcp::socket socket) {
  std::array<char, 65536> data;
  try {
    while (true) {
      const std::size_t n =
          co_await socket.async_read_some(asio::buffer(data), asio::use_awaitable);
      co_await asio::async_write(socket, asio::buffer(data.data(), n), asio::use_awaitable);
    }
  } catch (const std::exception&) {  // EOF or reset: the session ends
  }
}

asio::awaitable<void> asio_listener(asio::ip::tcp::acceptor& acceptor) {
  while (true) {
    asio::ip::tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(asio::ip::tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), asio_session(std::move(socket)), asio::detached);
  }
}

class AsioServer final : public EchoServer {
 public:
  AsioServer() : acceptor_(ctx_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ctx_, asio_listener(acceptor_), asio::detached);
    thread_ = std::thread([this] { ctx_.run(); });
  }
  std::int64_t cpu_ns() override { return thread_cpu_ns(thread_); }
  ~AsioServer() override {
    ctx_.stop();
    thread_.join();
  }

 private:
  asio::io_context ctx_{1};
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

// One server per implementation, started on first use and kept for the whole run (repetitions
// of all benchmarks are interleaved).
EchoServer& server_for(const std::string& impl) {
  static std::map<std::string, std::unique_ptr<EchoServer>> servers;
  auto& s = servers[impl];
  if (!s) {
    if (impl == "pyconc") {
      s = std::make_unique<PyconcServer>();
    } else if (impl == "asio") {
      s = std::make_unique<AsioServer>();
    } else if (impl == "python_asyncio") {
      s = std::make_unique<PythonServer>(std::vector<std::string>{
          PYCONC_BENCH_PYTHON_DIR "/asyncio_echo.py", "--loop", "asyncio"});
    } else {
      s = std::make_unique<PythonServer>(
          std::vector<std::string>{PYCONC_BENCH_PYTHON_DIR "/asyncio_echo.py", "--loop", "uvloop"});
    }
  }
  return *s;
}

void BM_Echo(benchmark::State& state, const std::string& impl) {
  const int conns = static_cast<int>(state.range(0));
  const auto bytes = static_cast<std::size_t>(state.range(1));
  bench_echo::measure_echo(
      state, [&]() -> EchoServer& { return server_for(impl); },
      [&](EchoServer& server) {
        std::string msg(bytes, 'x');
        msg.back() = '\n';
        return LoadGenerator(server.port(), conns, msg, msg.size());
      },
      conns, kRoundsPerIteration);
}

void echo_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"conns", "bytes"})->Args({100, 64})->Args({100, 4096})->UseManualTime();
}

}  // namespace

BENCHMARK_CAPTURE(BM_Echo, pyconc, std::string("pyconc"))->Name("BM_Echo/pyconc")->Apply(echo_args);
BENCHMARK_CAPTURE(BM_Echo, asio, std::string("asio"))->Name("BM_Echo/asio")->Apply(echo_args);
BENCHMARK_CAPTURE(BM_Echo, uvloop, std::string("uvloop"))->Name("BM_Echo/uvloop")->Apply(echo_args);
BENCHMARK_CAPTURE(BM_Echo, python_asyncio, std::string("python_asyncio"))
    ->Name("BM_Echo/python_asyncio")
    ->Apply(echo_args);

int main(int argc, char** argv) {
  return run_benchmarks(argc, argv);
}
