#include "demo_server.hpp"

#include <exception>
#include <functional>
#include <string>
#include <future>
#include <thread>

#include <pyconc/aiohttp/detail/demo_site.hpp>
#include <pyconc/asyncio/event_loop.hpp>
#include <pyconc/asyncio/event.hpp>
#include <pyconc/asyncio/sleep.hpp>

namespace pyconc::tool {

namespace aio = pyconc::asyncio;
namespace web = pyconc::aiohttp::web;

namespace {

// The demo blog's pages; a request for `index_path` (if not empty) is answered with its index.
std::function<aio::Task<web::Response>(web::Request&)> demo_blog_handler(
    std::chrono::milliseconds delay, std::string index_path) {
  return [delay, index_path](web::Request& req) -> aio::Task<web::Response> {
    if (delay.count() > 0) co_await aio::sleep(delay);
    const std::string target =
        !index_path.empty() && req.path() == index_path ? std::string("/")
                                                         : std::string(req.path_qs());
    auto page = pyconc::detail::demo_site_page(target);
    std::string type(page.content_type);
    std::string charset;
    if (auto semi = type.find(';'); semi != std::string::npos) {
      if (auto eq = type.find("charset=", semi); eq != std::string::npos)
        charset = type.substr(eq + 8);
      type.resize(semi);
    }
    co_return web::Response(std::move(page.body),
                            {.status = page.status, .content_type = type, .charset = charset});
  };
}

}  // namespace

void add_demo_routes(web::Application& app, std::chrono::milliseconds delay) {
  app.router().add_get("/", [delay](web::Request&) -> aio::Task<web::Response> {
    if (delay.count() > 0) co_await aio::sleep(delay);
    co_return web::Response("<h1>Index</h1>", {.content_type = "text/html"});
  });
  app.router().add_get("/hello/{name}", [delay](web::Request& req) -> aio::Task<web::Response> {
    if (delay.count() > 0) co_await aio::sleep(delay);
    co_return web::Response("<h1>hello, " + req.match_info("name") + "!</h1>",
                            {.content_type = "text/html"});
  });
  auto blog = demo_blog_handler(delay, "/blog");
  app.router().add_get("/blog", blog);
  app.router().add_get("/{path:.+}", blog);
}

void add_demo_blog_routes(web::Application& app, std::chrono::milliseconds delay) {
  auto blog = demo_blog_handler(delay, "");
  app.router().add_get("/", blog);
  app.router().add_get("/{path:.+}", blog);
}

struct EmbeddedDemoSite::State {
  web::Application app;
  // The loop and the stop event outlive the server thread, so the destructor may post to the
  // loop however the thread ended.
  aio::EventLoop loop;
  aio::Event stop;
  std::thread thread;
  int port = 0;
};

EmbeddedDemoSite::EmbeddedDemoSite(std::chrono::milliseconds delay)
    : s_(std::make_unique<State>()) {
  add_demo_blog_routes(s_->app, delay);
  std::promise<void> ready;
  auto started = ready.get_future();
  State* s = s_.get();
  s->thread = std::thread([s, &ready] {
    bool announced = false;
    try {
      auto serve = [&]() -> aio::Task<> {
        web::AppRunner runner(s->app, {.keepalive_timeout = std::chrono::seconds(5),
                                       .shutdown_timeout = std::chrono::seconds(5)});
        co_await runner.setup();
        web::TCPSite site(runner, "127.0.0.1", 0);
        co_await site.start();
        s->port = site.port();
        announced = true;
        ready.set_value();
        co_await s->stop.wait();
        co_await runner.cleanup();
      };
      s->loop.run_until_complete(serve());
    } catch (...) {
      if (!announced) ready.set_exception(std::current_exception());
    }
  });
  try {
    started.get();
  } catch (...) {
    s_->thread.join();
    throw;
  }
}

EmbeddedDemoSite::~EmbeddedDemoSite() {
  State* s = s_.get();
  s->loop.call_soon_threadsafe([s] { s->stop.set(); });
  s->thread.join();
}

int EmbeddedDemoSite::port() const noexcept {
  return s_->port;
}

std::string EmbeddedDemoSite::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(s_->port) + std::string(path);
}

}  // namespace pyconc::tool
