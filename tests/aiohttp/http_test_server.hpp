// tests/aiohttp/http_test_server.hpp -- small HTTP/1.1 servers for the client's tests.
//
// TestServer: plain blocking sockets, one thread per connection, requests parsed by the
// library's HttpRequestParser, each handed to the test's handler, which writes whatever it
// wants (well-formed responses, chunks, delays, stalls, half responses). It counts accepted
// connections and the most that were open at once, and records what it saw, so tests observe
// connection reuse, limits and aborted transfers. Every wait is bounded; the destructor
// closes all sockets (a handler blocked in a wait returns early) and joins every thread.
//
// run_command(): runs a program (posix_spawn) and waits for it; its exit status, -1 if it
// could not be started.
//
// NginxServer: nginx serving a temporary directory on a loopback port chosen by the kernel,
// config/pid/logs in that directory, started with posix_spawn and stopped with SIGTERM.
// available() is false when nginx is not installed (tests GTEST_SKIP).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "pyconc/aiohttp/detail/http_parser.hpp"
#include "pyconc/aiohttp/detail/http_response.hpp"

extern char** environ;

namespace pyconc_test {

using namespace std::chrono_literals;

// A bounded one-shot signal between the test and server threads.
class Gate {
 public:
  void open() {
    std::lock_guard g(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // True once open; false after `timeout`.
  bool wait(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock g(mu_);
    return cv_.wait_for(g, timeout, [&] { return open_; });
  }
  bool is_open() {
    std::lock_guard g(mu_);
    return open_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// What a handler sees of one request.
struct TestRequest {
  std::string method;
  std::string target;
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int connection = 0;  // 1-based number of the connection it came on

  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() == name.size() &&
          std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        return v;
      }
    }
    return {};
  }
};

class TestServer;

// The handler's side of a connection.
class TestConn {
 public:
  TestConn(int fd, TestServer* server) : fd_(fd), server_(server) {}

  // Writes all of `data`; false if the peer is gone.
  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // A complete response with Content-Length.
  bool respond(int status, std::string_view body,
               std::vector<std::pair<std::string, std::string>> headers = {},
               std::string_view content_type = "text/plain; charset=utf-8") {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " +
                      std::string(pyconc::detail::http_reason_phrase(status)) + "\r\n";
    bool has_type = false;
    for (const auto& [k, v] : headers) {
      out += k + ": " + v + "\r\n";
      if (k == "Content-Type") has_type = true;
    }
    if (!has_type && !content_type.empty())
      out += "Content-Type: " + std::string(content_type) + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    out += body;
    return send(out);
  }
  // Closes the connection after this response (the server stops reading it).
  void close_after() { close_ = true; }
  bool closing() const { return close_; }

  // Waits until the peer closes or resets the connection (true), the server stops or
  // `timeout` passes (false). Bytes the peer sends meanwhile are discarded.
  bool wait_peer_close(std::chrono::milliseconds timeout = 10s);
  // Sleeps, returning early (false) when the server stops.
  bool sleep(std::chrono::milliseconds d);

  int fd() const { return fd_; }

 private:
  int fd_;
  TestServer* server_;
  bool close_ = false;
};

class TestServer {
 public:
  using Handler = std::function<void(const TestRequest&, TestConn&)>;

