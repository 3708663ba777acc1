// bench/echo_load.hpp -- what the echo benchmarks (asyncio_echo_bench: TCP streams,
// websocket_echo_bench: WebSocket messages) share: a server's CPU clock, a Python server
// started as a child process, and the load generator that drives every server alike.
//
// The load generator is one thread of the benchmark process with its own epoll (no library):
// the same client for every server, so the ratios compare the servers only. Each connection
// sends its request bytes, waits until `reply_size` bytes came back, and sends again (a
// ping-pong per connection, all connections in flight). An optional handshake (a WebSocket
// upgrade) is sent on each connection first and its answer's head read.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pyconc/subprocess.hpp"

namespace bench_echo {

// CPU time (ns) a thread has used, read through its clock.
inline std::int64_t thread_cpu_ns(std::thread& t) {
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

// A Python server: /usr/bin/python3 (else python3) running `args`; it prints "PORT <n>" once
// listening and serves until its stdin reaches EOF.
class PythonServer final : public EchoServer {
 public:
  explicit PythonServer(const std::vector<std::string>& args) {
    const std::string py = ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    namespace sp = pyconc::subprocess;
    std::vector<std::string> cmd{py};
    cmd.insert(cmd.end(), args.begin(), args.end());
    proc_ =
        std::make_unique<sp::Popen>(cmd, sp::PopenOptions{.stdin_ = sp::PIPE, .stdout_ = sp::PIPE});
    const std::string line = proc_->stdout_().readline();
    if (line.rfind("PORT ", 0) != 0) {
      std::string what;
      for (const auto& a : args) what += a + " ";
      throw std::runtime_error(what + ": " + (line.empty() ? std::string("no output") : line));
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

class LoadGenerator {
 public:
  LoadGenerator(int port, int conns, std::string request, std::size_t reply_size,
                const std::string& handshake = {})
      : msg_(std::move(request)), reply_size_(reply_size), buf_(65536) {
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
      if (!handshake.empty()) upgrade(fd, handshake);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = static_cast<std::uint32_t>(i);
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    }
  }
  LoadGenerator(LoadGenerator&& o) noexcept
      : msg_(std::move(o.msg_)),
        reply_size_(o.reply_size_),
        buf_(std::move(o.buf_)),
        conns_(std::move(o.conns_)),
        epfd_(std::exchange(o.epfd_, -1)) {}
  LoadGenerator& operator=(LoadGenerator&&) = delete;
  ~LoadGenerator() {
    for (auto& c : conns_) ::close(c.fd);
    if (epfd_ >= 0) ::close(epfd_);
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
        if (c.got < reply_size_) continue;  // the rest of the echo is on its way
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
  void write_all(int fd, std::string_view data) {
    while (!data.empty()) {  // blocking socket: a small request fits, this loops on EINTR
      const ssize_t w = ::write(fd, data.data(), data.size());
      if (w < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(std::string("write: ") + std::strerror(errno));
      }
      data.remove_prefix(static_cast<std::size_t>(w));
    }
  }
  void send(Conn& c) { write_all(c.fd, msg_); }
  // Sends the handshake and reads its answer's head (the server sends nothing after it).
  void upgrade(int fd, const std::string& handshake) {
    write_all(fd, handshake);
    std::string head;
    while (head.find("\r\n\r\n") == std::string::npos) {
      const ssize_t r = ::read(fd, buf_.data(), buf_.size());
      if (r <= 0) throw std::runtime_error("handshake: connection closed");
      head.append(buf_.data(), static_cast<std::size_t>(r));
    }
    if (head.rfind("HTTP/1.1 101", 0) != 0) {
      throw std::runtime_error("handshake refused: " + head.substr(0, head.find("\r\n")));
    }
  }

  std::string msg_;
  std::size_t reply_size_;
  std::vector<char> buf_;
  std::vector<Conn> conns_;
  int epfd_ = -1;
};

// The body of an echo benchmark: `make_load(server)` builds the load generator (connected,
// handshakes done), then each iteration is `rounds` round trips on every connection, timed
// by hand. Reports messages/s (items_per_second) and the server's own CPU per message, what
// it costs whatever else runs on the machine. Errors skip the benchmark with their text.
inline void measure_echo(benchmark::State& state, const std::function<EchoServer&()>& server_of,
                         const std::function<LoadGenerator(EchoServer&)>& make_load, int conns,
                         int rounds) {
  try {
    EchoServer& server = server_of();
    LoadGenerator load = make_load(server);
    load.run(1);  // warm up: every connection accepted and served once
    const std::int64_t cpu0 = server.cpu_ns();
    for (auto _ : state) {
      const auto start = std::chrono::steady_clock::now();
      load.run(rounds);
      state.SetIterationTime(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    const double requests = static_cast<double>(state.iterations()) * conns * rounds;
    state.counters["server_cpu_us_per_req"] =
        static_cast<double>(server.cpu_ns() - cpu0) / 1000.0 / requests;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  const auto per_iteration = static_cast<std::int64_t>(conns) * rounds;
  state.counters["items_per_iteration"] = static_cast<double>(per_iteration);
  state.SetItemsProcessed(state.iterations() * per_iteration);
}

}  // namespace bench_echo
