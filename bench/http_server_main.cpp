// bench/http_server_main.cpp -- the server side of bench/http_server.sh: pyconc's aiohttp.web
// serving the seeds' hello route (`/hello/{name}`), one worker unless told otherwise.
//   http_server PORT [WORKERS]
#include <cstdlib>
#include <iostream>
#include <string>

#include "pyconc/aiohttp/web.hpp"

namespace aio = pyconc::asyncio;
namespace web = pyconc::aiohttp::web;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: http_server PORT [WORKERS]\n";
    return 2;
  }
  web::Application app;
  app.router().add_get("/hello/{name}", [](web::Request& req) -> aio::Task<web::Response> {
    co_return web::Response("<h1>hello, " + req.match_info("name") + "!</h1>",
                            {.content_type = "text/html"});
  });
  web::run_app(app, {.host = "127.0.0.1",
                     .port = std::atoi(argv[1]),
                     .workers = argc > 2 ? std::atoi(argv[2]) : 1,
                     .print = [](const std::string&) {}});
  return 0;
}
