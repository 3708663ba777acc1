// web::Request helpers, the router (UrlDispatcher) and Application::handle.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <unordered_map>

#include "pyconc/aiohttp/web/application.hpp"
#include "pyconc/aiohttp/web/exceptions.hpp"
#include "server_connection.hpp"

namespace pyconc::aiohttp::web {

// --- Request ---

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string unquote_path(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      out.push_back(raw[i]);
      continue;
    }
    if (i + 2 >= raw.size() || hex_value(raw[i + 1]) < 0 || hex_value(raw[i + 2]) < 0) {
      throw ValueError("malformed percent-escape in path");
    }
    out.push_back(static_cast<char>(hex_value(raw[i + 1]) * 16 + hex_value(raw[i + 2])));
    i += 2;
  }
  return out;
}

void Request::prepare(Application* app, std::string remote) {
  app_ = app;
  remote_ = std::move(remote);
  query_.reset();
  match_info_.clear();
  const std::string_view raw = raw_.path();
  if (raw.find('%') == std::string_view::npos) {
    path_.assign(raw);
  } else {
    try {
      path_ = unquote_path(raw);
    } catch (const ValueError&) {
      throw HTTPBadRequest("400: Bad Request (malformed path)");
    }
  }
}

bool Request::secure() const noexcept {
  return connection_ && connection_->is_tls();
}

MultiDict parse_form(std::string_view s) {
  MultiDict q;
  while (!s.empty()) {
    const auto amp = s.find('&');
    std::string_view item = s.substr(0, amp);
    s = amp == std::string_view::npos ? std::string_view() : s.substr(amp + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    auto decode = [](std::string_view v) {
      std::string plus(v);
      std::replace(plus.begin(), plus.end(), '+', ' ');
      try {
        return unquote_path(plus);
      } catch (const ValueError&) {
        return plus;  // keep a malformed escape as it is, like Python's parse_qsl
      }
    };
    q.add(decode(item.substr(0, eq)),
          eq == std::string_view::npos ? std::string() : decode(item.substr(eq + 1)));
  }
  return q;
}

const MultiDict& Request::query() const {
  if (!query_) query_ = parse_form(raw_.query_string());
  return *query_;
}

const std::string& Request::match_info(std::string_view name) const {
  for (const auto& [k, v] : match_info_) {
    if (k == name) return v;
  }
  throw KeyError("match_info has no '" + std::string(name) + "'");
}

std::optional<std::uint64_t> Request::content_length() const {
  auto v = raw_.headers().get("Content-Length");
  if (!v) return std::nullopt;
  try {
    return std::stoull(std::string(*v));
  } catch (...) {
    return std::nullopt;
  }
}

std::string_view Request::content_type() const {
  auto v = raw_.headers().get("Content-Type").value_or("application/octet-stream");
  return v.substr(0, v.find(';'));
}

pyconc::detail::ReadyValue<nlohmann::json> Request::json() const {
  try {
    return {nlohmann::json::parse(raw_.body())};
  } catch (const nlohmann::json::exception& e) {
    throw HTTPBadRequest(std::string("400: Bad Request (body is not JSON: ") + e.what() + ")");
  }
}

// --- router ---

struct UrlDispatcher::Table {
  struct Route {
    std::string method;
    Handler handler;
  };
  struct Resource {
    std::string pattern;
    bool dynamic = false;
    std::regex regex;
    std::vector<std::string> names;
    std::vector<Route> routes;
  };
  Resource& resource_for(std::string_view path);

  std::vector<std::unique_ptr<Resource>> resources_;
  std::unordered_map<std::string, Resource*> literal_;
};

UrlDispatcher::UrlDispatcher() : table_(std::make_unique<Table>()) {}
UrlDispatcher::~UrlDispatcher() = default;
UrlDispatcher::UrlDispatcher(UrlDispatcher&&) noexcept = default;
UrlDispatcher& UrlDispatcher::operator=(UrlDispatcher&&) noexcept = default;

UrlDispatcher::Table::Resource& UrlDispatcher::Table::resource_for(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    throw ValueError("route path must start with '/': '" + std::string(path) + "'");
  }
  for (auto& r : resources_) {
    if (r->pattern == path) return *r;
  }
  auto res = std::make_unique<Resource>();
  res->pattern = std::string(path);
  std::string regex;
  std::size_t i = 0;
  while (i < path.size()) {
    const char c = path[i];
    if (c == '{') {
      const auto close = path.find('}', i);
      if (close == std::string_view::npos)
        throw ValueError("unbalanced '{' in route '" + std::string(path) + "'");
      std::string_view spec = path.substr(i + 1, close - i - 1);
      // {name:regex} may contain braces in its regex ("\d{2}"): find the matching '}'.
      std::size_t end = close;
      if (spec.find(':') != std::string_view::npos) {
        int depth = 0;
        for (end = i + 1; end < path.size(); ++end) {
          if (path[end] == '{') ++depth;
          if (path[end] == '}') {
            if (depth == 0) break;
            --depth;
          }
        }
        if (end >= path.size())
          throw ValueError("unbalanced '{' in route '" + std::string(path) + "'");
        spec = path.substr(i + 1, end - i - 1);
      }
      const auto colon = spec.find(':');
      std::string name(spec.substr(0, colon));
      if (name.empty()) throw ValueError("empty {name} in route '" + std::string(path) + "'");
      res->names.push_back(name);
      regex += "(" +
               (colon == std::string_view::npos ? std::string("[^{}/]+")
                                                : std::string(spec.substr(colon + 1))) +
               ")";
      res->dynamic = true;
      i = end + 1;
    } else {
      if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) regex += '\\';
      regex += c;
      ++i;
    }
  }
  if (res->dynamic) {
    try {
      res->regex = std::regex(regex, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      throw ValueError("bad regex in route '" + std::string(path) + "': " + e.what());
    }
  } else {
    literal_.emplace(res->pattern, res.get());
  }
  resources_.push_back(std::move(res));
  return *resources_.back();
}

