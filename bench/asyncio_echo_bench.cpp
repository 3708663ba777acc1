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
#include "pyconc/asyncio.hpp"
#include "pyconc/subprocess.hpp"

namespace aio = pyconc::asyncio;

namespace {

constexpr int kRoundsPerIteration = 20;  // per connection: 2,000 requests per iteration at 100

// ------------------------------------------------------------------ servers

// CPU time (ns) a thread has used, read through its clock.
std::int64_t thread_cpu_ns(std::thread& t) {
  clockid_t id;
  if (::pthread_getcpuclockid(t.native_handle(), &id) != 0) return 0;
  timespec ts{};
  ::clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

class EchoServer {
 public:
  virtual ~EchoServer() = default;
  int port() const { return port_; }
  // CPU time the server has used so far (ns): its thread, or its process.
  virtual std::int64_t cpu_ns() = 0;

 protected:
  int port_ = 0;
};

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

class PythonServer final : public EchoServer {
 public:
  explicit PythonServer(const std::string& loop) {
    const std::string py = ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    namespace sp = pyconc::subprocess;
    proc_ = std::make_unique<sp::Popen>(
        std::vector<std::string>{py, PYCONC_BENCH_PYTHON_DIR "/asyncio_echo.py", "--loop", loop},
        sp::PopenOptions{.stdin_ = sp::PIPE, .stdout_ = sp::PIPE});
    const std::string line = proc_->stdout_().readline();
    if (line.rfind("PORT ", 0) != 0) {
      throw std::runtime_error("asyncio_echo.py --loop " + loop + ": " +
                               (line.empty() ? std::string("no output") : line));
    }
    port_ = std::stoi(line.substr(5));
  }
  // The process's CPU time in ns: the first field of /proc/<pid>/schedstat (its one thread).
  std::int64_t cpu_ns() override {
    std::ifstream in("/proc/" + std::to_string(proc_->pid()) + "/schedstat");
    std::int64_t ns = 0;
    in >> ns;
    return ns;
  }
  ~PythonServer() override {
    proc_->stdin_().close();  // the server stops at EOF on its stdin
    try {
      proc_->wait(std::chrono::seconds(5));
    } catch (...) {
      proc_->kill();
      proc_->wait();
    }
  }

 private:
  std::unique_ptr<pyconc::subprocess::Popen> proc_;
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
      s = std::make_unique<PythonServer>("asyncio");
    } else {
      s = std::make_unique<PythonServer>("uvloop");
    }
  }
  return *s;
}

// ------------------------------------------------------------------ the load generator

class LoadGenerator {
 public:
  LoadGenerator(int port, int conns, std::size_t bytes) : msg_(bytes, 'x'), buf_(65536) {
    msg_.back() = '\n';
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    for (int i = 0; i < conns; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      conns_.push_back({fd, 0, 0});
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = static_cast<std::uint32_t>(i);
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    }
  }
  ~LoadGenerator() {
    for (auto& c : conns_) ::close(c.fd);
    ::close(epfd_);
  }

  // Every connection does `rounds` round trips; returns when all are done.
  void run(int rounds) {
    int active = static_cast<int>(conns_.size());
    for (auto& c : conns_) {
      c.left = rounds;
      c.got = 0;
      send(c);
    }
    std::array<epoll_event, 128> events{};
    while (active > 0) {
      const int n = ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), 10'000);
      if (n <= 0) throw std::runtime_error("echo server stopped answering");
      for (int i = 0; i < n; ++i) {
        Conn& c = conns_[events[i].data.u32];
        const ssize_t r = ::read(c.fd, buf_.data(), buf_.size());
        if (r <= 0) throw std::runtime_error("echo connection closed");
        c.got += static_cast<std::size_t>(r);
        if (c.got < msg_.size()) continue;  // the rest of the echo is on its way
        c.got = 0;
        if (--c.left == 0) {
          --active;
        } else {
          send(c);
        }
      }
    }
  }

 private:
  struct Conn {
    int fd;
    int left;
    std::size_t got;
  };
  void send(Conn& c) {
    std::size_t off = 0;
    while (off < msg_.size()) {  // blocking socket: 4 KiB always fits, this loops only on EINTR
      const ssize_t w = ::write(c.fd, msg_.data() + off, msg_.size() - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(std::string("write: ") + std::strerror(errno));
      }
      off += static_cast<std::size_t>(w);
    }
  }

  std::string msg_;
  std::vector<char> buf_;
  std::vector<Conn> conns_;
  int epfd_ = -1;
};

void BM_Echo(benchmark::State& state, const std::string& impl) {
  const int conns = static_cast<int>(state.range(0));
  const auto bytes = static_cast<std::size_t>(state.range(1));
  try {
    EchoServer& server = server_for(impl);
    LoadGenerator load(server.port(), conns, bytes);
    load.run(1);  // warm up: every connection accepted and served once
    const std::int64_t cpu0 = server.cpu_ns();
    for (auto _ : state) {
      const auto start = std::chrono::steady_clock::now();
      load.run(kRoundsPerIteration);
      state.SetIterationTime(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    // The server's own CPU per request: what it costs, whatever else runs on the machine.
    const double requests = static_cast<double>(state.iterations()) * conns * kRoundsPerIteration;
    state.counters["server_cpu_us_per_req"] =
        static_cast<double>(server.cpu_ns() - cpu0) / 1000.0 / requests;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  const auto per_iteration = static_cast<std::int64_t>(conns) * kRoundsPerIteration;
  state.counters["items_per_iteration"] = static_cast<double>(per_iteration);
  state.SetItemsProcessed(state.iterations() * per_iteration);
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
