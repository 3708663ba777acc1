// pyconc_demo/server.hpp -- the demo blog (demo_site.hpp) served over HTTP on
// a loopback port by an event loop on a thread of its own: what `pyconc crawl` crawls when
// given no URL, what `pyconc compare` downloads in its I/O experiments, and the real server
// behind the seeds' crawler examples (examples/seeds/).
//
//   pyconc::demo::DemoSiteServer site(20ms);        // every answer waits 20 ms first
//   requests::get(site.url("/list/3")).text;
//
// The constructor returns once the server accepts connections on 127.0.0.1 (a free port, or
// the one asked for: `pyconc crawl --state` resumes a demo crawl on its first run's port);
// RuntimeError or the server's OSError (e.g. the port is in use) if it could not start. The destructor shuts it down
// gracefully (requests in progress finish) and joins the thread.
// Thread safety: url()/port() from any thread; construct and destroy in one thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "pyconc/aiohttp/web/application.hpp"

namespace pyconc::demo {

// A handler answering every path with the demo blog's page for it (`index_path`, if not
// empty, is answered with the blog's index "/"), after waiting `delay`.
std::function<asyncio::Task<aiohttp::web::Response>(aiohttp::web::Request&)> demo_blog_handler(
    std::chrono::milliseconds delay, std::string index_path = {});

// Serves `app` (which must outlive it) on 127.0.0.1, a free port, from an event loop on a
// thread of its own -- for tests and tools that need a real server beside their own code.
// Same start/stop behaviour as DemoSiteServer below. `port` 0: a free one.
class ServerThread {
 public:
  explicit ServerThread(aiohttp::web::Application& app, int port = 0);
  ~ServerThread();
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;

  int port() const noexcept;
  std::string url(std::string_view path = "/") const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

class DemoSiteServer {
 public:
  explicit DemoSiteServer(std::chrono::milliseconds delay = std::chrono::milliseconds(0),
                          int port = 0)
      : server_(with_blog(app_, delay), port) {}
  DemoSiteServer(const DemoSiteServer&) = delete;
  DemoSiteServer& operator=(const DemoSiteServer&) = delete;

  int port() const noexcept { return server_.port(); }
  // "http://127.0.0.1:<port>" + path.
  std::string url(std::string_view path = "/") const { return server_.url(path); }

 private:
  static aiohttp::web::Application& with_blog(aiohttp::web::Application& app,
                                              std::chrono::milliseconds delay);
  aiohttp::web::Application app_;
  ServerThread server_;  // after app_: stops before it goes
};

}  // namespace pyconc::demo
