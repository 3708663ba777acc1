// HttpServer: listening sockets, the accept loop and one task per connection (see
// http_server.hpp).
#include "http_server.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <list>
#include <optional>
#include <utility>
#include <vector>

#include "pyconc/aiohttp/detail/http_response.hpp"
#include "pyconc/aiohttp/web/exceptions.hpp"
#include "pyconc/asyncio/detail/io_handle.hpp"
#include "pyconc/asyncio/detail/socket.hpp"
#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/sleep.hpp"
#include "pyconc/asyncio/timeout.hpp"
#include "pyconc/detail/exception_info.hpp"
#include "pyconc/detail/trace.hpp"
#include "pyconc/detail/unique_fd.hpp"
#include "server_connection.hpp"

namespace pyconc::detail {

namespace aio = pyconc::asyncio;
using aiohttp::web::Application;
using aiohttp::web::HTTPException;
using aiohttp::web::HTTPInternalServerError;
using aiohttp::web::Request;
using aiohttp::web::Response;
using aiohttp::web::ServerOptions;

namespace {

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

}  // namespace

class HttpServer::Impl {
 public:
  Impl(Application& app, ServerOptions options) : app_(app), options_(std::move(options)) {}

  ~Impl() {
    for (auto& l : listeners_) {
      if (l->task.valid() && !l->task.done()) l->task.cancel();
    }
  }

  // Binds, listens and starts the accept task. Returns the bound port.
  int listen(const std::string& host, int port, std::optional<aio::SSLContext> ssl) {
    if (ssl && !ssl->is_server()) {
      throw ValueError(
          "TCPSite: a client SSLContext cannot serve connections: use SSLContext::server(cert, "
          "key)");
    }
    // Resolving the bind address at start-up blocks once, before serving (like aiohttp's).
    const std::vector<SockAddr> addrs = getaddrinfo_tcp(host, port, AF_UNSPEC, /*passive=*/true);
    if (addrs.empty()) throw OSError(EINVAL, "getaddrinfo(" + host + "): no address");
    UniqueFd fd;
    const char* call = "listen";
    const ListenOptions lo{.backlog = options_.backlog, .reuse_port = options_.reuse_port};
    if (const int err = open_listener(addrs.front(), lo, fd, &call); err != 0) {
      throw_os_error(err, std::string(call) + "(" + addrs.front().to_string() + ")");
    }
    const std::optional<SockAddr> bound = local_address(fd.get());
    auto l = std::make_unique<Listener>(std::move(fd));
    l->ssl = std::move(ssl);
    l->io = std::make_unique<IoHandle>(aio::get_running_loop(), l->fd.get());
    Listener* raw = l.get();
    listeners_.push_back(std::move(l));
    raw->task = aio::create_task(accept_loop(raw), "http-accept");
    return bound ? bound->to_public().port : port;
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
    UniqueFd fd;
    std::unique_ptr<IoHandle> io;
    aio::Task<> task;
    std::optional<aio::SSLContext> ssl;  // a TLS site: every connection handshakes first
    explicit Listener(UniqueFd f) : fd(std::move(f)) {}
    ~Listener() { io.reset(); }
  };
  struct Conn {
    aio::TaskRef task;
    bool idle = false;  // waiting for the next request on a kept-alive connection
  };