  explicit TestServer(Handler handler, int backlog = 128) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error("socket failed");
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, backlog) != 0) {
      ::close(listen_fd_);
      throw std::runtime_error("bind/listen failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  ~TestServer() { stop(); }

  void stop() {
    {
      std::lock_guard g(mu_);
      if (stopping_) return;
      stopping_ = true;
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
      stop_cv_.notify_all();
    }
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard g(mu_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
    ::close(listen_fd_);
  }

  int port() const { return port_; }
  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

  int connections() const { return accepted_.load(); }
  int max_open() const { return max_open_.load(); }
  int open_now() {
    std::lock_guard g(mu_);
    return static_cast<int>(open_fds_.size());
  }
  int requests() const { return requests_.load(); }
  // Requests being handled right now, and the most at once.
  int in_flight() const { return in_flight_.load(); }
  int max_in_flight() const { return max_in_flight_.load(); }
  std::vector<TestRequest> seen() {
    std::lock_guard g(mu_);
    return seen_;
  }
  // Waits until `pred()` holds (polled every ms); false after `timeout`.
  template <class Pred>
  bool wait_until(Pred pred, std::chrono::milliseconds timeout = 10s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= end) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }

  bool stopping() {
    std::lock_guard g(mu_);
    return stopping_;
  }
  // Sleeps up to `d`; false if the server stopped meanwhile.
  bool sleep(std::chrono::milliseconds d) {
    std::unique_lock g(mu_);
    return !stop_cv_.wait_for(g, d, [&] { return stopping_; });
  }

 private:
  void accept_loop() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;  // shut down
      }
      std::lock_guard g(mu_);
      if (stopping_) {
        ::close(fd);
        return;
      }
      const int number = ++accepted_;
      open_fds_.push_back(fd);
      max_open_.store(std::max(max_open_.load(), static_cast<int>(open_fds_.size())));
      threads_.emplace_back([this, fd, number] { serve(fd, number); });
    }
  }

  void serve(int fd, int number) {
    pyconc::detail::HttpRequestParser parser({.max_body_bytes = std::uint64_t{1} << 30});
    TestConn conn(fd, this);
    char buf[65536];
    bool open = true;
    while (open) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        break;
      }
      parser.feed(std::string_view(buf, static_cast<std::size_t>(n)));
      while (auto req = parser.next()) {
        TestRequest r;
        r.method = std::string(req->method());
        r.target = std::string(req->target());
        r.path = std::string(req->path());
        r.query = std::string(req->query_string());
        for (auto [k, v] : req->headers()) r.headers.emplace_back(std::string(k), std::string(v));
        r.body = req->body();
        r.connection = number;
        {
          std::lock_guard g(mu_);
          seen_.push_back(r);
        }
        ++requests_;
        const int now = ++in_flight_;
        int prev = max_in_flight_.load();
        while (prev < now && !max_in_flight_.compare_exchange_weak(prev, now)) {
        }
        handler_(r, conn);
        --in_flight_;
        if (conn.closing() || !req->keep_alive()) {
          open = false;
          break;
        }
      }
      if (parser.should_close() && parser.ready() == 0) open = false;
    }
    {
      std::lock_guard g(mu_);
      open_fds_.erase(std::find(open_fds_.begin(), open_fds_.end(), fd));
    }
    ::close(fd);
  }

  friend class TestConn;
  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable stop_cv_;
  std::vector<std::thread> threads_;
  std::vector<int> open_fds_;
  std::vector<TestRequest> seen_;
  bool stopping_ = false;
  std::atomic<int> accepted_{0};
  std::atomic<int> max_open_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
};

inline bool TestConn::wait_peer_close(std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    if (left.count() <= 0 || server_->stopping()) return false;
    pollfd p{fd_, POLLIN, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 50)));
    if (rc < 0 && errno != EINTR) return false;
    if (rc <= 0) continue;
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EINTR) return true;  // reset
  }
}

inline bool TestConn::sleep(std::chrono::milliseconds d) {
  return server_->sleep(d);
}

// A listening socket whose accept queue is full and never drained: connecting to it hangs
// (the kernel drops the SYNs), which is how a connect timeout is tested offline.
class Blackhole {
 public:
  Blackhole() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    // Fill the queue: connect until a handshake no longer completes (the queue is full; with
    // backlog 0 Linux queues one connection).
    for (int i = 0; i < 16; ++i) {
      const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      ::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      fillers_.push_back(c);
      pollfd p{c, POLLOUT, 0};
      if (::poll(&p, 1, 200) == 0) break;  // this one hangs: so will the client's
    }
  }
  ~Blackhole() {
    for (int c : fillers_) ::close(c);
    ::close(fd_);
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::vector<int> fillers_;
};

