// pyconc/aiohttp/web/response.hpp -- web::Response, json_response, FileResponse.
//
// Python: aiohttp.web.Response(text=..., status=..., content_type=..., headers=...),
// web.json_response(data), web.FileResponse(path).
//   co_return web::Response("<h1>Index</h1>", {.content_type = "text/html"});
//   co_return web::json_response({{"ok", true}});
//   co_return web::FileResponse("static/logo.png");
// The body is sent with Content-Length (the server frames it; handlers cannot set
// Content-Length, Transfer-Encoding or Connection). content_type defaults to "text/plain"
// with charset utf-8 for text types, as aiohttp's `text=`. Response is a StreamResponse (see
// stream_response.hpp) whose body is one string. FileResponse is in file_response.hpp
// (included here).
//
// Thread safety: a plain value.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <utility>

#include "pyconc/aiohttp/multidict.hpp"
#include "pyconc/aiohttp/web/file_response.hpp"
#include "pyconc/aiohttp/web/stream_response.hpp"

namespace pyconc::aiohttp::web {

// Python: web.Response(text=...): a StreamResponse whose body is one string. The server sends
// it whole with Content-Length; a handler can also send it itself with prepare().
class Response : public StreamResponse {
 public:
  Response() : Response(std::string()) {}
  explicit Response(std::string body, ResponseOptions options = {});
  // A StreamResponse (or WebSocketResponse) a handler prepared, returned where a Response is
  // expected (the Handler type, middlewares): the server finishes that stream instead.
  Response(StreamResponse&& streamed) noexcept : StreamResponse(std::move(streamed)) {}  // NOLINT

  const std::string& body() const noexcept { return body_; }
  std::string& body() noexcept { return body_; }
  void set_body(std::string body) { body_ = std::move(body); }
  // Python: resp.text -- the body (as text).
  const std::string& text() const noexcept { return body_; }

  // Python: await resp.prepare(request) on a Response: sends the head with Content-Length and
  // the body at once (then write_eof() is a no-op).
  asyncio::Task<> prepare(Request& request);

 private:
  std::string body_;
};

// Python: web.json_response(data, status=...): the JSON text with content type
// application/json. The caller includes <pyconc/aiohttp/json.hpp> to build `data`.
Response json_response(const nlohmann::json& data, ResponseOptions options = {});

// The content type for a file name's extension ("application/octet-stream" if unknown).
std::string_view guess_content_type(std::string_view filename) noexcept;

}  // namespace pyconc::aiohttp::web
