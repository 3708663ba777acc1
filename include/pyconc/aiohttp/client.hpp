// pyconc/aiohttp/client.hpp -- ClientSession: an HTTP client with a connection pool, on the
// event loop.
//
// Python: aiohttp.ClientSession (with its TCPConnector).
//   aiohttp::ClientSession session({.limit = 100, .limit_per_host = 10});
//   auto resp = co_await session.get("http://127.0.0.1:8080/", {.params = {{"q", "1"}}});
//   std::string body = co_await resp.text();
//   auto r2 = co_await session.post(url, {.json = {{"name", "pyconc"}}});
//   auto r3 = co_await session.request("PROPFIND", url);
//   session.close();
// Each request is one libcurl easy handle on the session's libcurl multi handle, which the
// running event loop drives (ARCHITECTURE decision 6): libcurl tells the session which sockets
// to watch and when to wake it, the loop's reactor reports readiness, and the transfer advances
// in the loop thread -- no extra thread, no polling. libcurl supplies TLS (OpenSSL), HTTP/2
// (optional), gzip/deflate/brotli/zstd decoding, keep-alive connection reuse, the limits, the
// cookie engine and proxy support. Redirects are followed by the session itself (as aiohttp
// does): every hop is in history(), POST becomes GET on 301/302/303, credentials are dropped
// when the origin changes.
//
// get()/post()/... return once the final response's headers are in (after redirects); the
// body is read by ClientResponse::read()/text()/json(). Errors raise the exceptions of
// aiohttp/exceptions.hpp, a timeout pyconc::TimeoutError, a URL that is not http(s) InvalidURL.
// A session belongs to the event loop of its first request (RuntimeError if used from another
// loop); it may be created before that loop runs.
// GCC 12: a braced options argument inside a co_await expression is miscompiled by GCC 12 (an
// aggregate temporary in a co_await full-expression is destroyed twice, once at a wrong
// address; a braced list inside it does not compile: "array used as initializer"). Clang and
// later GCCs are fine. With GCC 12, make the request first and await it in a second statement:
//   auto request = session.get(url, {.params = {{"q", "1"}}});
//   auto resp = co_await std::move(request);
// `co_await session.get(url)` without options is fine everywhere.
// Differences: close() is synchronous (Python: `await session.close()`); there is no
// `async with` -- the destructor closes. max_redirects allows exactly that many redirects
// (aiohttp raises at the max_redirects-th). JSON is nlohmann::json, declared only: files that
// build or read JSON include <pyconc/aiohttp/json.hpp>. Requests of a session on
// one host share its HTTP/1.1 connections as aiohttp's pool does; HTTP/2 multiplexing is used
// only with {.http2 = true}.
//
// Cancellation: cancelling the task awaiting a request removes its transfer from libcurl at
// once (the connection is closed, the server sees it) and throws CancelledError.
// Closing: close() (or the destructor) aborts every transfer still running -- their awaiting
// tasks get ClientConnectionError("Session is closed") -- and closes the pooled connections.
// Thread safety: loop-thread only; distinct sessions are independent.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "pyconc/aiohttp/client_options.hpp"
#include "pyconc/aiohttp/client_response.hpp"
#include "pyconc/aiohttp/client_ws.hpp"
#include "pyconc/aiohttp/cookie_jar.hpp"
#include "pyconc/aiohttp/exceptions.hpp"
#include "pyconc/aiohttp/url.hpp"
#include "pyconc/asyncio/task.hpp"

namespace pyconc::detail {
class ClientSessionCore;
}

namespace pyconc::aiohttp {

class ClientSession {
 public:
  // ValueError / InvalidURL for invalid options (a base_url that is not absolute http(s)).
  explicit ClientSession(ClientSessionOptions options = {});
  ~ClientSession();
  ClientSession(ClientSession&&) noexcept = default;
  ClientSession& operator=(ClientSession&& o) noexcept;
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Python: session.request(method, url, **kwargs). `method` is upper-cased; a relative `url`
  // is resolved against base_url. RuntimeError once the session is closed. (Each method has an
  // overload without options rather than a default argument: see "GCC 12" above.)
  asyncio::Task<ClientResponse> request(std::string_view method, std::string_view url);
  asyncio::Task<ClientResponse> request(std::string_view method, std::string_view url,
                                        RequestOptions options);
  asyncio::Task<ClientResponse> request(std::string_view method, const URL& url);
  asyncio::Task<ClientResponse> request(std::string_view method, const URL& url,
                                        RequestOptions options);

  // get/post/put/patch/delete_/head/options(url[, options]); `url` is text or a URL.
  template <class U>
  asyncio::Task<ClientResponse> get(const U& url) {
    return request("GET", url);
  }
  template <class U>
  asyncio::Task<ClientResponse> get(const U& url, RequestOptions options) {
    return request("GET", url, std::move(options));
  }
  template <class U>
  asyncio::Task<ClientResponse> post(const U& url) {
    return request("POST", url);
  }
  template <class U>
  asyncio::Task<ClientResponse> post(const U& url, RequestOptions options) {
    return request("POST", url, std::move(options));
  }
  template <class U>
  asyncio::Task<ClientResponse> put(const U& url) {
    return request("PUT", url);
  }
  template <class U>
  asyncio::Task<ClientResponse> put(const U& url, RequestOptions options) {
    return request("PUT", url, std::move(options));
  }
  template <class U>
  asyncio::Task<ClientResponse> patch(const U& url) {
    return request("PATCH", url);
  }
  template <class U>
  asyncio::Task<ClientResponse> patch(const U& url, RequestOptions options) {
    return request("PATCH", url, std::move(options));
  }
  // Python: session.delete (delete is a C++ keyword).
  template <class U>
  asyncio::Task<ClientResponse> delete_(const U& url) {
    return request("DELETE", url);
  }
  template <class U>
  asyncio::Task<ClientResponse> delete_(const U& url, RequestOptions options) {
    return request("DELETE", url, std::move(options));
  }
  // HEAD does not follow redirects unless asked ({.allow_redirects = true}), as in aiohttp.
  template <class U>
  asyncio::Task<ClientResponse> head(const U& url) {
    return request("HEAD", url);
  }
  template <class U>
  asyncio::Task<ClientResponse> head(const U& url, RequestOptions options) {
    return request("HEAD", url, std::move(options));
  }
  template <class U>
  asyncio::Task<ClientResponse> options(const U& url) {
    return request("OPTIONS", url);
  }
  template <class U>
  asyncio::Task<ClientResponse> options(const U& url, RequestOptions options) {
    return request("OPTIONS", url, std::move(options));
  }

  // Python: session.ws_connect(url, ...): a WebSocket to a ws:// or wss:// URL (http(s)://
  // too); see client_ws.hpp.
  asyncio::Task<ClientWebSocketResponse> ws_connect(std::string_view url);
  asyncio::Task<ClientWebSocketResponse> ws_connect(std::string_view url, WSConnectOptions options);

  // Aborts the running transfers and closes the pooled connections. Idempotent.
  void close();
  bool closed() const noexcept;

  CookieJar cookie_jar() const;
  const CIMultiDict& headers() const;
  const ClientTimeout& timeout() const;

 private:
  std::shared_ptr<detail::ClientSessionCore> core_;
};

}  // namespace pyconc::aiohttp
