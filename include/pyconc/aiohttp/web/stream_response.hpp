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

  // Python: resp.set_cookie(name, value, max_age=..., path=...). Appends a Set-Cookie header.
  void set_cookie(std::string_view name, std::string_view value, std::string_view path = "/",
                  long max_age = -1, bool httponly = false, bool secure = false);

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
