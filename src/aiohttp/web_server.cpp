// The HTTP/1.1 server: accept loop, one task per connection, graceful shutdown, run_app.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "pyconc/aiohttp/detail/http_response.hpp"
#include "pyconc/aiohttp/web/exceptions.hpp"
#include "pyconc/aiohttp/web/server.hpp"
#include "pyconc/asyncio/detail/io_handle.hpp"
#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/future.hpp"
#include "pyconc/asyncio/sleep.hpp"
#include "pyconc/asyncio/timeout.hpp"
#include "pyconc/detail/exception_info.hpp"

namespace pyconc::aiohttp::web {
namespace detail_web {

namespace aio = pyconc::asyncio;
using pyconc::detail::Clock;

// A one-shot-at-a-time wake-up for one waiting task (loop-thread only): the accept loop
// waiting for a free connection slot, shutdown waiting for connections to finish.
class Notifier {
 public:
  class Awaiter final : public pyconc::detail::SuspendPoint {
   public:
    explicit Awaiter(Notifier* n) : n_(n) {}
    Awaiter(Awaiter&& o) noexcept : n_(o.n_) {}  // before it is awaited only
    ~Awaiter() {
      if (n_->waiter_ == this) n_->waiter_ = nullptr;
    }
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
      park(h);
      n_->waiter_ = this;
    }
    void await_resume() {
      if (n_->waiter_ == this) n_->waiter_ = nullptr;
      resume_check();
    }
    bool cancel() noexcept override {
      if (!cancellable()) return false;
      if (n_->waiter_ == this) n_->waiter_ = nullptr;
      return cancelled_now();
    }
    void wake() noexcept { complete(); }

   private:
    Notifier* n_;
  };
  Awaiter wait() { return Awaiter(this); }
  void notify() noexcept {
    if (waiter_ != nullptr) {
      Awaiter* w = waiter_;
      waiter_ = nullptr;
      w->wake();
    }
  }

 private:
  Awaiter* waiter_ = nullptr;
};

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Fd(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string peer_address(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof buf);
  } else if (ss.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, buf, sizeof buf);
  }
  return buf;
}

class HttpServer {
 public:
  HttpServer(Application& app, ServerOptions options) : app_(app), options_(std::move(options)) {}

  ~HttpServer() {
    for (auto& l : listeners_) {
      if (l->task.valid() && !l->task.done()) l->task.cancel();
    }
  }

  // Binds, listens and starts the accept task. Returns the bound port.
  int listen(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string service = std::to_string(port);
    const char* node = host.empty() ? nullptr : host.c_str();
    // Resolving the bind address at start-up blocks once, before serving (like aiohttp's).
    if (int rc = ::getaddrinfo(node, service.c_str(), &hints, &res); rc != 0) {
      throw OSError(EINVAL, "getaddrinfo(" + host + "): " + ::gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, ::freeaddrinfo);
    int fd = ::socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_os_error(errno, "socket");
    auto l = std::make_unique<Listener>(fd);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (options_.reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
      throw_os_error(errno, "bind(" + host + ":" + service + ")");
    }
    if (::listen(fd, options_.backlog) != 0) throw_os_error(errno, "listen");
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    const int bound = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(ss).sin6_port
                                                     : reinterpret_cast<sockaddr_in&>(ss).sin_port);
    auto& loop = aio::get_running_loop();
    l->io = std::make_unique<pyconc::detail::IoHandle>(loop, fd);
    Listener* raw = l.get();
    listeners_.push_back(std::move(l));
    raw->task = aio::create_task(accept_loop(raw), "http-accept");
    return bound;
  }

  // Graceful: stop accepting, close idle connections, let busy ones finish (bounded).
  aio::Task<> shutdown() {
    draining_ = true;
    // Stop accepting, and wait until each accept loop has unwound: it is parked on its
    // listener's IoHandle, which must outlive it.
    for (auto& l : listeners_) {
      if (!l->task.valid() || l->task.done()) continue;
      l->task.cancel();
      try {
        co_await l->task;
      } catch (const CancelledError&) {
      }
    }
    for (auto& c : conns_) {
      if (c.idle && c.task.valid()) c.task.cancel();
    }
    const auto deadline = Clock::now() + options_.shutdown_timeout;
    while (!conns_.empty() && Clock::now() < deadline) {
      try {
        co_await aio::timeout_at(deadline, drained_.wait());
      } catch (const TimeoutError&) {
      }
    }
    // Past the grace period: cancel what is left and wait for it to unwind.
    for (auto& c : conns_) {
      if (c.task.valid()) c.task.cancel();
    }
    while (!conns_.empty()) co_await drained_.wait();
    for (auto& l : listeners_) {
      l->io.reset();
      l->fd.reset();
    }
  }