void UrlDispatcher::add_route(std::string_view method, std::string_view path, Handler handler) {
  if (!handler) throw ValueError("add_route: empty handler");
  std::string m(method);
  for (auto& ch : m) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  table_->resource_for(path).routes.push_back({std::move(m), std::move(handler)});
}

void UrlDispatcher::add_get(std::string_view path, Handler handler, bool allow_head) {
  if (allow_head) add_route("HEAD", path, handler);
  add_route("GET", path, std::move(handler));
}

UrlDispatcher::Resolved UrlDispatcher::resolve(std::string_view method,
                                               const std::string& path) const {
  Resolved out;
  out.status = 404;
  auto try_resource = [&](const Table::Resource& r) -> bool {
    for (const auto& route : r.routes) {
      if (route.method == method || route.method == "*") {
        out.handler = &route.handler;
        out.status = 200;
        return true;
      }
    }
    out.status = 405;
    for (const auto& route : r.routes) {
      if (out.allow.find(route.method) == std::string::npos) {
        if (!out.allow.empty()) out.allow += ", ";
        out.allow += route.method;
      }
    }
    return false;
  };
  if (auto it = table_->literal_.find(path); it != table_->literal_.end()) {
    if (try_resource(*it->second)) return out;
  }
  std::smatch m;
  for (const auto& r : table_->resources_) {
    if (!r->dynamic || !std::regex_match(path, m, r->regex)) continue;
    const auto allow = out.allow;
    if (try_resource(*r)) {
      for (std::size_t i = 0; i < r->names.size(); ++i)
        out.match_info.emplace_back(r->names[i], m[i + 1].str());
      return out;
    }
    if (!allow.empty() && out.allow != allow) out.allow = allow + ", " + out.allow;
  }
  return out;
}

// --- Application ---

asyncio::Task<Response> Application::handle(Request& request) const {
  auto resolved = router_.resolve(request.method(), request.path());
  if (resolved.handler == nullptr) {
    if (resolved.status == 405) throw HTTPMethodNotAllowed(request.method(), resolved.allow);
    throw HTTPNotFound();
  }
  request.set_match_info(std::move(resolved.match_info));
  if (middlewares_.empty()) co_return co_await (*resolved.handler)(request);
  // Innermost first: the handler, wrapped by the last middleware, ..., by the first.
  Handler chain = *resolved.handler;
  for (auto it = middlewares_.rbegin(); it != middlewares_.rend(); ++it) {
    chain = [mw = &*it, next = std::move(chain)](Request& r) { return (*mw)(r, next); };
  }
  co_return co_await chain(request);
}

void* Application::find_state(std::uint64_t id) const noexcept {
  for (const auto& [k, v] : state_) {
    if (k == id) return v.get();
  }
  return nullptr;
}

void Application::store_state(std::uint64_t id, std::shared_ptr<void> value) {
  for (auto& [k, v] : state_) {
    if (k == id) {
      v = std::move(value);
      return;
    }
  }
  state_.emplace_back(id, std::move(value));
}

bool Application::erase(const AppKeyBase& key) noexcept {
  for (auto it = state_.begin(); it != state_.end(); ++it) {
    if (it->first == key.id()) {
      state_.erase(it);
      return true;
    }
  }
  return false;
}

const void* Application::state_or_raise(const AppKeyBase& key) const {
  const void* p = find_state(key.id());
  if (p == nullptr) throw KeyError("<AppKey(" + key.name() + ")>: not set on this Application");
  return p;
}

namespace {
asyncio::Task<> run_hooks(std::vector<AppHook>& hooks, Application& app) {
  for (auto& h : hooks) co_await h(app);
}
}  // namespace

asyncio::Task<> Application::startup() {
  return run_hooks(on_startup_, *this);
}
asyncio::Task<> Application::shutdown() {
  return run_hooks(on_shutdown_, *this);
}
asyncio::Task<> Application::cleanup() {
  return run_hooks(on_cleanup_, *this);
}

}  // namespace pyconc::aiohttp::web
