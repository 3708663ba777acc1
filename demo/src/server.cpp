// The demo blog served on a background event loop (see detail/demo_server.hpp).
#include "pyconc_demo/server.hpp"

#include <exception>
#include <future>
#include <thread>
#include <utility>

#include "pyconc/aiohttp/web/server.hpp"
#include "pyconc/asyncio/event.hpp"
#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/sleep.hpp"
#include "pyconc_demo/site.hpp"

namespace pyconc::demo {

namespace aio = pyconc::asyncio;
namespace web = pyconc::aiohttp::web;

std::function<aio::Task<web::Response>(web::Request&)> demo_blog_handler(
    std::chrono::milliseconds delay, std::string index_path) {
  return [delay, index_path](web::Request& req) -> aio::Task<web::Response> {
    if (delay.count() > 0) co_await aio::sleep(delay);
    const std::string target = !index_path.empty() && req.path() == index_path
                                   ? std::string("/")
                                   : std::string(req.path_qs());
    auto page = demo_site_page(target);
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

struct ServerThread::State {
  explicit State(web::Application& a) : app(a) {}
  web::Application& app;
  // The loop and the stop event outlive the server thread, so the destructor may post to the
  // loop however the thread ended.
  aio::EventLoop loop;
  aio::Event stop;
  std::thread thread;
  int port = 0;
};

web::Application& DemoSiteServer::with_blog(web::Application& app,
                                            std::chrono::milliseconds delay) {
  auto blog = demo_blog_handler(delay);
  app.router().add_get("/", blog);
  app.router().add_get("/{path:.+}", blog);
  return app;
}

ServerThread::ServerThread(web::Application& app, int port) : s_(std::make_unique<State>(app)) {
  std::promise<void> ready;
  auto started = ready.get_future();
  State* s = s_.get();
  s->thread = std::thread([s, &ready, port] {
    bool announced = false;
    try {
      auto serve = [&]() -> aio::Task<> {
        web::AppRunner runner(s->app, {.keepalive_timeout = std::chrono::seconds(5),
                                       .shutdown_timeout = std::chrono::seconds(5)});
        co_await runner.setup();
        web::TCPSite site(runner, "127.0.0.1", port);
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

ServerThread::~ServerThread() {
  State* s = s_.get();
  s->loop.call_soon_threadsafe([s] { s->stop.set(); });
  s->thread.join();
}

int ServerThread::port() const noexcept {
  return s_->port;
}

std::string ServerThread::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(s_->port) + std::string(path);
}

}  // namespace pyconc::demo
