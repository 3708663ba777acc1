// pyconc/aiohttp/client_options.hpp -- the keyword arguments of ClientSession and its requests:
// ClientTimeout, BasicAuth, RequestOptions, ClientSessionOptions.
//
// Python: aiohttp.ClientTimeout, aiohttp.BasicAuth, and the keyword arguments of
// ClientSession(...), TCPConnector(...) and session.request(...):
//   aiohttp::ClientSession session({.limit = 100, .limit_per_host = 10,
//                                   .timeout = {.total = 30s}});
//   auto r = co_await session.get(url, {.params = {{"q", "c++"}}, .headers = {{"X-A", "1"}},
//                                       .timeout = aiohttp::ClientTimeout{.total = 2s}});
// JSON bodies (`.json = {{"name", "pyconc"}}`) are built in the caller's file, which therefore
// needs nlohmann::json complete: include <pyconc/aiohttp/json.hpp> there (this header only
// declares nlohmann::json, so that files that send no JSON do not pay for its header).
// Differences: durations are std::chrono; TCPConnector's options (limit, limit_per_host,
// force_close, keepalive_timeout, ssl) are the session's own, since one libcurl multi handle
// is the session's connection pool.
//
// Thread safety: plain values.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include "pyconc/detail/chrono.hpp"

#include <nlohmann/json_fwd.hpp>

#include "pyconc/aiohttp/form_data.hpp"
#include "pyconc/aiohttp/multidict.hpp"
#include "pyconc/detail/deadline.hpp"

namespace pyconc::aiohttp {

// Python: aiohttp.ClientTimeout(total, connect, sock_read, sock_connect); nullopt = no limit.
//   total        the whole request: connecting, redirects, sending, reading the whole body
//   connect      from the request's start until a connection is ready, waiting for a free
//                slot of the pool (limit / limit_per_host) included, per redirect hop
//   sock_read    the longest silence between two pieces of the response (after the request
//                was sent)
//   sock_connect DNS lookup + TCP (+ TLS) handshake of a new connection (CURLOPT_CONNECTTIMEOUT)
// Any of them expiring raises pyconc::TimeoutError and aborts the transfer.
struct ClientTimeout {
  std::optional<detail::Clock::duration> total{};
  std::optional<detail::Clock::duration> connect{};
  std::optional<detail::Clock::duration> sock_read{};
  std::optional<detail::Clock::duration> sock_connect{};
};

// Python: aiohttp.BasicAuth(login, password) -- HTTP Basic credentials. ValueError (when the
// request is made) if the login contains ':'.
struct BasicAuth {
  std::string login{};
  std::string password{};
  // The Authorization header value: "Basic " + base64(login:password).
  std::string encode() const;
};

// A JSON request body, kept as its serialized text. Python: aiohttp.JsonPayload (what json=
// becomes). Built from anything nlohmann::json is built from -- `{{"k", 1}, {"l", {1, 2}}}`
// (an object when every element is a [string, value] pair, else an array, as nlohmann::json
// decides), a nlohmann::json, a number... -- which needs <pyconc/aiohttp/json.hpp> (or
// <nlohmann/json.hpp>) in the file that builds it. Default / null: no JSON body.
// Thread safety: a plain value.
class JsonPayload {
 public:
  JsonPayload() = default;
  JsonPayload(const nlohmann::json& value);                 // NOLINT: implicit, as json=
  JsonPayload(std::initializer_list<nlohmann::json> init);  // NOLINT
  template <class T, class J = nlohmann::json>
  requires(!std::is_same_v<std::remove_cvref_t<T>, JsonPayload> &&
           !std::is_same_v<std::remove_cvref_t<T>, J>)
      JsonPayload(T&& value)  // NOLINT: a value converts, as json=value in Python
      : JsonPayload(static_cast<const J&>(J(std::forward<T>(value)))) {}

  // Whether there is no body (nlohmann::json's null, Python's json=None).
  bool is_null() const noexcept { return !text_.has_value(); }
  // The serialized JSON ("null" when is_null()).
  std::string dump() const { return text_ ? *text_ : std::string("null"); }