  std::size_t connections() const noexcept { return conns_.size(); }

 private:
  struct Listener {
    std::optional<Fd> fd;
    std::unique_ptr<pyconc::detail::IoHandle> io;
    aio::Task<> task;
    explicit Listener(int f) { fd.emplace(f); }
    ~Listener() { io.reset(); }
  };
  struct Conn {
    aio::TaskRef task;
    bool idle = false;  // waiting for the next request on a kept-alive connection
  };

  aio::Task<> accept_loop(Listener* l) {
    const int lfd = l->fd->fd;
    for (;;) {
      if (conns_.size() >= options_.max_connections) {
        co_await slot_free_.wait();  // at the limit: let the kernel's backlog hold them
        continue;
      }
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      const int fd =
          ::accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        const int err = errno;
        if (err == EAGAIN || err == EWOULDBLOCK) {
          co_await l->io->readable();
        } else if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
          // Out of descriptors: back off instead of spinning (the pending ones wait).
          co_await aio::sleep(std::chrono::milliseconds(50));
        }
        continue;  // ECONNABORTED, EINTR, ...: next
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      Fd sock(fd);
      conns_.emplace_back();
      auto it = std::prev(conns_.end());
      try {
        auto task =
            aio::create_task(serve(std::move(sock), peer_address(ss), it), "http-connection");
        it->task = aio::TaskRef(task);
        // Bookkeeping in a done-callback, not in the coroutine: a connection task cancelled
        // before its first step never runs its body (the socket, a parameter, still closes).
        task.add_done_callback([this, it] {
          conns_.erase(it);
          slot_free_.notify();
          if (conns_.empty()) drained_.notify();
        });
      } catch (...) {
        conns_.erase(it);
      }
    }
  }

  void write_error(std::string& out, int status, std::string_view reason) {
    const std::string body = std::to_string(status) + ": " + std::string(reason);
    pyconc::detail::HttpResponseHead head{.status = status,
                                          .content_length = body.size(),
                                          .keep_alive = false,
                                          .server = options_.server_header};
    pyconc::detail::write_response_head(out, head, {{"Content-Type", "text/plain; charset=utf-8"}});
    out += body;
  }

  void write_response(std::string& out, const Request& req, Response& resp, bool keep_alive) {
    const int status = resp.status();
    const bool no_body = status < 200 || status == 204 || status == 304;
    pyconc::detail::HttpResponseHead head{
        .status = status,
        .reason = resp.reason(),
        .version_minor = req.version_minor() == 0 ? 0 : 1,
        .content_length = no_body ? std::nullopt : std::optional<std::uint64_t>(resp.body().size()),
        .keep_alive = keep_alive && resp.keep_alive(),
        .server = options_.server_header};
    pyconc::detail::append_status_line(out, head);
    unsigned given = 0;
    if (!no_body)
      given |= pyconc::detail::append_header(out, "Content-Type", resp.content_type_header());
    for (const auto& [name, value] : resp.headers())
      given |= pyconc::detail::append_header(out, name, value);
    pyconc::detail::finish_response_head(out, head, given);
    if (!no_body && req.method() != "HEAD") out += resp.body();
  }

  // Writes `out` completely (parking while the socket is full); false if the peer is gone.
  static aio::Task<bool> flush_slow(pyconc::detail::IoHandle& io, int fd, std::string& out,
                                    std::size_t done) {
    while (done < out.size()) {
      const ssize_t n = ::send(fd, out.data() + done, out.size() - done, MSG_NOSIGNAL);
      if (n >= 0) {
        done += static_cast<std::size_t>(n);
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        co_await io.writable();
      } else if (errno != EINTR) {
        co_return false;
      }
    }
    out.clear();
    co_return true;
  }

  aio::Task<> serve(Fd sock, std::string peer, std::list<Conn>::iterator self) {
    const int fd = sock.fd;
    pyconc::detail::IoHandle io(aio::get_running_loop(), fd);
    pyconc::detail::HttpRequestParser parser(options_.limits);
    aio::Timeout deadline(Clock::now() + options_.keepalive_timeout);
    Request req;
    std::string out;
    auto request_started = Clock::now();
    bool was_idle = true;
    bool linger = false;  // we close while the client may still be sending
    try {
      for (;;) {
        // 1. Read what is there (the loop-wide buffer: feed() copies what it keeps).
        const ssize_t n = ::recv(fd, read_buffer_, sizeof read_buffer_, 0);
        if (n < 0) {
          const int err = errno;
          if (err == EINTR) continue;
          if (err != EAGAIN && err != EWOULDBLOCK) break;  // reset by peer
          const auto phase = parser.phase();
          self->idle = phase == pyconc::detail::HttpParserPhase::idle;
          if (draining_ && self->idle) break;
          if (self->idle) {
            deadline.reschedule(Clock::now() + options_.keepalive_timeout);
            was_idle = true;
          } else {
            if (was_idle) request_started = Clock::now();
            was_idle = false;
            deadline.reschedule(request_started + options_.request_timeout);
          }
          co_await io.readable();
          continue;
        }
        self->idle = false;
        if (n == 0) {
          parser.feed_eof();
        } else {
          parser.feed(std::string_view(read_buffer_, static_cast<std::size_t>(n)));
        }
        if (parser.take_expect_continue()) out += "HTTP/1.1 100 Continue\r\n\r\n";
        // 2. Answer every complete request, in order (pipelining), batching the writes.
        bool close_after = false;
        while (parser.next(req.raw())) {
          deadline.reschedule(std::nullopt);  // a handler's time is not the client's
          // Per request: a later pipelined request that closes must not close earlier ones.
          const bool keep = req.keep_alive() && !draining_;
          Response resp;
          bool ok = true;
          try {
            req.prepare(&app_, peer);
            resp = co_await app_.handle(req);
          } catch (const HTTPException& e) {
            resp = e.to_response();
          } catch (const CancelledError&) {
            throw;
          } catch (...) {
            ok = false;
            aio::get_running_loop().call_exception_handler({"Error handling request " +
                                                                std::string(req.method()) + " " +
                                                                std::string(req.path_qs()),
                                                            std::current_exception(),
                                                            {}});
          }
          if (!ok) resp = HTTPInternalServerError().to_response();
          try {
            write_response(out, req, resp, keep);
          } catch (const ValueError& e) {  // a handler set a header it may not
            aio::get_running_loop().call_exception_handler(
                {std::string("Invalid response: ") + e.what(), std::current_exception(), {}});
            out.clear();
            write_error(out, 500, "Internal Server Error");
            close_after = true;
            break;
          }
          if (!keep || !resp.keep_alive()) {
            close_after = true;
            break;
          }
          if (out.size() > 65536 && !(co_await flush_slow(io, fd, out, 0))) co_return;
        }
        if (parser.phase() == pyconc::detail::HttpParserPhase::error && !close_after) {
          write_error(out, parser.error_status(), parser.error_reason());
          close_after = true;
          linger = n > 0;
        }
        // 3. Write the batch: one syscall in the common case.
        if (!out.empty()) {
          const ssize_t w = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
          if (w == static_cast<ssize_t>(out.size())) {
            out.clear();
          } else if (!(co_await flush_slow(io, fd, out, w > 0 ? static_cast<std::size_t>(w) : 0))) {
            break;
          }
        }
        if (close_after || (parser.should_close() && parser.ready() == 0) || n == 0) break;
      }
    } catch (const CancelledError&) {
      // Our deadline (slowloris, idle keep-alive) or the server's shutdown: close.
      deadline.leave(true);
      linger = false;
    }
    ::shutdown(fd, SHUT_WR);
    if (linger) co_await lingering_close(io, fd, deadline);
  }

  // Closing a socket with unread input makes the kernel send RST, which can destroy the error
  // response we just sent before the client reads it. So, like nginx's lingering_close, read
  // and discard what the client still sends (up to 1 MiB, for at most a second) first.
  aio::Task<> lingering_close(pyconc::detail::IoHandle& io, int fd, aio::Timeout& deadline) {
    try {
      deadline.reschedule(Clock::now() + std::chrono::seconds(1));
      std::size_t discarded = 0;
      while (discarded < (1U << 20)) {
        const ssize_t n = ::recv(fd, read_buffer_, sizeof read_buffer_, 0);
        if (n == 0) break;
        if (n > 0) {
          discarded += static_cast<std::size_t>(n);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
          co_await io.readable();
        } else if (errno != EINTR) {
          break;
        }
      }
    } catch (const CancelledError&) {
      deadline.leave(true);
    } catch (const RuntimeError&) {  // the deadline had already expired
    }
  }

  Application& app_;
  ServerOptions options_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::list<Conn> conns_;
  Notifier slot_free_;
  Notifier drained_;
  bool draining_ = false;
  char read_buffer_[65536];
};

}  // namespace detail_web