  aio::Task<> accept_loop(Listener* l) {
    const int lfd = l->fd.get();
    for (;;) {
      if (conns_.size() >= options_.max_connections) {
        co_await slot_free_.wait();  // at the limit: let the kernel's backlog hold them
        continue;
      }
      SockAddr peer;
      const int fd = accept_connection(lfd, peer);
      if (fd < 0) {
        const int err = -fd;
        if (err == EAGAIN || err == EWOULDBLOCK) {
          co_await l->io->readable();
        } else if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
          // Out of descriptors: back off instead of spinning (the pending ones wait).
          co_await aio::sleep(std::chrono::milliseconds(50));
        }
        continue;  // ECONNABORTED, EINTR, ...: next
      }
      set_nodelay(fd);
      UniqueFd sock(fd);
      conns_.emplace_back();
      auto it = std::prev(conns_.end());
      try {
        auto task = aio::create_task(serve(std::move(sock), peer.to_public().host, it, l->ssl),
                                     "http-connection");
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
    HttpResponseHead head{.status = status,
                          .content_length = body.size(),
                          .keep_alive = false,
                          .server = options_.server_header};
    write_response_head(out, head, {{"Content-Type", "text/plain; charset=utf-8"}});
    out += body;
  }

  void write_response(std::string& out, const Request& req, Response& resp, bool keep_alive) {
    const int status = resp.status();
    const bool no_body = status < 200 || status == 204 || status == 304;
    HttpResponseHead head{
        .status = status,
        .reason = resp.reason(),
        .version_minor = req.version_minor() == 0 ? 0 : 1,
        .content_length = no_body ? std::nullopt : std::optional<std::uint64_t>(resp.body().size()),
        .keep_alive = keep_alive && resp.keep_alive(),
        .server = options_.server_header};
    append_status_line(out, head);
    unsigned given = 0;
    if (!no_body) given |= append_header(out, "Content-Type", resp.content_type_header());
    for (const auto& [name, value] : resp.headers()) given |= append_header(out, name, value);
    finish_response_head(out, head, given);
    if (!no_body && req.method() != "HEAD") out += resp.body();
  }

  // Answers the request in `req` on `conn`: the handler's response, an error page, or the
  // end of a stream the handler started itself. Returns false when the connection must close
  // after it.
  aio::Task<bool> answer(HttpServerConnection& conn, Request& req, const std::string& peer,
                         bool keep) {
    std::string& out = conn.out();
    conn.begin(req.method() == "HEAD", req.version_minor(), keep);
    // Tracing: the request's span, "GET /path", with the status it was answered with (0: the
    // handler answered itself, as a stream or a WebSocket).
    TraceSpan span(
        "http.server",
        tracing() ? std::string(req.method()) + " " + std::string(req.path_qs()) : std::string(),
        true);
    span.args().k1 = "status";
    Response resp;
    bool ok = true;
    try {
      req.prepare(&app_, peer);
      resp = co_await app_.handle(req);
      // A FileResponse (maybe through a middleware, as a Response) answers for itself.
      if (!conn.exchange().started && resp.sends_self()) co_await resp.send_self(req);
      span.args().v1 = resp.status();
    } catch (const HTTPException& e) {
      resp = e.to_response();
      span.args().v1 = resp.status();
      // Raised after a StreamResponse started: too late for its status.
      if (conn.exchange().started) ok = false;
    } catch (const CancelledError&) {
      throw;
    } catch (...) {
      ok = false;
      aio::get_running_loop().call_exception_handler(
          {"Error handling request " + std::string(req.method()) + " " + std::string(req.path_qs()),
           std::current_exception(),
           {}});
    }
    auto& ex = conn.exchange();
    if (ex.started) {
      // The handler answered itself (StreamResponse, WebSocketResponse): never a second
      // response; finish what it left open.
      if (ex.upgraded) {
        // Left open: 1000 as aiohttp, or 1011 (internal error) when the handler failed.
        if (auto ws = conn.websocket(); ws && !ws->closed()) {
          co_await ws->close(ok ? 1000 : 1011, {});
        }
        co_return false;
      }
      if (!ok || conn.broken()) co_return false;
      if (!ex.finished) {
        try {
          co_await conn.write_eof({});
        } catch (const Error&) {
          co_return false;
        }
      }
      co_return !ex.must_close;
    }
    if (ok && resp.status() < 200) {
      // A 1xx cannot be the final answer: a WebSocketResponse returned without prepare().
      aio::get_running_loop().call_exception_handler(
          {"Invalid response to " + std::string(req.method()) + " " + std::string(req.path_qs()) +
               ": status " + std::to_string(resp.status()) + " without prepare()",
           nullptr,
           {}});
      ok = false;
    }
    if (!ok) resp = HTTPInternalServerError().to_response();
    span.args().v1 = resp.status();
    const std::size_t mark = out.size();
    try {
      write_response(out, req, resp, keep);
    } catch (const ValueError& e) {  // a handler set a header it may not
      aio::get_running_loop().call_exception_handler(
          {std::string("Invalid response: ") + e.what(), std::current_exception(), {}});
      out.resize(mark);
      write_error(out, 500, "Internal Server Error");
      co_return false;
    }
    co_return keep&& resp.keep_alive();
  }

  aio::Task<> serve(UniqueFd sock, std::string peer, std::list<Conn>::iterator self,
                    std::optional<aio::SSLContext> ssl) {
    const int fd = sock.get();
    IoHandle io(aio::get_running_loop(), fd);
    auto conn = std::make_shared<HttpServerConnection>(fd, io, options_.server_header);
    // Whatever ends this task, the connection's handles (a StreamResponse or WebSocket a
    // handler kept) must stop using the socket before it closes.
    struct Detach {
      HttpServerConnection& c;
      ~Detach() { c.detach(); }
    } detach{*conn};
    HttpRequestParser parser(options_.limits);
    aio::Timeout deadline(Clock::now() + options_.keepalive_timeout);
    Request req;
    req.set_connection(conn);
    std::string& out = conn->out();
    auto request_started = Clock::now();
    bool was_idle = true;
    bool linger = false;  // we close while the client may still be sending
    try {
      if (ssl) {
        // TLS first, within the time a request's head is given.
        conn->start_tls(make_tls_session(*ssl, /*server_side=*/true, {}));
        deadline.reschedule(Clock::now() + options_.request_timeout);
        if (!(co_await conn->handshake(read_buffer_, sizeof read_buffer_))) {
          ::shutdown(fd, SHUT_WR);
          co_await lingering_close(io, fd, deadline);
          co_return;
        }
      }
      for (;;) {
        // 1. Read what is there (the loop-wide buffer: feed() copies what it keeps).
        const ssize_t n = conn->recv_some(read_buffer_, sizeof read_buffer_);
        if (n < 0) {
          const int err = errno;
          if (err == EINTR) continue;
          if (err != EAGAIN && err != EWOULDBLOCK) break;  // reset by peer
          const auto phase = parser.phase();
          self->idle = phase == HttpParserPhase::idle;
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
          const std::string_view data(read_buffer_, static_cast<std::size_t>(n));
          const std::size_t used = parser.feed(data);
          // After an upgrade request the rest is the new protocol's (a WebSocket's frames).
          if (parser.phase() == HttpParserPhase::upgraded)
            conn->leftover().assign(data.substr(used));
        }
        if (parser.take_expect_continue()) out += "HTTP/1.1 100 Continue\r\n\r\n";
        // 2. Answer every complete request, in order (pipelining), batching the writes.
        bool close_after = false;
        while (parser.next(req.raw())) {
          deadline.reschedule(std::nullopt);  // a handler's time is not the client's
          // Per request: a later pipelined request that closes must not close earlier ones.
          const bool keep = req.keep_alive() && !draining_;
          if (!(co_await answer(*conn, req, peer, keep))) {
            close_after = true;
            break;
          }
          if (parser.phase() == HttpParserPhase::upgraded) {
            // An Upgrade the handler did not take: what followed it is HTTP again.
            parser.decline_upgrade();
            const std::string rest = std::exchange(conn->leftover(), std::string());
            const std::size_t used = parser.feed(rest);
            if (parser.phase() == HttpParserPhase::upgraded) {
              conn->leftover() = rest.substr(used);
            }
          }
          if (conn->pending() > 65536 && !(co_await conn->flush())) co_return;
        }
        if (parser.phase() == HttpParserPhase::error && !close_after) {
          write_error(out, parser.error_status(), parser.error_reason());
          close_after = true;
          linger = n > 0;
        }
        // 3. Write the batch: one syscall in the common case.
        if (conn->pending() > 0 && !(co_await conn->flush())) break;
        if (close_after || (parser.should_close() && parser.ready() == 0) || n == 0) break;
      }
    } catch (const CancelledError&) {
      // Our deadline (slowloris, idle keep-alive) or the server's shutdown: close.
      deadline.leave(true);
      linger = false;
    }
    conn->close_tls();
    ::shutdown(fd, SHUT_WR);
    if (linger) co_await lingering_close(io, fd, deadline);
  }

  // Closing a socket with unread input makes the kernel send RST, which can destroy the error
  // response we just sent before the client reads it. So, like nginx's lingering_close, read
  // and discard what the client still sends (up to 1 MiB, for at most a second) first.
  aio::Task<> lingering_close(IoHandle& io, int fd, aio::Timeout& deadline) {
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

HttpServer::HttpServer(Application& app, ServerOptions options)
    : impl_(std::make_unique<Impl>(app, std::move(options))) {}
HttpServer::~HttpServer() = default;

int HttpServer::listen(const std::string& host, int port, std::optional<asyncio::SSLContext> ssl) {
  return impl_->listen(host, port, std::move(ssl));
}

asyncio::Task<> HttpServer::shutdown() {
  return impl_->shutdown();
}

std::size_t HttpServer::connections() const noexcept {
  return impl_->connections();
}

}  // namespace pyconc::detail
