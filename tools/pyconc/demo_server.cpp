#include "demo_server.hpp"

#include <pyconc/asyncio/sleep.hpp>
#include <pyconc_demo/server.hpp>

namespace pyconc::tool {

namespace aio = pyconc::asyncio;
namespace web = pyconc::aiohttp::web;

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
  auto blog = pyconc::demo::demo_blog_handler(delay, "/blog");
  app.router().add_get("/blog", blog);
  app.router().add_get("/{path:.+}", blog);
}

}  // namespace pyconc::tool