// --- AppRunner / TCPSite ---

AppRunner::AppRunner(Application& app, ServerOptions options)
    : app_(app), options_(std::move(options)) {}
AppRunner::~AppRunner() = default;

asyncio::Task<> AppRunner::setup() {
  server_ = std::make_unique<detail_web::HttpServer>(app_, options_);
  co_await app_.startup();
}

asyncio::Task<> AppRunner::cleanup() {
  if (server_) co_await server_->shutdown();
  co_await app_.shutdown();
  co_await app_.cleanup();
  server_.reset();
}

detail_web::HttpServer& AppRunner::server() {
  if (!server_) throw RuntimeError("AppRunner: call setup() first");
  return *server_;
}

std::size_t AppRunner::connections() const noexcept {
  return server_ ? server_->connections() : 0;
}

TCPSite::TCPSite(AppRunner& runner, std::string host, int port)
    : runner_(runner), host_(std::move(host)), port_(port) {}

asyncio::Task<> TCPSite::start() {
  port_ = runner_.server().listen(host_, port_);
  co_return;
}

std::string TCPSite::url() const {
  const bool v6 = host_.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_);
}

// --- run_app ---

namespace {

// Self-pipe for SIGINT/SIGTERM and stop_app(): the handler only write()s (async-signal-safe).
// stop_app() (a thread, not a signal) takes g_stop_mu so run_app cannot close the pipe under it;
// run_app clears g_stop_fd under the same mutex, after restoring the signal handlers, before
// it closes the pipe.
std::atomic<int> g_stop_fd{-1};
std::mutex g_stop_mu;

void request_stop() noexcept {
  std::lock_guard g(g_stop_mu);
  const int fd = g_stop_fd.load();
  if (fd >= 0) {
    const char b = 1;
    [[maybe_unused]] auto r = ::write(fd, &b, 1);
  }
}

extern "C" void on_stop_signal(int) {
  const int fd = g_stop_fd.load();
  if (fd >= 0) {
    const char b = 1;
    [[maybe_unused]] auto r = ::write(fd, &b, 1);
  }
}

asyncio::Task<> serve_until_stopped(Application& app, const RunAppOptions& options,
                                    int stop_read_fd, bool print_banner,
                                    std::atomic<int>* started) {
  AppRunner runner(app, options.server);
  co_await runner.setup();
  TCPSite site(runner, options.host, options.port);
  co_await site.start();
  if (print_banner) {
    const std::string line =
        "======== Running on " + site.url() + " ========\n(Press CTRL+C to quit)";
    if (options.print) {
      options.print(line);
    } else {
      std::cout << line << std::endl;
    }
  }
  if (started != nullptr) started->fetch_add(1);
  // Wait for the stop byte (signal, stop_app, or the main worker telling the others).
  pyconc::Future<void> stop;
  auto& loop = asyncio::get_running_loop();
  loop.add_reader(stop_read_fd, [stop]() mutable {
    if (!stop.done()) stop.set_result();
  });
  co_await stop;
  loop.remove_reader(stop_read_fd);
  co_await runner.cleanup();
}

}  // namespace

