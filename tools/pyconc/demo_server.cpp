#include "demo_server.hpp"

#include <pyconc/aiohttp/detail/demo_site.hpp>
#include <pyconc/asyncio/sleep.hpp>

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
  auto blog = [delay](web::Request& req) -> aio::Task<web::Response> {
    if (delay.count() > 0) co_await aio::sleep(delay);
    const std::string target =
        req.path() == "/blog" ? std::string("/") : std::string(req.path_qs());
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
  app.router().add_get("/blog", blog);
  app.router().add_get("/{path:.+}", blog);
}

}  // namespace pyconc::tool
