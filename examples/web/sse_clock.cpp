// sse_clock -- Server-Sent Events with web::StreamResponse: a clock sending one event a tick.
//
// import asyncio
// from aiohttp import web
//
// async def events(request):
//     resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
//                                        "Cache-Control": "no-cache"})
//     await resp.prepare(request)                       # status line and headers go out
//     for i in range(int(request.query.get("n", "5"))):
//         await resp.write(f"id: {i}\ndata: tick {i}\n\n".encode())   # one event, sent now
//         await asyncio.sleep(1)
//     await resp.write_eof()
//     return resp
//
// app = web.Application()
// app.router.add_get("/events", events)
// web.run_app(app, port=8080)
//
// Without arguments it serves on port 8080 (try `curl -N localhost:8080/events`). With
// --quick (what ctest runs) it serves on a free port, fetches /events?n=3 with a tick of
// 20 ms through ClientSession, prints the stream and checks it.
#include <pyconc/aiohttp.hpp>
#include <pyconc/asyncio.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace aio = pyconc::asyncio;
namespace web = pyconc::aiohttp::web;
using namespace std::chrono_literals;

std::chrono::milliseconds tick = 1s;

aio::Task<web::StreamResponse> events(web::Request& request) {
  web::StreamResponse resp({.content_type = "text/event-stream"});
  resp.headers().add("Cache-Control", "no-cache");
  co_await resp.prepare(request);  // status line and headers go out
  const int n = std::stoi(std::string(request.query().get("n").value_or("5")));
  for (int i = 0; i < n; ++i) {
    co_await resp.write("id: " + std::to_string(i) + "\ndata: tick " + std::to_string(i) + "\n\n");
    co_await aio::sleep(tick);
  }
  co_await resp.write_eof();
  co_return resp;
}

aio::Task<int> quick_run(web::Application& app) {
  web::AppRunner runner(app);
  co_await runner.setup();
  web::TCPSite site(runner, "127.0.0.1", 0);
  co_await site.start();
  pyconc::aiohttp::ClientSession session;
  auto resp = co_await session.get(site.url() + "/events?n=3");
  const std::string body = co_await resp.text();
  std::cout << "Content-Type: " << resp.headers().get("Content-Type").value_or("?") << "\n"
            << body << std::flush;
  co_await runner.cleanup();
  const std::string expected =
      "id: 0\ndata: tick 0\n\nid: 1\ndata: tick 1\n\nid: 2\ndata: tick 2\n\n";
  co_return resp.status() == 200 && body == expected ? 0 : 1;
}

int main(int argc, char** argv) {
  web::Application app;
  app.router().add_get("/events", events);
  if (argc > 1 && std::string(argv[1]) == "--quick") {
    tick = 20ms;
    return aio::run(quick_run(app));
  }
  web::run_app(app, {.port = 8080});
}
