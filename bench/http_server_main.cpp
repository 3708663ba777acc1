// bench/http_server_main.cpp -- the server side of bench/http_server.sh: pyconc's aiohttp.web
// serving the seeds' hello route (`/hello/{name}`), one worker unless told otherwise; over
// HTTPS when given a certificate and its key; PYCONC_BENCH_STATIC=DIR also serves DIR at
// /static (add_static: FileResponse, sendfile).
//   http_server PORT [WORKERS [CERT KEY]]
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "pyconc/aiohttp/web.hpp"

namespace aio = pyconc::asyncio;
namespace web = pyconc::aiohttp::web;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: http_server PORT [WORKERS [CERT KEY]]\n";
    return 2;
  }
  web::Application app;
  app.router().add_get("/hello/{name}", [](web::Request& req) -> aio::Task<web::Response> {
    co_return web::Response("<h1>hello, " + req.match_info("name") + "!</h1>",
                            {.content_type = "text/html"});
  });
  if (const char* dir = std::getenv("PYCONC_BENCH_STATIC")) app.router().add_static("/static", dir);
  std::optional<web::SSLContext> ssl;
  if (argc > 4) ssl = web::SSLContext::server(argv[3], argv[4]);
  web::run_app(app, {.host = "127.0.0.1",
                     .port = std::atoi(argv[1]),
                     .workers = argc > 2 ? std::atoi(argv[2]) : 1,
                     .ssl = ssl,
                     .print = [](const std::string&) {}});
  return 0;
}