inline int run_command(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// nginx on a loopback port, serving `root` (a temporary directory of the fixture).
class NginxServer {
 public:
  static std::string binary() {
    for (const char* p : {"/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"}) {
      if (::access(p, X_OK) == 0) return p;
    }
    return {};
  }
  static bool available() { return !binary().empty(); }

  // `extra` goes inside the server block; `listen_options` after the listen address
  // ("ssl http2" with ssl_certificate lines in `extra` for HTTPS).
  explicit NginxServer(std::string extra = {}, std::string listen_options = {})
      : listen_options_(std::move(listen_options)) {
    char tmpl[] = "/tmp/pyconc-nginx-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);  // workers may run as another user when started by root
    std::filesystem::create_directories(dir_ + "/www");
    ::chmod((dir_ + "/www").c_str(), 0755);
    extra_ = std::move(extra);
  }
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;
  ~NginxServer() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Replaces the configuration given to the constructor (before start()).
  void configure(std::string extra, std::string listen_options = {}) {
    extra_ = std::move(extra);
    listen_options_ = std::move(listen_options);
  }

  // Writes a file under the document root.
  void put(const std::string& path, std::string_view content) {
    const std::string full = dir_ + "/www/" + path;
    std::filesystem::create_directories(std::filesystem::path(full).parent_path());
    std::ofstream f(full, std::ios::binary);
    f.write(content.data(), static_cast<std::streamsize>(content.size()));
    f.close();
    ::chmod(full.c_str(), 0644);
  }

  // Starts nginx and waits (bounded) until it accepts connections. The port is one the kernel
  // just handed out; should another process take it first, nginx fails and a new one is tried.
  void start() {
    std::string why;
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = free_port();
      write_config();
      if (try_start(why)) return;
    }
    throw std::runtime_error("nginx did not start: " + why);
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  int port() const { return port_; }
  std::string url(std::string_view path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  std::string log() const {
    std::ifstream f(dir_ + "/error.log");
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  const std::string& dir() const { return dir_; }

 private:
  void write_config() {
    std::ofstream conf(dir_ + "/nginx.conf");
    conf << "daemon off;\nworker_processes 1;\npid " << dir_ << "/nginx.pid;\n"
         << "error_log " << dir_ << "/error.log warn;\n"
         << "events { worker_connections 1024; }\n"
         << "http {\n  access_log off;\n"
         << "  client_body_temp_path " << dir_ << "/body;\n  proxy_temp_path " << dir_
         << "/proxy;\n"
         << "  fastcgi_temp_path " << dir_ << "/fastcgi;\n  uwsgi_temp_path " << dir_ << "/uwsgi;\n"
         << "  scgi_temp_path " << dir_ << "/scgi;\n"
         << "  keepalive_requests 100000;\n  default_type application/octet-stream;\n"
         << "  types { text/html html; text/plain txt; application/json json; }\n"
         << "  server {\n    listen 127.0.0.1:" << port_ << " " << listen_options_ << ";\n"
         << "    root " << dir_ << "/www;\n"
         << extra_ << "\n  }\n}\n";
  }

  bool try_start(std::string& why) {
    const std::string bin = binary();
    const std::string conf = dir_ + "/nginx.conf";
    const std::string elog = dir_ + "/error.log";
    std::vector<std::string> args = {bin, "-p", dir_, "-c", conf, "-e", elog};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (::posix_spawn(&pid_, bin.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
      throw std::runtime_error("posix_spawn nginx failed");
    }
    const auto end = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < end) {
      if (can_connect()) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        why = log();
        return false;
      }
      std::this_thread::sleep_for(5ms);
    }
    stop();
    why = "no connection within 10 s: " + log();
    return false;
  }

  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
  }
  bool can_connect() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  std::string dir_;
  std::string extra_;
  std::string listen_options_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace pyconc_test