 private:
  std::optional<std::string> text_{};
};

// Keyword arguments of session.request(method, url, ...) and get/post/...
struct RequestOptions {
  // Query items appended to the URL's own (Python: params=).
  MultiDict params{};
  // Headers of this request; they replace the session's headers of the same name.
  CIMultiDict headers{};
  // The body: a string, or form fields (see form_data.hpp). ValueError together with json.
  RequestData data{};
  // A JSON body, sent with Content-Type application/json; null (the default) sends none, as
  // Python's json=None. Building one needs <pyconc/aiohttp/json.hpp> (see JsonPayload).
  JsonPayload json{};
  // Replaces the session's timeout for this request (all four fields).
  std::optional<ClientTimeout> timeout{};
  // Follow redirects (nullopt: yes, except for HEAD -- aiohttp's defaults).
  std::optional<bool> allow_redirects{};
  // At most this many redirects are followed; one more raises TooManyRedirects.
  int max_redirects{10};
  // Basic credentials (or user:password in the URL; ValueError if both).
  std::optional<BasicAuth> auth{};
  // Cookies sent with this request only, beside those of the session's cookie jar.
  MultiDict cookies{};
  // Raise ClientResponseError for a status >= 400 (nullopt: the session's setting).
  std::optional<bool> raise_for_status{};
  // Send "Expect: 100-continue" and wait for the server's go-ahead before the body.
  bool expect100{false};
  // Verify the server's certificate (nullopt: the session's setting).
  std::optional<bool> ssl{};
  // Replaces the session's max_response_size for this request (nullopt: the session's).
  std::optional<std::size_t> max_response_size{};
  // Replaces the session's read_bufsize for this request (nullopt: the session's).
  std::optional<std::size_t> read_bufsize{};
};

// ClientSession(...) and its TCPConnector(...) keyword arguments.
struct ClientSessionOptions {
  // Connections open at once, in total and per host (0 = unlimited); requests beyond wait for
  // a free connection in order. Python: TCPConnector(limit=100, limit_per_host=0).
  std::size_t limit{100};
  std::size_t limit_per_host{0};
  // Relative request URLs are resolved against it (Python: ClientSession(base_url=...)).
  std::string base_url{};
  // Headers sent with every request (a request's own headers replace these by name).
  CIMultiDict headers{};
  // Cookies sent with every request, to every host.
  MultiDict cookies{};
  // Basic credentials for every request (a request's auth replaces them).
  std::optional<BasicAuth> auth{};
  // Python's default: ClientTimeout(total=5*60, sock_connect=30).
  ClientTimeout timeout{.total = std::chrono::seconds(300),
                        .sock_connect = std::chrono::seconds(30)};
  bool raise_for_status{false};
  // Send Accept-Encoding for every coding libcurl can decode (gzip, deflate, br, zstd) and
  // decode bodies; false: "Accept-Encoding: gzip, deflate" is sent (as aiohttp does) and
  // bodies are returned as sent.
  bool auto_decompress{true};
  // Verify server certificates against the system's CAs (or ssl_cafile). Python: ssl=True.
  bool ssl{true};
  std::string ssl_cafile{};
  // Use the proxies of the environment (http_proxy, https_proxy, no_proxy). Python: trust_env.
  bool trust_env{false};
  // Close each connection after its response instead of keeping it for reuse.
  bool force_close{false};
  // An idle kept-alive connection older than this is not reused (rounded to seconds).
  std::chrono::seconds keepalive_timeout{15};
  // Offer HTTP/2 to https servers (ALPN); off by default, as aiohttp speaks HTTP/1.1 only.
  bool http2{false};
  // Record cookies that responses set and send them back (the session's cookie jar).
  bool cookie_jar{true};
  // The largest response body accepted, in bytes after decoding (a 1 MB gzip body that inflates
  // to 1 GB is stopped at this size, not after): a larger one is aborted while it arrives -- its
  // connection closed -- and reading it raises ClientResponseTooLarge (a ClientPayloadError); an announced Content-Length
  // above it fails as soon as the head arrives. nullopt: no limit (aiohttp has none). 0 is a
  // ValueError. Not Python: aiohttp reads whatever the server sends.
  std::optional<std::size_t> max_response_size{};
  // Python: ClientSession(read_bufsize=2**16). A body read through resp.content() is buffered
  // up to twice this many unread bytes; past that the transfer pauses (its socket is not read,
  // so the server is slowed by TCP) until the reader catches up. read()/text()/json() want
  // the whole body and never pause. 0 is a ValueError.
  std::size_t read_bufsize{std::size_t{1} << 16};
};

}  // namespace pyconc::aiohttp
