// pyconc/asyncio/streams.hpp -- TCP streams: open_connection() and start_server().
//
// Python: asyncio.open_connection / asyncio.start_server.
//   auto [reader, writer] = co_await aio::open_connection("127.0.0.1", 8888);
//   writer.write("ping\n"); co_await writer.drain(); std::string line = co_await reader.readline();
//
//   aio::Task<> handle_client(aio::StreamReader reader, aio::StreamWriter writer) {
//     std::string data = co_await reader.read(100);
//     writer.write(data); co_await writer.drain(); writer.close(); co_await writer.wait_closed();
//   }
//   auto server = co_await aio::start_server(handle_client, "127.0.0.1", 8888);
//   co_await server.serve_forever();
// Hosts: numeric IPv4/IPv6 addresses are used as they are (no thread, no DNS); names are
// resolved with getaddrinfo on a worker thread, so the loop never blocks. open_connection
// tries each resolved address in turn and raises the error of the last one
// (ConnectionError for a refused connection). start_server listens on every address the host
// resolves to (host "" : every interface, IPv4 and IPv6); port 0 asks the kernel for a free port
// (see Server::sockets()). Sockets are non-blocking, close-on-exec and TCP_NODELAY, listening
// ones SO_REUSEADDR (and SO_REUSEPORT with reuse_port, for one loop per core on one port).
// The callback may be a coroutine function taking (StreamReader, StreamWriter) -- it runs as a
// task per connection -- or a plain function with the same parameters, called at once.
// TLS: `.ssl = ctx` (an SSLContext, or `true` for SSLContext::client()) runs the TLS handshake
// before open_connection returns / before the callback is called, bounded by
// ssl_handshake_timeout (60 s by default; ConnectionAbortedError when it expires, as Python);
// the streams then carry plaintext (see ssl.hpp). A client checks the certificate against
// server_hostname, which defaults to `host`. A server whose handshake with a client fails
// (a plain-TCP client, an unknown CA, ...) closes that connection and goes on serving.
// Differences: no happy eyeballs (addresses are tried one after the other, as Python's
// default); `family`, `local_addr`, `backlog`, `reuse_address`, `reuse_port`, `limit` and
// `start_serving` are options in a struct.
//
// Cancellation: both are cancellable while resolving or connecting; the socket is closed.
// Thread safety: loop-thread only (awaited in a task).
#pragma once

#include <concepts>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "pyconc/asyncio/server.hpp"
#include "pyconc/asyncio/ssl.hpp"
#include "pyconc/asyncio/stream_errors.hpp"
#include "pyconc/asyncio/stream_reader.hpp"
#include "pyconc/asyncio/stream_writer.hpp"
#include "pyconc/asyncio/task.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/unique_function.hpp"

namespace pyconc::asyncio {

// Options of open_connection (Python's keyword arguments). Trivially destructible on purpose
// (the host is a view, copied when open_connection is called): GCC 12 miscompiles an aggregate
// temporary with a non-trivial destructor inside a co_await expression, and this struct is
// written inline there.
struct OpenConnectionOptions {
  std::size_t limit = StreamReader::default_limit;
  int family = 0;  // AF_UNSPEC; AF_INET or AF_INET6 to restrict
  // Bind the socket to this (host, port) before connecting.
  std::optional<std::pair<std::string_view, int>> local_addr{};
  // An already connected stream socket to use (and own) instead of connecting: host must be
  // empty and port 0 (Python's sock=). Made non-blocking.
  int sock = -1;
  // TLS (Python's ssl=): an SSLContext, or true for SSLContext::client().
  SSLOption ssl{};
  // The name the server's certificate must match (and the SNI sent); default: host.
  // ValueError without ssl.
  std::string_view server_hostname{};
  // Bound of the TLS handshake (default 60 s); ValueError without ssl.
  std::optional<std::chrono::milliseconds> ssl_handshake_timeout{};
};
static_assert(std::is_trivially_destructible_v<OpenConnectionOptions>, "see the comment above");

// Options of start_server (Python's keyword arguments; trivially destructible, as above).
struct StartServerOptions {
  std::size_t limit = StreamReader::default_limit;
  int family = 0;  // AF_UNSPEC; AF_INET or AF_INET6 to restrict
  int backlog = 100;
  bool reuse_address = true;  // SO_REUSEADDR (Python's default on POSIX)
  bool reuse_port = false;    // SO_REUSEPORT
  bool start_serving = true;
  // TLS (Python's ssl=): a server SSLContext (SSLContext::server(certfile, keyfile)).
  SSLOption ssl{};
  // Bound of each client's TLS handshake (default 60 s); ValueError without ssl.
  std::optional<std::chrono::milliseconds> ssl_handshake_timeout{};
};
static_assert(std::is_trivially_destructible_v<StartServerOptions>, "see OpenConnectionOptions");

// The callback type start_server stores.
using ClientConnectedCallback = detail::unique_function<Task<>(StreamReader, StreamWriter)>;

Task<std::pair<StreamReader, StreamWriter>> open_connection(std::string host, int port,
                                                            OpenConnectionOptions options = {});

Task<Server> start_server(ClientConnectedCallback client_connected_cb, std::string host, int port,
                          StartServerOptions options = {});

// A plain (non-coroutine) callback: called with the streams when a client connects.
template <class F>
requires std::invocable<F&, StreamReader, StreamWriter> &&
    std::is_void_v<std::invoke_result_t<F&, StreamReader, StreamWriter>>
        Task<Server> start_server(F client_connected_cb, std::string host, int port,
                                  StartServerOptions options = {}) {
  struct Plain {
    std::shared_ptr<F> fn;
    Task<> operator()(StreamReader r, StreamWriter w) const {
      return call(fn, std::move(r), std::move(w));
    }
    static Task<> call(std::shared_ptr<F> f, StreamReader r, StreamWriter w) {
      (*f)(std::move(r), std::move(w));
      co_return;
    }
  };
  return start_server(
      ClientConnectedCallback(Plain{std::make_shared<F>(std::move(client_connected_cb))}),
      std::move(host), port, options);
}

}  // namespace pyconc::asyncio
