// pyconc/aiohttp/web/response.hpp -- web::Response, json_response, FileResponse.
//
// Python: aiohttp.web.Response(text=..., status=..., content_type=..., headers=...),
// web.json_response(data), web.FileResponse(path).
//   co_return web::Response("<h1>Index</h1>", {.content_type = "text/html"});
//   co_return web::json_response({{"ok", true}});
//   co_return web::FileResponse("static/logo.png");
// The body is sent with Content-Length (the server frames it; handlers cannot set
// Content-Length, Transfer-Encoding or Connection). content_type defaults to "text/plain"
// with charset utf-8 for text types, as aiohttp's `text=`. Differences: the body is a whole
// std::string (no streaming StreamResponse yet); FileResponse reads the file when created.
//
// Thread safety: a plain value.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <utility>

#include "pyconc/aiohttp/multidict.hpp"

namespace pyconc::aiohttp::web {

// Options of a Response; at namespace scope for designated initializers.
struct ResponseOptions {
  int status{200};
  std::string reason{};        // empty: the standard phrase of `status`
  std::string content_type{};  // empty: "text/plain"
  std::string charset{};       // empty: "utf-8" for text/* and JSON, none otherwise
  CIMultiDict headers{};
};

class Response {
 public:
  Response() : Response(std::string()) {}
  explicit Response(std::string body, ResponseOptions options = {});

  int status() const noexcept { return status_; }
  const std::string& reason() const noexcept { return reason_; }
  // Python: resp.set_status(status, reason). ValueError outside 100..999.
  void set_status(int status, std::string reason = {});

  CIMultiDict& headers() noexcept { return headers_; }
  const CIMultiDict& headers() const noexcept { return headers_; }
  const std::string& body() const noexcept { return body_; }
  std::string& body() noexcept { return body_; }
  void set_body(std::string body) { body_ = std::move(body); }
  // Python: resp.text -- the body (as text).
  const std::string& text() const noexcept { return body_; }

  const std::string& content_type() const noexcept { return content_type_; }
  void set_content_type(std::string type) { content_type_ = std::move(type); }
  const std::string& charset() const noexcept { return charset_; }
  void set_charset(std::string charset) { charset_ = std::move(charset); }
  // The Content-Type header value: type plus "; charset=..." when there is one.
  std::string content_type_header() const;

  // Python: resp.force_close() -- close the connection after this response.
  void force_close() noexcept { keep_alive_ = false; }
  bool keep_alive() const noexcept { return keep_alive_; }

  // Python: resp.set_cookie(name, value, max_age=..., path=...). Appends a Set-Cookie header.
  void set_cookie(std::string_view name, std::string_view value, std::string_view path = "/",
                  long max_age = -1, bool httponly = false, bool secure = false);

 private:
  int status_ = 200;
  std::string reason_;
  CIMultiDict headers_;
  std::string body_;
  std::string content_type_;
  std::string charset_;
  bool keep_alive_ = true;
};

// Python: web.json_response(data, status=...): the JSON text with content type
// application/json. The caller includes <pyconc/aiohttp/json.hpp> to build `data`.
Response json_response(const nlohmann::json& data, ResponseOptions options = {});

// Python: web.FileResponse(path): the file's bytes with a content type guessed from its
// extension. Raises HTTPNotFound if it does not exist or is not a regular file.
Response FileResponse(const std::string& path, ResponseOptions options = {});

// The content type for a file name's extension ("application/octet-stream" if unknown).
std::string_view guess_content_type(std::string_view filename) noexcept;

}  // namespace pyconc::aiohttp::web
