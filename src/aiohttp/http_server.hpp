// HttpServer: the connections of AppRunner's HTTP/1.1 server -- listening sockets, the accept
// loop, one task per connection (parse, dispatch to the Application, write, keep-alive,
// limits, lingering close) and the graceful shutdown. Private to src/aiohttp.
//
// Thread safety: loop-thread only (the loop that awaited AppRunner::setup()).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "pyconc/aiohttp/web/server.hpp"
#include "pyconc/asyncio/ssl.hpp"
#include "pyconc/asyncio/task.hpp"

namespace pyconc::detail {

class HttpServer {
 public:
  HttpServer(aiohttp::web::Application& app, aiohttp::web::ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `host`:`port` (0: an ephemeral port), listens and starts accepting on the running
  // loop. Returns the bound port. OSError if the address is in use. With `ssl` (a server
  // context; ValueError otherwise) every connection of this listener speaks TLS.
  int listen(const std::string& host, int port, std::optional<asyncio::SSLContext> ssl = {});
  // Graceful: stop accepting, close idle connections, let busy ones finish (within
  // shutdown_timeout), then cancel the rest and wait for them.
  asyncio::Task<> shutdown();
  // Connections open now.
  std::size_t connections() const noexcept;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pyconc::detail
