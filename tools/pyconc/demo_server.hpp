// tools/pyconc/demo_server.hpp -- the web application `pyconc serve` serves and `pyconc crawl`
// embeds: the seeds' aiohttp example and the demo blog (pyconc::detail::demo_site_page).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <pyconc/aiohttp/web.hpp>

namespace pyconc::tool {

// Routes:
//   GET /                 the seeds' index: <h1>Index</h1>
//   GET /hello/{name}     the seeds' greeting: <h1>hello, {name}!</h1>
//   GET /blog             the demo blog's index page; every other path is the demo blog's
//                         (/list/<n>, /post/<id>, /robots.txt, /about, /static/...)
// `delay` is awaited before each answer (the seeds' handlers sleep 0.5 s; the crawler's
// experiments use a delay to make downloads I/O-bound).
void add_demo_routes(aiohttp::web::Application& app, std::chrono::milliseconds delay);

// The demo blog alone, at the root: / is its index, every path is the blog's (what `pyconc
// crawl` crawls when given no URL).
void add_demo_blog_routes(aiohttp::web::Application& app, std::chrono::milliseconds delay);

// The demo blog (add_demo_blog_routes) served on 127.0.0.1 (a free port) by an event loop on a thread of its
// own, for `pyconc crawl` without a URL and the I/O experiments of `pyconc compare`.
// The constructor returns once the server accepts connections (RuntimeError, or the server's
// OSError, if it could not start); the destructor shuts it down gracefully and joins the thread.
// Thread safety: url()/port() from any thread; construct and destroy from one thread.
class EmbeddedDemoSite {
 public:
  explicit EmbeddedDemoSite(std::chrono::milliseconds delay);
  ~EmbeddedDemoSite();
  EmbeddedDemoSite(const EmbeddedDemoSite&) = delete;
  EmbeddedDemoSite& operator=(const EmbeddedDemoSite&) = delete;

  int port() const noexcept;
  // "http://127.0.0.1:<port>" + path.
  std::string url(std::string_view path = "/") const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace pyconc::tool
