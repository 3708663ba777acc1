// StreamReader's read operations, StreamWriter's extra info, open_connection.
#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "pyconc/asyncio/detail/socket.hpp"
#include "pyconc/asyncio/detail/stream_transport.hpp"
#include "pyconc/asyncio/streams.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::asyncio {

using detail::StreamTransport;
using TransportPtr = std::shared_ptr<StreamTransport>;

namespace {

// One step of readuntil's search (Python's algorithm): the separator's position in the
// buffer, or npos with `offset` advanced past what cannot contain it. `overrun` is set when
// that exceeds the limit (the separator is not within it).
struct Scan {
  std::size_t pos = std::string_view::npos;
  bool overrun = false;
};

Scan scan(StreamTransport& t, std::string_view sep, std::size_t& offset) {
  const std::string_view buf = t.rbuf().view();
  if (buf.size() < offset || buf.size() - offset < sep.size()) return {};
  const std::size_t pos = sep.size() == 1 ? buf.find(sep[0], offset) : buf.find(sep, offset);
  if (pos != std::string_view::npos) return {pos, pos > t.limit()};
  offset = buf.size() + 1 - sep.size();
  return {std::string_view::npos, offset > t.limit()};
}

Task<std::string> read_impl(TransportPtr t, std::ptrdiff_t n) {
  t->check_error();
  if (n == 0) co_return std::string();
  if (n < 0) {
    while (!t->eof()) co_await t->wait_for_data();
    co_return t->rbuf().take(t->rbuf().size());
  }
  while (t->rbuf().empty() && !t->eof()) co_await t->wait_for_data();
  co_return t->rbuf().take(std::min(static_cast<std::size_t>(n), t->rbuf().size()));
}

Task<std::string> readexactly_impl(TransportPtr t, std::size_t n) {
  t->check_error();
  while (t->rbuf().size() < n) {
    if (t->eof()) throw IncompleteReadError(t->rbuf().take(t->rbuf().size()), n);
    co_await t->wait_for_data();
  }
  co_return t->rbuf().take(n);
}

Task<std::string> readuntil_impl(TransportPtr t, std::string sep) {
  t->check_error();
  std::size_t offset = 0;
  Scan s;
  while ((s = scan(*t, sep, offset)).pos == std::string_view::npos) {
    if (s.overrun)
      throw LimitOverrunError("Separator is not found, and chunk exceed the limit", offset);
    if (t->eof()) throw IncompleteReadError(t->rbuf().take(t->rbuf().size()), std::nullopt);
    co_await t->wait_for_data();
  }
  if (s.overrun)
    throw LimitOverrunError("Separator is found, but chunk is longer than limit", s.pos);
  co_return t->rbuf().take(s.pos + sep.size());
}

Task<std::string> readline_impl(TransportPtr t) {
  t->check_error();
  std::size_t offset = 0;
  Scan s;
  while ((s = scan(*t, "\n", offset)).pos == std::string_view::npos && !s.overrun) {
    if (t->eof()) co_return t->rbuf().take(t->rbuf().size());  // the last, unterminated line
    co_await t->wait_for_data();
  }
  if (s.overrun) {
    // Python: drop the over-long line (up to its separator, else all that is buffered) and
    // raise ValueError.
    auto& buf = t->rbuf();
    if (s.pos != std::string_view::npos) {
      buf.consume(s.pos + 1);
      throw ValueError("Separator is found, but chunk is longer than limit");
    }
    buf.clear();
    throw ValueError("Separator is not found, and chunk exceed the limit");
  }
  co_return t->rbuf().take(s.pos + 1);
}

}  // namespace

// ------------------------------------------------------------------ StreamReader

StreamReader::StreamReader(std::size_t limit) : t_(std::make_shared<StreamTransport>(limit)) {}

Task<std::string> StreamReader::read(std::ptrdiff_t n) {
  return read_impl(t_, n);
}

Task<std::string> StreamReader::readline() {
  return readline_impl(t_);
}

Task<std::string> StreamReader::readexactly(std::ptrdiff_t n) {
  if (n < 0) throw ValueError("readexactly size can not be less than zero");
  return readexactly_impl(t_, static_cast<std::size_t>(n));
}

Task<std::string> StreamReader::readuntil(std::string separator) {
  if (separator.empty()) throw ValueError("Separator should be at least one-byte string");
  return readuntil_impl(t_, std::move(separator));
}

// ------------------------------------------------------------------ StreamWriter

std::optional<SocketAddress> StreamWriter::get_extra_info(std::string_view name) const {
  std::optional<detail::SockAddr> a;
  if (name == "peername") {
    a = t().peername();
  } else if (name == "sockname") {
    a = t().sockname();
  }
  if (!a) return std::nullopt;
  return a->to_public();
}

// ------------------------------------------------------------------ open_connection

namespace {

// Python: one error when every attempt failed alike, else OSError("Multiple exceptions: ...").
[[noreturn]] void raise_connect_errors(const std::vector<std::exception_ptr>& errors,
                                       const std::vector<std::string>& messages) {
  const bool alike = std::all_of(messages.begin(), messages.end(),
                                 [&](const std::string& m) { return m == messages.front(); });
  if (alike) std::rethrow_exception(errors.front());
  std::string all = "Multiple exceptions: ";
  for (std::size_t i = 0; i < messages.size(); ++i) all += (i != 0 ? ", " : "") + messages[i];
  throw OSError(0, all, std::string());
}

}  // namespace

