// pyconc/aiohttp/web/stream_response.hpp -- web::StreamResponse: a response whose body the
// handler writes piece by piece (Server-Sent Events, large or generated bodies).
//
// Python: aiohttp.web.StreamResponse.
//   web::StreamResponse sr({.content_type = "text/event-stream"});
//   co_await sr.prepare(req);                 // sends the status line and headers
//   co_await sr.write("data: 1\n\n");         // sent at once; waits while the peer lags
//   co_await sr.write_eof();                  // ends the body
//   co_return sr;                             // in a Task<web::StreamResponse> handler
// Framing: Transfer-Encoding: chunked unless a Content-Length is set (set_content_length(), or
// a Content-Length header, which prepare() takes over); then exactly that many bytes may be
// written (RuntimeError past it; a shorter body closes the connection after it). An HTTP/1.0
// client gets the body delimited by closing the connection. HEAD gets the head only: write()
// discards its data. After the handler returns, the server ends a body the handler left open
// (write_eof) and never writes a second response; keep-alive goes on when the framing allows.
// Backpressure: write() returns once the bytes are queued and, when more than 64 KiB are
// waiting for the peer, only after the queue has drained below that (Python's drain()).
// web::Response is a StreamResponse whose body is one string, sent by the server.
//
// Errors: prepare() twice is a no-op; write()/write_eof() before prepare(), write() after
// write_eof() raise RuntimeError; a peer that went away raises ConnectionResetError.
// Cancellation: write() and drain() are cancellable; bytes already queued are still sent.
// Thread safety: a StreamResponse belongs to the task handling its request (the connection's
// loop). Copies are handles on the same stream once prepared. A StreamResponse
// kept after its handler returned (a list of SSE subscribers) stays safe to call: once its
// connection is gone, write() raises ConnectionResetError.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pyconc/aiohttp/multidict.hpp"
#include "pyconc/asyncio/task.hpp"
#include "pyconc/detail/chrono.hpp"

namespace pyconc::detail {
class HttpServerConnection;
}

namespace pyconc::aiohttp::web {

class Request;

// Options of a Response or StreamResponse; at namespace scope for designated initializers.
struct ResponseOptions {
  int status{200};
  std::string reason{};        // empty: the standard phrase of `status`
  std::string content_type{};  // empty: "text/plain" (Response), "application/octet-stream"
  std::string charset{};       // empty: "utf-8" for text/* and JSON, none otherwise
  CIMultiDict headers{};
};

// Options of set_cookie; at namespace scope for designated initializers. Python: the keyword
// arguments of resp.set_cookie(name, value, *, expires, domain, max_age, path, secure,
// httponly, samesite).
struct CookieOptions {
  std::optional<std::chrono::seconds> max_age{};  // Max-Age (0 or less: delete at once)
  std::string path{"/"};                          // "" sends no Path
  std::string domain{};
  std::string expires{};  // an HTTP date, "Thu, 01 Jan 1970 00:00:00 GMT", sent as given
  bool secure{false};
  bool httponly{false};
  std::string samesite{};  // "Strict", "Lax" or "None" (any case); "" sends none
};

// Python: the path/domain of resp.del_cookie(name, *, domain, path).
struct DelCookieOptions {
  std::string path{"/"};
  std::string domain{};
};

class StreamResponse {
 public:
  StreamResponse() : StreamResponse(ResponseOptions{}) {}
  explicit StreamResponse(ResponseOptions options);

  int status() const noexcept { return status_; }
  const std::string& reason() const noexcept { return reason_; }
  // Python: resp.set_status(status, reason). ValueError outside 100..999; RuntimeError once
  // prepared.
  void set_status(int status, std::string reason = {});

  CIMultiDict& headers() noexcept { return headers_; }
  const CIMultiDict& headers() const noexcept { return headers_; }

  const std::string& content_type() const noexcept { return content_type_; }
  void set_content_type(std::string type) { content_type_ = std::move(type); }
  const std::string& charset() const noexcept { return charset_; }
  void set_charset(std::string charset) { charset_ = std::move(charset); }
  // The Content-Type header value: type plus "; charset=..." when there is one.
  std::string content_type_header() const;

  // Python: resp.content_length. nullopt: chunked (or delimited by close for HTTP/1.0).
  std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }
  void set_content_length(std::optional<std::uint64_t> length) { content_length_ = length; }
  // Python: resp.enable_chunked_encoding(): forget a Content-Length set earlier.
  void enable_chunked_encoding() noexcept { content_length_.reset(); }

  // Python: resp.force_close() -- close the connection after this response.
  void force_close() noexcept { keep_alive_ = false; }
  bool keep_alive() const noexcept { return keep_alive_; }

  // Python: resp.set_cookie(name, value, max_age=..., path=..., ...): a Set-Cookie header for
  // `name`, replacing one set earlier for the same name (one header per cookie, as aiohttp's
  // SimpleCookie). A value outside RFC 6265's cookie-octets is sent quoted as Python's
  // http.cookies quotes it. ValueError for a name that is not an HTTP token, a samesite other
  // than Strict/Lax/None, or an attribute holding ';', CR, LF or NUL; RuntimeError once
  // prepared.
  //   resp.set_cookie("session", id, {.max_age = 3600s, .httponly = true, .samesite = "Lax"});
  void set_cookie(std::string_view name, std::string_view value, const CookieOptions& options = {});
  // The first release's positional form (max_age < 0: none).
  void set_cookie(std::string_view name, std::string_view value, std::string_view path,
                  long max_age = -1, bool httponly = false, bool secure = false);
  // Python: resp.del_cookie(name, path=..., domain=...): tells the client to forget it (an
  // empty value, Max-Age=0 and an Expires in 1970).
  void del_cookie(std::string_view name, const DelCookieOptions& options = {});

  // --- for the server ---
  // A response that writes itself once it has the request (web::FileResponse: its status and
  // headers depend on the request's Range and conditional headers). It travels with the
  // response through conversions to Response, so a handler returning Task<Response> may
  // `co_return web::FileResponse(path)`: the server then calls send_self() instead of
  // sending a body.
  class SelfSender {
   public:
    virtual ~SelfSender() = default;
    // Prepares `self` for `request` and writes the whole body (write_eof included).
    virtual asyncio::Task<> send(StreamResponse& self, Request& request) = 0;
  };
  bool sends_self() const noexcept { return sender_ != nullptr; }
  asyncio::Task<> send_self(Request& request);

  // Python: resp.prepared -- prepare() sent the head.
  bool prepared() const noexcept { return conn_ != nullptr; }
  // Sends the status line and the headers. ValueError for a header the server frames
  // (Transfer-Encoding, Connection) or an invalid one; RuntimeError outside the server.
  asyncio::Task<> prepare(Request& request);
  // Sends `data` as (part of) the body; see the banner for framing and backpressure.
  asyncio::Task<> write(std::string_view data);
  // Waits until what was written is below the high-water mark.
  asyncio::Task<> drain();
  // Ends the body (after writing `data`, if any). A no-op the second time.
  asyncio::Task<> write_eof(std::string_view data = {});

 protected:
  // The connection, once prepared (shared: a StreamResponse kept after its connection ended
  // raises ConnectionResetError instead of touching freed memory).
  std::shared_ptr<pyconc::detail::HttpServerConnection> conn_;
  std::shared_ptr<SelfSender> sender_;

 private:
  int status_ = 200;
  std::string reason_;
  CIMultiDict headers_;
  std::string content_type_;
  std::string charset_;
  std::optional<std::uint64_t> content_length_;
  bool keep_alive_ = true;
};

}  // namespace pyconc::aiohttp::web
