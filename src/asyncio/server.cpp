// Server: listening sockets, the accept callback, one task per connection, closing.
#include "pyconc/asyncio/server.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pyconc/asyncio/detail/event_waiters.hpp"
#include "pyconc/asyncio/detail/socket.hpp"
#include "pyconc/asyncio/detail/stream_transport.hpp"
#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/streams.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {

class ServerState final : public ConnectionOwner, public std::enable_shared_from_this<ServerState> {
 public:
  ServerState(asyncio::EventLoop& loop, asyncio::ClientConnectedCallback cb,
              const asyncio::StartServerOptions& o)
      : loop_(&loop),
        remote_(loop.remote()),
        cb_(std::move(cb)),
        limit_(o.limit),
        backlog_(o.backlog > 0 ? o.backlog : 1) {
    if (o.ssl) {
      ssl_ = o.ssl.get();
      if (!ssl_->is_server()) {
        throw ValueError("start_server needs a server SSLContext (SSLContext::server)");
      }
      ssl_timeout_ = o.ssl_handshake_timeout.value_or(default_handshake_timeout);
      if (ssl_timeout_.count() <= 0) {
        throw ValueError("ssl_handshake_timeout should be a positive number, got " +
                         std::to_string(ssl_timeout_.count()) + " ms");
      }
    } else if (o.ssl_handshake_timeout) {
      throw ValueError("ssl_handshake_timeout is only meaningful with ssl");
    }
  }
  ServerState(const ServerState&) = delete;
  ServerState& operator=(const ServerState&) = delete;
  ~ServerState() {
    close();
    // Connections that outlive their server (their streams were kept elsewhere) forget it.
    while (conns_ != nullptr) {
      StreamTransport* t = conns_;
      unlink(t);
      t->set_owner(nullptr);
    }
  }

  void start_serving() {
    if (serving_ || closed_) return;
    serving_ = true;
    for (const UniqueFd& fd : listeners_) watch(fd.get());
  }

  void close() noexcept {
    if (closed_) return;
    closed_ = true;
    const bool was_serving = std::exchange(serving_, false);
    if (loop_alive()) {
      for (auto& h : retries_) h.cancel();
      if (was_serving) {
        for (const UniqueFd& fd : listeners_) loop_->remove_reader(fd.get());
      }
    }
    retries_.clear();
    listeners_.clear();  // closes the listening sockets
    forever_.wake_all();
    if (active_ == 0) closed_waiters_.wake_all();
  }

  template <class F>
  void for_each_connection(F f) {
    for (StreamTransport* t = conns_; t != nullptr;) {
      StreamTransport* next = t->next_conn_;  // f may unlink t
      f(*t);
      t = next;
    }
  }

  void connection_closed(StreamTransport& t) noexcept override {
    unlink(&t);
    if (closed_ && active_ == 0) closed_waiters_.wake_all();
  }

  asyncio::EventLoop* loop_;
  std::weak_ptr<LoopRemote> remote_;
  asyncio::ClientConnectedCallback cb_;
  std::size_t limit_;
  std::optional<asyncio::SSLContext> ssl_;  // TLS server: each connection's handshake first
  std::chrono::milliseconds ssl_timeout_{};
  int backlog_;
  std::vector<UniqueFd> listeners_;
  std::vector<asyncio::Handle> retries_;
  EventWaitList closed_waiters_;
  EventWaitList forever_;
  std::size_t active_ = 0;
  bool serving_ = false;
  bool closed_ = false;
  bool serving_forever_ = false;

 private:
  bool loop_alive() const noexcept {
    auto r = remote_.lock();
    return r && !r->closed();
  }

  void watch(int fd) {
    loop_->add_reader(fd, [this, fd] { accept_ready(fd); });
  }