namespace {

// The connection's TLS, as copied from the options when open_connection was called.
struct ClientTls {
  std::optional<SSLContext> ctx;
  std::string server_hostname;
  std::chrono::milliseconds timeout{};
};

// Makes `t` a TLS transport and runs its handshake within the timeout; aborts `t` on failure.
Task<> secure(TransportPtr t, const ClientTls& tls) {
  t->start_tls(detail::make_tls_session(*tls.ctx, /*server_side=*/false, tls.server_hostname));
  co_await detail::run_handshake(std::move(t), tls.timeout);
}

Task<std::pair<StreamReader, StreamWriter>> finish_connection(TransportPtr t,
                                                              const ClientTls& tls) {
  detail::set_nodelay(t->fd());
  if (tls.ctx) co_await secure(t, tls);
  co_return std::pair<StreamReader, StreamWriter>(StreamReader(t), StreamWriter(t));
}

// `local_host`: options.local_addr's host, owned (the view may be gone by the time this runs).
Task<std::pair<StreamReader, StreamWriter>> connect_impl(std::string host, int port,
                                                         OpenConnectionOptions options,
                                                         std::string local_host, ClientTls tls) {
  detail::LoopCore& loop = detail::running_loop_core();
  if (options.limit == 0) throw ValueError("Limit cannot be <= 0");
  if (options.sock >= 0) {
    if (!host.empty() || port != 0)
      throw ValueError("host/port and sock can not be specified at the same time");
    detail::UniqueFd fd(options.sock);
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
      throw_os_error(errno, "fcntl(O_NONBLOCK)");
    }
    ::fcntl(fd.get(), F_SETFD, FD_CLOEXEC);
    auto t = std::make_shared<StreamTransport>(loop, std::move(fd), StreamTransport::Kind::socket,
                                               options.limit);
    co_return co_await finish_connection(std::move(t), tls);
  }
  const std::vector<detail::SockAddr> addrs =
      co_await detail::resolve(host, port, options.family, /*passive=*/false);
  std::vector<detail::SockAddr> locals;
  if (options.local_addr) {
    locals = co_await detail::resolve(std::move(local_host), options.local_addr->second,
                                      options.family, /*passive=*/true);
  }
  std::vector<std::exception_ptr> errors;
  std::vector<std::string> messages;
  for (const detail::SockAddr& to : addrs) {
    TransportPtr t;
    try {
      detail::UniqueFd fd = detail::open_socket(to.family());
      if (options.local_addr) {
        auto local = std::find_if(locals.begin(), locals.end(), [&](const detail::SockAddr& l) {
          return l.family() == to.family();
        });
        if (local == locals.end()) {
          throw OSError(EAFNOSUPPORT, "no local address of the family of " + to.to_string(),
                        std::string());
        }
        detail::set_socket_option(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
        if (::bind(fd.get(), local->get(), local->len) != 0) {
          throw_os_error(errno, "bind(" + local->to_string() + ")");
        }
      }
      t = std::make_shared<StreamTransport>(loop, std::move(fd), StreamTransport::Kind::socket,
                                            options.limit);
      co_await detail::connect_socket(*t->io(), to);
    } catch (const OSError& e) {
      errors.push_back(std::current_exception());
      messages.emplace_back(e.what());
      continue;  // `t` (and its socket) is closed; try the next address
    }
    co_return co_await finish_connection(std::move(t), tls);
  }
  raise_connect_errors(errors, messages);
}

}  // namespace

Task<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port,
                                                            OpenConnectionOptions options) {
  std::string local_host;
  if (options.local_addr) {
    local_host = std::string(options.local_addr->first);
    options.local_addr->first = {};  // not used past this call
  }
  ClientTls tls;
  if (options.ssl) {
    tls.ctx = options.ssl.get();
    if (tls.ctx->is_server()) {
      throw ValueError("open_connection needs a client SSLContext (SSLContext::client)");
    }
    tls.server_hostname =
        options.server_hostname.empty() ? host : std::string(options.server_hostname);
    tls.timeout = options.ssl_handshake_timeout.value_or(detail::default_handshake_timeout);
    if (tls.timeout.count() <= 0) {
      throw ValueError("ssl_handshake_timeout should be a positive number, got " +
                       std::to_string(tls.timeout.count()) + " ms");
    }
    if (tls.server_hostname.empty() && tls.ctx->check_hostname()) {
      throw ValueError("You must set server_hostname when using ssl without a host");
    }
  } else if (!options.server_hostname.empty()) {
    throw ValueError("server_hostname is only meaningful with ssl");
  } else if (options.ssl_handshake_timeout) {
    throw ValueError("ssl_handshake_timeout is only meaningful with ssl");
  }
  options.ssl = {};  // the context was copied into `tls`
  options.server_hostname = {};
  return connect_impl(std::move(host), port, options, std::move(local_host), std::move(tls));
}

}  // namespace pyconc::asyncio
