// pyconc/aiohttp/web/request.hpp -- web::Request, what a handler receives.
//
// Python: aiohttp.web.Request.
//   req.method(); req.path(); req.query().get("q"); req.headers().get("User-Agent");
//   req.match_info("name");                        // the {name} part of the route
//   std::string body = co_await req.text();  auto j = co_await req.json();
//   auto form = co_await req.post(); form.get("user"); form.file("upload")->filename;
//   req.cookies().get("session");
// The server reads the whole request (head and body, within the body size limit: 413 above
// it) before calling the handler, so text()/read()/json() complete at once; they are
// awaitables for aiohttp's shape. path() is percent-decoded, raw_path() is not.
//
// Thread safety: a Request belongs to the connection task that handles it.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pyconc/aiohttp/detail/http_parser.hpp"
#include "pyconc/aiohttp/multidict.hpp"

namespace pyconc::detail {
class HttpServerConnection;
// An awaitable that is ready at once (co_await req.text()).
template <class T>
struct ReadyValue {
  T value;
  bool await_ready() const noexcept { return true; }
  void await_suspend(auto) const noexcept {}
  T await_resume() { return std::move(value); }
};
}  // namespace pyconc::detail

namespace pyconc::aiohttp::web {

class Application;

// A file part of a multipart/form-data body (Python: aiohttp.web.FileField).
struct FileField {
  std::string name;          // the form field's name
  std::string filename;      // as the client sent it: never use it as a path unchecked
  std::string content_type;  // "application/octet-stream" when the part names none
  std::string content;       // the bytes
};

// What co_await req.post() gives: every field of the form, in order, as a MultiDict (a file
// part's value is its content), plus the file parts' names and types. Python: the
// MultiDictProxy of request.post(), whose file values are FileFields.
class PostData : public MultiDict {
 public:
  const std::vector<FileField>& files() const noexcept { return files_; }
  // The first file part named `name`, or null.
  const FileField* file(std::string_view name) const noexcept {
    for (const auto& f : files_) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }
  void add_file(FileField f) {
    add(f.name, f.content);
    files_.push_back(std::move(f));
  }

 private:
  std::vector<FileField> files_;
};

class Request {
 public:
  Request() = default;

  std::string_view method() const noexcept { return raw_.method(); }
  // Decoded path ("/hello/wörld"), raw_path() as sent ("/hello/w%C3%B6rld?x=1" minus query).
  const std::string& path() const noexcept { return path_; }
  std::string_view raw_path() const noexcept { return raw_.path(); }
  // Path and query as sent (Python: request.path_qs / rel_url).
  std::string_view path_qs() const noexcept { return raw_.target(); }
  std::string_view query_string() const noexcept { return raw_.query_string(); }
  // The query parsed like a form (Python: request.query, a MultiDictProxy).
  const MultiDict& query() const;
  pyconc::detail::HttpHeaderView headers() const noexcept { return raw_.headers(); }
  std::string_view host() const noexcept { return raw_.headers().get("Host").value_or(""); }
  int version_minor() const noexcept { return raw_.version_minor(); }
  bool keep_alive() const noexcept { return raw_.keep_alive(); }
  // The peer's address ("127.0.0.1"), Python: request.remote.
  const std::string& remote() const noexcept { return remote_; }
  // Python: request.secure / request.scheme -- whether it came over TLS ("https") or not.
  bool secure() const noexcept;
  std::string_view scheme() const noexcept { return secure() ? "https" : "http"; }

  // A {name} of the matched route. KeyError if the route has no such part.
  const std::string& match_info(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& match_info_items() const noexcept {
    return match_info_;
  }

  bool has_body() const noexcept { return !raw_.body().empty(); }
  std::optional<std::uint64_t> content_length() const;
  std::string_view content_type() const;

  pyconc::detail::ReadyValue<std::string> text() const { return {raw_.body()}; }
  pyconc::detail::ReadyValue<std::string> read() const { return {raw_.body()}; }
  // The body parsed as JSON; HTTPBadRequest if it is not JSON. The caller includes
  // <pyconc/aiohttp/json.hpp> to use the value.
  pyconc::detail::ReadyValue<nlohmann::json> json() const;
  // Python: await request.post() -- the fields of an application/x-www-form-urlencoded or
  // multipart/form-data body (any other type: empty, as aiohttp). A malformed multipart body
  // (no boundary, a part without name, no closing delimiter) is HTTPBadRequest. The body is
  // bounded by the server's body limit (413 above it), file parts included: they are held in
  // memory, not streamed to disk.
  pyconc::detail::ReadyValue<PostData> post() const;
  // Python: request.cookies -- the Cookie header's name=value pairs.
  MultiDict cookies() const;
  const std::string& body() const noexcept { return raw_.body(); }

  Application& app() const noexcept { return *app_; }

  // --- for the server ---
  pyconc::detail::HttpRequest& raw() noexcept { return raw_; }
  void prepare(Application* app, std::string remote);
  void set_match_info(std::vector<std::pair<std::string, std::string>> m) {
    match_info_ = std::move(m);
  }
  // The connection the request came on (StreamResponse::prepare writes there); null for a
  // Request built outside the server.
  const std::shared_ptr<pyconc::detail::HttpServerConnection>& connection() const noexcept {
    return connection_;
  }
  void set_connection(std::shared_ptr<pyconc::detail::HttpServerConnection> c) {
    connection_ = std::move(c);
  }

 private:
  pyconc::detail::HttpRequest raw_;
  std::string path_;
  std::string remote_;
  std::vector<std::pair<std::string, std::string>> match_info_;
  mutable std::optional<MultiDict> query_;
  Application* app_ = nullptr;
  std::shared_ptr<pyconc::detail::HttpServerConnection> connection_;
};

// Parses application/x-www-form-urlencoded text ("a=1&b=x+y") into a MultiDict, '+' as space
// and %XX decoded (a malformed escape is kept as sent, as Python's parse_qsl).
MultiDict parse_form(std::string_view text);

// Percent-decodes a URL path ('+' stays '+'); ValueError on a malformed escape.
std::string unquote_path(std::string_view raw);

}  // namespace pyconc::aiohttp::web
