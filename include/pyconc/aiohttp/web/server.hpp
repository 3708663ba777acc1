// pyconc/aiohttp/web/server.hpp -- serving an Application: run_app, AppRunner, TCPSite.
//
// Python: aiohttp.web.run_app(app, host=..., port=...), web.AppRunner, web.TCPSite.
//   web::run_app(app, {.host = "127.0.0.1", .port = 8000});       // blocks; Ctrl+C stops it
//   // inside a coroutine (tests, embedding):
//   web::AppRunner runner(app); co_await runner.setup();
//   web::TCPSite site(runner, "127.0.0.1", 0); co_await site.start(); site.port();
//   ...; co_await runner.cleanup();
// HTTP/1.1 with keep-alive and pipelining (answers in order, written in batches), bodies with
// Content-Length or chunked, `Expect: 100-continue`. Limits against abuse (ServerOptions):
// header size/count (431), body size (413), a deadline for a request's head and body
// (slowloris: the connection is closed), an idle keep-alive timeout, a maximum number of
// connections (the server stops accepting while at it). A malformed request gets its 4xx/5xx
// and the connection is closed; the server goes on. A handler's exception is a 500 reported to
// the loop's exception handler.
// Graceful shutdown (run_app on SIGINT/SIGTERM, or runner.cleanup()): stop accepting, run
// on_shutdown, let requests in progress finish (up to shutdown_timeout) while idle keep-alive
// connections are closed, then on_cleanup. `workers = N` runs N loops on N threads, each with
// its own SO_REUSEPORT listener.
//
// TLS: a site given an SSLContext (SSLContext::server(certfile, keyfile); web::SSLContext is
// asyncio's, one type for both sides) serves HTTPS -- Python: TCPSite(..., ssl_context=ctx),
// run_app(app, ssl_context=ctx):
//   web::run_app(app, {.port = 8443, .ssl = web::SSLContext::server("cert.pem", "key.pem")});
//   web::TCPSite site(runner, "127.0.0.1", 0, ctx);       // site.url() is https://...
// Each connection's handshake must finish within request_timeout. A plain HTTP request sent
// to a TLS port gets a cleartext 400 and is closed; a TLS hello sent to a plain port is a
// malformed request (400, closed); in both cases the server goes on. Plain sites pay nothing
// for TLS. Bodies of FileResponse go out with sendfile(2) on plain connections and through
// OpenSSL (read, encrypt, write) under TLS (no kernel TLS offload).
//
// Thread safety: an AppRunner and its sites belong to one loop. run_app blocks its thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/function.hpp"

#include "pyconc/aiohttp/detail/http_parser.hpp"
#include "pyconc/aiohttp/web/application.hpp"
#include "pyconc/asyncio/ssl.hpp"
#include "pyconc/asyncio/task.hpp"

namespace pyconc::detail {
class HttpServer;
}

namespace pyconc::aiohttp::web {

// Python: ssl.SSLContext as aiohttp takes it; the same type as asyncio's (see
// pyconc/asyncio/ssl.hpp): SSLContext::server(cert, key), load_cert_chain, ...
using SSLContext = asyncio::SSLContext;

// Options of the HTTP server; at namespace scope for designated initializers.
struct ServerOptions {
  pyconc::detail::HttpLimits limits{};  // head 16 KiB, 100 headers, body 1 MiB
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};    // head + body
  std::chrono::milliseconds keepalive_timeout{std::chrono::seconds(75)};  // aiohttp's default
  std::chrono::milliseconds shutdown_timeout{std::chrono::seconds(60)};
  std::size_t max_connections{10000};
  int backlog{1024};
  bool reuse_port{false};
  std::string server_header{"pyconc"};  // "" sends no Server header
};

class AppRunner {
 public:
  explicit AppRunner(Application& app, ServerOptions options = {});
  ~AppRunner();
  AppRunner(const AppRunner&) = delete;
  AppRunner& operator=(const AppRunner&) = delete;

  // Runs on_startup. Must be awaited on the loop that will serve.
  asyncio::Task<> setup();
  // Graceful shutdown of every site, then on_shutdown/on_cleanup.
  asyncio::Task<> cleanup();

  Application& app() noexcept { return app_; }
  pyconc::detail::HttpServer& server();
  // Connections open now (for tests and monitoring).
  std::size_t connections() const noexcept;

 private:
  Application& app_;
  ServerOptions options_;
  std::unique_ptr<pyconc::detail::HttpServer> server_;
};

class TCPSite {
 public:
  // port 0: an ephemeral port, see port() after start(). With `ssl_context` (a server
  // context: ValueError otherwise) the site serves HTTPS.
  TCPSite(AppRunner& runner, std::string host, int port,
          std::optional<SSLContext> ssl_context = std::nullopt);
  // Binds and starts accepting. OSError if the address is in use.
  asyncio::Task<> start();
  int port() const noexcept { return port_; }
  const std::string& host() const noexcept { return host_; }
  // "http://host:port", or https:// for a TLS site.
  std::string url() const;
  const std::optional<SSLContext>& ssl_context() const noexcept { return ssl_; }

 private:
  AppRunner& runner_;
  std::string host_;
  int port_;
  std::optional<SSLContext> ssl_;
};

// Options of run_app; at namespace scope for designated initializers.
struct RunAppOptions {
  std::string host{"0.0.0.0"};
  int port{8080};
  int workers{1};                   // > 1: that many loops/threads with SO_REUSEPORT listeners
  std::optional<SSLContext> ssl{};  // serve HTTPS with this server context (Python: ssl_context)
  ServerOptions server{};
  bool handle_signals{true};  // SIGINT/SIGTERM trigger the graceful shutdown
  // Called with the banner line ("======== Running on http://... ========"); default: stdout.
  std::function<void(const std::string&)> print{};
};

// Python: web.run_app(app, host=..., port=...). Blocks until SIGINT/SIGTERM (or stop_app()).
void run_app(Application& app, RunAppOptions options = {});

// Asks a run_app() in progress (in any thread) to shut down gracefully, as SIGINT would.
void stop_app() noexcept;

}  // namespace pyconc::aiohttp::web
