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
// Typed state (app_key.hpp): app[key] = value; req.app()[key] -- KeyError when not set.
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

#include "pyconc/aiohttp/web/app_key.hpp"
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

// Options of add_static; at namespace scope for designated initializers.
struct StaticOptions {
  bool show_index{false};       // a directory answers with its listing (else 403)
  bool follow_symlinks{false};  // symlinks may lead outside the directory
};

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
  // Python: router.add_static(prefix, path, show_index=False, follow_symlinks=False). Serves
  // the files below `directory` at `prefix`/<relative path> (GET and HEAD) as FileResponse
  // (Range, ETag, 304). Never leaves the directory: a ".." segment -- also percent-encoded,
  // "%2e%2e", or behind an encoded slash, "..%2f" -- is 403; a symlink resolving outside is
  // 404 unless follow_symlinks (checked by the kernel as the file is opened: openat2
  // RESOLVE_BENEATH); a missing file 404, an unreadable one 403. A directory is 403, or its
  // HTML listing with show_index. ValueError if `directory` does not exist.
  void add_static(std::string_view prefix, std::string directory, StaticOptions options = {});

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

template <class T>
class AppValue;

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

  // Typed state. Python: app[key] = v (through AppValue::operator=), app[key] (KeyError when
  // missing), key in app, app.get(key), del app[key] / app.pop(key).
  template <class T>
  AppValue<T> operator[](const AppKey<T>& key) noexcept;
  template <class T>
  const T& operator[](const AppKey<T>& key) const {
    return *static_cast<const T*>(state_or_raise(key));
  }
  bool contains(const AppKeyBase& key) const noexcept { return find_state(key.id()) != nullptr; }
  // The value, or null when not set.
  template <class T>
  T* get(const AppKey<T>& key) noexcept {
    return static_cast<T*>(find_state(key.id()));
  }
  template <class T>
  const T* get(const AppKey<T>& key) const noexcept {
    return static_cast<const T*>(find_state(key.id()));
  }
  // Removes the value; false when there was none (Python's `del` would raise KeyError).
  bool erase(const AppKeyBase& key) noexcept;
  // Stores `value` under `key`, replacing an earlier value; returns the stored one.
  template <class T, class V>
  T& set(const AppKey<T>& key, V&& value) {
    auto p = std::make_shared<T>(std::forward<V>(value));
    T& ref = *p;
    store_state(key.id(), std::move(p));
    return ref;
  }
  // The value's address; KeyError naming the key when it was never set.
  const void* state_or_raise(const AppKeyBase& key) const;

  // Python: app.startup() / app.shutdown() / app.cleanup(): run the hooks in order.
  asyncio::Task<> startup();
  asyncio::Task<> shutdown();
  asyncio::Task<> cleanup();

 private:
  UrlDispatcher router_;
  std::vector<Middleware> middlewares_;
  std::vector<AppHook> on_startup_, on_shutdown_, on_cleanup_;
  // Typed state, few keys: a vector searched by key id (out of line, no map in this header).
  void* find_state(std::uint64_t id) const noexcept;
  void store_state(std::uint64_t id, std::shared_ptr<void> value);
  std::vector<std::pair<std::uint64_t, std::shared_ptr<void>>> state_;
};

// What app[key] gives on a non-const Application: assign to store, read to get (KeyError
// when the key was never set). Python: the two sides of app[key].
//   app[key] = T{...};   T& v = app[key];   app[key]->method();   app[key].get().field;
template <class T>
class AppValue {
 public:
  AppValue(Application& app, const AppKey<T>& key) noexcept : app_(app), key_(key) {}
  // Stores `value` (Python: app[key] = value).
  template <class V>
  requires std::constructible_from<T, V&&> AppValue& operator=(V&& value) {
    app_.set(key_, std::forward<V>(value));
    return *this;
  }
  T& get() const { return *static_cast<T*>(const_cast<void*>(app_.state_or_raise(key_))); }
  operator T&() const { return get(); }  // NOLINT: implicit, as Python's app[key] reads
  T* operator->() const { return &get(); }
  T& operator*() const { return get(); }

 private:
  Application& app_;
  const AppKey<T>& key_;
};

template <class T>
AppValue<T> Application::operator[](const AppKey<T>& key) noexcept {
  return AppValue<T>(*this, key);
}

}  // namespace pyconc::aiohttp::web
