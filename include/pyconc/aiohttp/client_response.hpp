// pyconc/aiohttp/client_response.hpp -- ClientResponse: the answer to a ClientSession request.
//
// Python: aiohttp.ClientResponse.
//   auto resp = co_await session.get(url);      // returns once the headers are in
//   resp.status(); resp.reason(); resp.headers()["Content-Type"]; resp.url();
//   std::string body = co_await resp.text();    // waits for the whole body
//   nlohmann::json data = co_await resp.json();  resp.raise_for_status();
//   auto chunk = co_await resp.content().read(65536);   // streamed: see stream_reader.hpp
// The response is a handle (copies share one response, as Python references do). The body
// keeps arriving in the background once the headers are in: libcurl's write callback appends
// it to a buffer, and read()/text()/json() wait until it is complete, then return it (the
// body is kept: they may be called again). content() reads it as it arrives instead, in
// constant memory: unread bytes beyond twice read_bufsize pause the transfer (backpressure),
// whether or not anyone reads, until a reader -- or read()/text()/json() -- wants more. Destroying the last handle, release() or close()
// before the body is complete aborts the transfer (the connection is closed, not reused).
// Differences: there is no `async with`: the response is released when the last handle goes.
// text() decodes with the charset of Content-Type (any charset iconv knows), else UTF-8 --
// aiohttp would guess with chardet; errors "strict" raises ValueError (Python's
// UnicodeDecodeError), "replace" and "ignore" as in Python. json() returns nlohmann::json;
// the file that uses it includes <pyconc/aiohttp/json.hpp> (this header only declares it).
// history() holds the redirect responses, without bodies.
//
// Cancellation: cancelling a task awaiting read()/text()/json() aborts the transfer at once
// (the server sees the connection close) and throws CancelledError; the body stays incomplete.
// Thread safety: loop-thread only (the thread whose loop made the request).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "pyconc/aiohttp/exceptions.hpp"
#include "pyconc/aiohttp/multidict.hpp"
#include "pyconc/aiohttp/stream_reader.hpp"
#include "pyconc/aiohttp/url.hpp"
#include "pyconc/asyncio/task.hpp"

namespace pyconc::detail {
struct ClientResponseState;
}

namespace pyconc::aiohttp {

// Python: aiohttp.HttpVersion(major, minor).
struct HttpVersion {
  int major = 1;
  int minor = 1;
  friend bool operator==(const HttpVersion&, const HttpVersion&) = default;
};

class ClientResponse {
 public:
  // An empty handle: every member but valid() raises RuntimeError.
  ClientResponse() = default;
  explicit ClientResponse(std::shared_ptr<detail::ClientResponseState> state) noexcept;

  bool valid() const noexcept { return s_ != nullptr; }

  // --- the head ---------------------------------------------------------------------------
  int status() const;
  // The reason phrase as sent ("OK"); the standard phrase if the server sent none (HTTP/2).
  const std::string& reason() const;
  const CIMultiDict& headers() const;
  // The URL this response answers (after redirects), without fragment; real_url() keeps it.
  const URL& url() const;
  const URL& real_url() const;
  const std::string& method() const;
  HttpVersion version() const;
  const RequestInfo& request_info() const;
  // The redirect responses that led here, oldest first (Python: resp.history).
  const std::vector<ClientResponse>& history() const;
  // Content-Length as sent (of the encoded body when it is compressed), nullopt if absent.
  std::optional<std::uint64_t> content_length() const;
  // The lower-case MIME type of Content-Type, "application/octet-stream" when absent.
  std::string content_type() const;
  // The charset parameter of Content-Type (lower case), nullopt when absent.
  std::optional<std::string> charset() const;
  // Cookies set by this response: name -> value of each Set-Cookie header.
  MultiDict cookies() const;
  // Python: resp.ok -- status < 400.
  bool ok() const { return status() < 400; }
  // ClientResponseError(status, reason, url) if status >= 400; the body is released first.
  void raise_for_status();

  // --- the body ----------------------------------------------------------------------------
  // The body as bytes (decompressed unless auto_decompress is off). Raises what cut the
  // transfer short: ClientPayloadError, ServerDisconnectedError, TimeoutError, ...
  asyncio::Task<std::string> read() const;
  // The body decoded to UTF-8 from `encoding` (default: the charset of Content-Type, else
  // UTF-8). errors: "strict" (ValueError on invalid bytes), "replace" (U+FFFD), "ignore".
  // ValueError for an encoding iconv does not know.
  asyncio::Task<std::string> text(std::optional<std::string> encoding = std::nullopt,
                                  std::string errors = "strict") const;
  // The body parsed as JSON (null for an empty body). ContentTypeError unless Content-Type
  // matches `content_type` ("application/json" also accepts application/...+json; nullopt
  // skips the check); ValueError for invalid JSON.
  asyncio::Task<nlohmann::json> json(
      std::optional<std::string> content_type = std::string("application/json")) const;
  // Python: resp.content -- the body as a stream (read(n), readline(), iter_chunked(n), ...).
  // Bytes it consumes are gone from body() and from a later read().
  StreamReader content() const;
  // The bytes received so far and not consumed through content() (the whole body once read()
  // returned). No copy.
  const std::string& body() const;
  // Whether the body is complete (or the transfer ended with an error).
  bool is_eof() const;

  // Python: resp.release() -- frees the transfer; an incomplete body is aborted.
  void release();
  // Python: resp.close() -- as release().
  void close() { release(); }
  bool closed() const;

 private:
  detail::ClientResponseState& state() const;
  std::shared_ptr<detail::ClientResponseState> s_;
};

}  // namespace pyconc::aiohttp