  // Python's _accept_connection: up to `backlog` connections per readiness.
  void accept_ready(int listen_fd) {
    for (int i = 0; i < backlog_ && serving_; ++i) {
      SockAddr peer;
      const int fd = accept_connection(listen_fd, peer);
      if (fd >= 0) {
        new_connection(UniqueFd(fd), peer);
        continue;
      }
      const int err = -fd;
      if (err == EAGAIN || err == EWOULDBLOCK || err == ECONNABORTED) return;
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        // Out of descriptors/memory: stop accepting for a second (the pending connections
        // wait in the backlog) instead of spinning on a readiness we cannot serve.
        report("socket.accept() out of system resource", err);
        loop_->remove_reader(listen_fd);
        std::weak_ptr<ServerState> self = weak_from_this();
        retries_.push_back(loop_->call_later(std::chrono::seconds(1), [self, listen_fd] {
          if (auto s = self.lock(); s && s->serving_) s->watch(listen_fd);
        }));
        return;
      }
      report("Error on accepting a connection", err);
      return;
    }
  }

  void new_connection(UniqueFd fd, const SockAddr& peer) {
    try {
      set_nodelay(fd.get());
      auto t = std::make_shared<StreamTransport>(*loop_, std::move(fd),
                                                 StreamTransport::Kind::socket, limit_);
      t->set_peername(peer);
      link(t.get());
      t->set_owner(this);
      if (ssl_) t->start_tls(make_tls_session(*ssl_, /*server_side=*/true, {}));
      asyncio::Task<> task = serve_client(shared_from_this(), asyncio::StreamReader(t),
                                          asyncio::StreamWriter(t), ssl_ ? t : nullptr);
      task.core().start_task(*loop_, {});
    } catch (...) {
      loop_->call_exception_handler(
          {"Error setting up a new connection", std::current_exception(), {}});
    }
  }

  // `tls`: the transport, when its TLS handshake must come first.
  static asyncio::Task<> serve_client(std::shared_ptr<ServerState> s, asyncio::StreamReader r,
                                      asyncio::StreamWriter w,
                                      std::shared_ptr<StreamTransport> tls) {
    std::exception_ptr error;
    if (tls) {
      try {
        co_await run_handshake(std::move(tls), s->ssl_timeout_);
      } catch (const CancelledError&) {
        throw;
      } catch (...) {
        // Python logs a failed handshake only in debug mode; the connection is closed (by
        // run_handshake) and the server goes on.
        if (s->loop_->get_debug()) {
          s->loop_->call_exception_handler({"SSL handshake failed", std::current_exception(), {}});
        }
        co_return;
      }
    }
    try {
      co_await s->cb_(r, w);
    } catch (const CancelledError&) {
      w.close();
      throw;
    } catch (...) {
      error = std::current_exception();
    }
    if (error) {
      // Python: reported to the loop's exception handler; the connection is closed.
      asyncio::TaskRef self = asyncio::current_task();
      s->loop_->call_exception_handler({"Unhandled exception in client_connected_cb", error,
                                        self.valid() ? self.get_name() : std::string()});
      w.close();
    }
  }

  void report(const char* what, int err) noexcept {
    try {
      throw_os_error(err, "accept");
    } catch (...) {
      loop_->call_exception_handler({what, std::current_exception(), {}});
    }
  }

  void link(StreamTransport* t) noexcept {
    t->prev_conn_ = nullptr;
    t->next_conn_ = conns_;
    if (conns_ != nullptr) conns_->prev_conn_ = t;
    conns_ = t;
    ++active_;
  }
  void unlink(StreamTransport* t) noexcept {
    if (t->prev_conn_ != nullptr) {
      t->prev_conn_->next_conn_ = t->next_conn_;
    } else {
      conns_ = t->next_conn_;
    }
    if (t->next_conn_ != nullptr) t->next_conn_->prev_conn_ = t->prev_conn_;
    t->next_conn_ = t->prev_conn_ = nullptr;
    --active_;
  }

  StreamTransport* conns_ = nullptr;
};

}  // namespace pyconc::detail