void run_app(Application& app, RunAppOptions options) {
  if (options.workers < 1) throw ValueError("run_app: workers must be >= 1");
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0) throw_os_error(errno, "pipe2");
  detail_web::Fd rd(pipefd[0]), wr(pipefd[1]);
  int expected = -1;
  if (!g_stop_fd.compare_exchange_strong(expected, pipefd[1])) {
    throw RuntimeError("run_app is already running in this process");
  }
  struct Restore {
    struct sigaction old_int {
    }, old_term{};
    bool installed = false;
    ~Restore() {
      if (installed) {
        ::sigaction(SIGINT, &old_int, nullptr);
        ::sigaction(SIGTERM, &old_term, nullptr);
      }
      std::lock_guard g(g_stop_mu);
      g_stop_fd.store(-1);
    }
  } restore;
  if (options.handle_signals) {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &sa, &restore.old_int);
    ::sigaction(SIGTERM, &sa, &restore.old_term);
    restore.installed = true;
  }
  if (options.workers > 1) options.server.reuse_port = true;
  // Every worker watches the same pipe: one byte wakes... all of them (level-triggered, never
  // read), so a single signal stops every loop.
  std::vector<std::thread> workers;
  std::exception_ptr worker_error;
  std::mutex error_mu;
  for (int i = 1; i < options.workers; ++i) {
    workers.emplace_back([&, i] {
      try {
        asyncio::run(serve_until_stopped(app, options, rd.fd, false, nullptr));
      } catch (...) {
        std::lock_guard g(error_mu);
        if (!worker_error) worker_error = std::current_exception();
        request_stop();
      }
      (void)i;
    });
  }
  std::exception_ptr main_error;
  try {
    asyncio::run(serve_until_stopped(app, options, rd.fd, true, nullptr));
  } catch (...) {
    main_error = std::current_exception();
    request_stop();
  }
  for (auto& t : workers) t.join();
  if (main_error) std::rethrow_exception(main_error);
  if (worker_error) std::rethrow_exception(worker_error);
}

void stop_app() noexcept {
  request_stop();
}

}  // namespace pyconc::aiohttp::web
