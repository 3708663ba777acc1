// pyconc/aiohttp/web/application.hpp -- web::Application and its router.
//
// Python: aiohttp.web.Application, app.router (UrlDispatcher), app.middlewares,
// app.on_startup / on_shutdown / on_cleanup.
//   web::Application app;
//   app.router().add_get("/", index);
//   app.router().add_get("/hello/{name}", hello);           // req.match_info("name")
//   app.router().add_route("GET", "/n/{id:\\d+}", by_id);     // {name:regex}
//   app.router().add_static("/static", "./static");
//   app.middlewares().push_back([](web::Request& r, const web::Handler& next)
//                                   -> aio::Task<web::Response> { co_return co_await next(r); });
// add_get also answers HEAD (aiohttp's allow_head=True). A path that matches no route -> 404;
// one that matches with another method -> 405 with Allow. Routes are tried in the order they
// were added, static (literal) paths first through a hash lookup. Handlers and middlewares
// are any callables returning aio::Task<web::Response>; add_route/add_get/add_post also take
// handlers returning aio::Task<web::StreamResponse> or aio::Task<web::WebSocketResponse>.
//
// Thread safety: set up the application before serving it; while serving, it is only read.
// With run_app(..., {.workers = N > 1}) handlers run on N loop threads at once and must be
// thread-safe themselves.
#pragma once

#include <concepts>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>
#include "pyconc/detail/function.hpp"

#include "pyconc/aiohttp/web/request.hpp"
#include "pyconc/aiohttp/web/response.hpp"
#include "pyconc/asyncio/task.hpp"

namespace pyconc::aiohttp::web {

using Handler = std::function<asyncio::Task<Response>(Request&)>;
using Middleware = std::function<asyncio::Task<Response>(Request&, const Handler&)>;
using AppHook = std::function<asyncio::Task<>(Application&)>;

// A handler returning aio::Task<web::StreamResponse>, aio::Task<web::WebSocketResponse> (or of
// any other StreamResponse but Response itself).
template <class F>
concept StreamHandler = requires {
  typename std::invoke_result_t<F&, Request&>::value_type;
}
&&std::derived_from<typename std::invoke_result_t<F&, Request&>::value_type, StreamResponse> &&
    !std::same_as<typename std::invoke_result_t<F&, Request&>::value_type, Response>;

// Such a handler as a Handler: the stream it prepared travels as a Response (the server then
// finishes the stream instead of sending a second response).
template <StreamHandler F>
Handler as_handler(F f) {
  return [f = std::move(f)](Request& r) -> asyncio::Task<Response> {
    co_return Response(StreamResponse(co_await f(r)));
  };
}

class UrlDispatcher {
 public:
  UrlDispatcher();
  ~UrlDispatcher();
  UrlDispatcher(UrlDispatcher&&) noexcept;
  UrlDispatcher& operator=(UrlDispatcher&&) noexcept;

  // `method` "*" matches any method. ValueError for a malformed pattern or regex.
  void add_route(std::string_view method, std::string_view path, Handler handler);
  void add_get(std::string_view path, Handler handler, bool allow_head = true);
  // The same for handlers returning a StreamResponse or WebSocketResponse.
  template <StreamHandler F>
  void add_route(std::string_view method, std::string_view path, F handler) {
    add_route(method, path, as_handler(std::move(handler)));
  }
  template <StreamHandler F>
  void add_get(std::string_view path, F handler, bool allow_head = true) {
    add_get(path, as_handler(std::move(handler)), allow_head);
  }
  template <StreamHandler F>
  void add_post(std::string_view path, F handler) {
    add_route("POST", path, as_handler(std::move(handler)));
  }
  void add_head(std::string_view path, Handler handler) {
    add_route("HEAD", path, std::move(handler));
  }
  void add_post(std::string_view path, Handler handler) {
    add_route("POST", path, std::move(handler));
  }
  void add_put(std::string_view path, Handler handler) {
    add_route("PUT", path, std::move(handler));
  }
  void add_patch(std::string_view path, Handler handler) {
    add_route("PATCH", path, std::move(handler));
  }
  void add_delete(std::string_view path, Handler handler) {
    add_route("DELETE", path, std::move(handler));
  }
  // Serves files below `directory` at `prefix`/<relative path> (GET and HEAD); paths that
  // leave the directory ("..") are refused with 403, missing files are 404.
  void add_static(std::string_view prefix, std::string directory);

  // Result of matching a request.
  struct Resolved {
    const Handler* handler = nullptr;  // null: see status
    int status = 200;                  // 404 or 405 when handler is null
    std::string allow;                 // for 405
    std::vector<std::pair<std::string, std::string>> match_info;
  };
  Resolved resolve(std::string_view method, const std::string& path) const;

 private:
  // The resources (patterns compiled to std::regex, literal paths hashed): in the .cpp, so that
  // this header does not pull in <regex>.
  struct Table;
  std::unique_ptr<Table> table_;
};

class Application {
 public:
  Application() = default;
  Application(const Application&) = delete;
  Application& operator=(const Application&) = delete;

  UrlDispatcher& router() noexcept { return router_; }
  // Applied outermost first, as aiohttp's list.
  std::vector<Middleware>& middlewares() noexcept { return middlewares_; }
  std::vector<AppHook>& on_startup() noexcept { return on_startup_; }
  std::vector<AppHook>& on_shutdown() noexcept { return on_shutdown_; }
  std::vector<AppHook>& on_cleanup() noexcept { return on_cleanup_; }

  // Runs the request through the middlewares and the matched handler. HTTPException from them
  // becomes its response; 404/405 when nothing matches.
  asyncio::Task<Response> handle(Request& request) const;

  // Python: app.startup() / app.shutdown() / app.cleanup(): run the hooks in order.
  asyncio::Task<> startup();
  asyncio::Task<> shutdown();
  asyncio::Task<> cleanup();

 private:
  UrlDispatcher router_;
  std::vector<Middleware> middlewares_;
  std::vector<AppHook> on_startup_, on_shutdown_, on_cleanup_;
};

}  // namespace pyconc::aiohttp::web