namespace pyconc::asyncio {

using detail::ServerState;

SocketAddress ServerSocket::getsockname() const {
  auto a = detail::local_address(fd_);
  if (!a) throw_os_error(errno, "getsockname");
  return a->to_public();
}

Server& Server::operator=(Server&& o) noexcept {
  if (this != &o) {
    if (s_) s_->close();
    s_ = std::move(o.s_);
  }
  return *this;
}

Server::~Server() {
  if (s_) s_->close();
}

ServerState& Server::state() const {
  if (!s_) throw RuntimeError("empty Server");
  return *s_;
}

void Server::close() {
  state().close();
}

void Server::close_clients() {
  state().for_each_connection([](detail::StreamTransport& t) { t.close(); });
}

void Server::abort_clients() {
  state().for_each_connection([](detail::StreamTransport& t) { t.abort(); });
}

Task<> Server::wait_closed() {
  std::shared_ptr<ServerState> s = s_;
  if (!s) throw RuntimeError("empty Server");
  while (!(s->closed_ && s->active_ == 0)) co_await detail::EventAwaiter(s->closed_waiters_);
}

Task<> Server::start_serving() {
  std::shared_ptr<ServerState> s = s_;
  if (!s) throw RuntimeError("empty Server");
  if (s->closed_) throw RuntimeError("server is closed");
  s->start_serving();
  co_return;
}

Task<> Server::serve_forever() {
  std::shared_ptr<ServerState> s = s_;
  if (!s) throw RuntimeError("empty Server");
  if (s->serving_forever_) throw RuntimeError("server is already being awaited on serve_forever()");
  if (s->closed_) throw RuntimeError("server is closed");
  s->start_serving();
  s->serving_forever_ = true;
  bool cancelled = false;
  try {
    while (!s->closed_) co_await detail::EventAwaiter(s->forever_);
  } catch (const CancelledError&) {
    cancelled = true;
  }
  s->serving_forever_ = false;
  if (cancelled) s->close();  // Python: cancelling serve_forever() closes the server
  throw CancelledError(cancelled ? "serve_forever() was cancelled" : "the server was closed");
}

bool Server::is_serving() const noexcept {
  return s_ && s_->serving_;
}

std::vector<ServerSocket> Server::sockets() const {
  std::vector<ServerSocket> out;
  if (!s_) return out;
  for (const detail::UniqueFd& fd : s_->listeners_) out.emplace_back(fd.get());
  return out;
}

int Server::port() const {
  if (!s_ || s_->listeners_.empty()) return 0;
  return ServerSocket(s_->listeners_.front().get()).getsockname().port;
}

std::size_t Server::active_connections() const noexcept {
  return s_ ? s_->active_ : 0;
}

EventLoop& Server::get_loop() const {
  return *state().loop_;
}

// ------------------------------------------------------------------ start_server

Task<Server> start_server(ClientConnectedCallback client_connected_cb, std::string host, int port,
                          StartServerOptions options) {
  EventLoop& loop = get_running_loop();
  if (!client_connected_cb) throw ValueError("start_server: client_connected_cb is empty");
  if (options.limit == 0) throw ValueError("Limit cannot be <= 0");
  const std::vector<detail::SockAddr> addrs =
      co_await detail::resolve(host, port, options.family, /*passive=*/true);
  auto s = std::make_shared<ServerState>(loop, std::move(client_connected_cb), options);
  detail::ListenOptions lo;
  lo.backlog = options.backlog;
  lo.reuse_address = options.reuse_address;
  lo.reuse_port = options.reuse_port;
  lo.ipv6_only = addrs.size() > 1;  // IPv4 and IPv6 wildcards share the port
  int skipped_err = 0;
  std::string skipped_at;
  for (const detail::SockAddr& a : addrs) {
    detail::UniqueFd fd;
    const char* call = "";
    const int err = detail::open_listener(a, lo, fd, &call);
    if (err == 0) {
      s->listeners_.push_back(std::move(fd));
      continue;
    }
    // Python (bpo-30945): an address of a family the host has not enabled is skipped.
    if ((err == EADDRNOTAVAIL || err == EAFNOSUPPORT) && addrs.size() > 1) {
      skipped_err = err;
      skipped_at = a.to_string();
      continue;
    }
    throw_os_error(err, std::string("error while attempting to bind on address ") + a.to_string() +
                            " (" + call + ")");
  }
  if (s->listeners_.empty()) {
    throw_os_error(skipped_err, "error while attempting to bind on address " + skipped_at);
  }
  if (options.start_serving) s->start_serving();
  co_return Server(std::move(s));
}

}  // namespace pyconc::asyncio
