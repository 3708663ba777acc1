// pyconc/aiohttp/detail/http_parser.hpp -- HttpRequestParser: HTTP/1.1 requests from a byte
// stream, for the web server.
//
// Python: aiohttp's HttpRequestParser (aiohttp/_http_parser.pyx, also on llhttp); difference:
// it yields whole requests (head and body) rather than a payload stream, and it enforces the
// limits below itself.
//
// feed() takes the bytes of one connection in chunks of any size (one byte at a time works)
// and queues every request completed by them; next() takes them in order. Pipelined requests
// in one chunk are all queued. Request bodies are decoded (Content-Length or chunked, with
// chunk extensions skipped and trailers kept apart) into HttpRequest::body().
//
// Limits (HttpLimits) and what breaks them:
//   request line + header lines > max_head_bytes      -> 431, also for a head that never ends
//   more than max_headers header fields                 -> 431 (trailers count too)
//   body > max_body_bytes (Content-Length or chunked)   -> 413, as soon as it is known
//   chunk extensions > max_head_bytes per request       -> 413
// Malformed requests -> 400 (llhttp's strict mode plus the checks llhttp leaves to its user):
// invalid method or target, bad chunk size, Content-Length together with Transfer-Encoding,
// a repeated Content-Length, control characters (NUL, bare CR/LF) in a header value, obsolete
// line folding, invalid header-name characters, an empty header name, a missing or repeated
// Host in HTTP/1.1, a Transfer-Encoding in HTTP/1.0 or whose last coding is not chunked.
// Unsupported: HTTP versions other than 1.x -> 505, transfer codings other than chunked -> 501.
//
// After an error, phase() is `error`, error_status()/error_reason() say what to answer, the
// requests completed before it can still be taken, and the connection must be closed once
// they are answered (should_close()). Likewise after a request that does not keep the
// connection alive (HTTP/1.0 without keep-alive, `Connection: close`): bytes after it are not
// parsed. A request that upgrades (Upgrade header, CONNECT) stops the parser: feed() returns
// how much it consumed, the rest belongs to the new protocol, or decline_upgrade() goes on
// parsing HTTP.
//
// Thread safety: one parser per connection, used by one thread at a time. HttpRequest is a
// plain value; its headers()/trailers() views are valid while the request is alive and
// unmodified.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pyconc::detail {

// Limits of one request; at namespace scope for designated initializers.
struct HttpLimits {
  std::size_t max_head_bytes{16384};      // request line + headers + final CRLF (431)
  std::size_t max_headers{100};           // header fields, trailers included (431)
  std::uint64_t max_body_bytes{1 << 20};  // decoded body (413); aiohttp's client_max_size
};

// Offsets of one header field in the request's buffer.
struct HttpFieldSpan {
  std::uint32_t name_off, name_len, value_off, value_len;
};

// A read-only view of header fields in order: iteration yields (name, value) pairs; lookups
// are ASCII-case-insensitive. Python: the CIMultiDictProxy of request.headers.
class HttpHeaderView {
 public:
  using value_type = std::pair<std::string_view, std::string_view>;

  class iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = HttpHeaderView::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = value_type;
    iterator() = default;
    iterator(const char* base, const HttpFieldSpan* span) : base_(base), span_(span) {}
    value_type operator*() const {
      return {{base_ + span_->name_off, span_->name_len},
              {base_ + span_->value_off, span_->value_len}};
    }
    iterator& operator++() {
      ++span_;
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++span_;
      return old;
    }
    difference_type operator-(const iterator& o) const { return span_ - o.span_; }
    bool operator==(const iterator& o) const { return span_ == o.span_; }

   private:
    const char* base_ = nullptr;
    const HttpFieldSpan* span_ = nullptr;
  };

  HttpHeaderView() = default;
  HttpHeaderView(const char* base, const HttpFieldSpan* first, const HttpFieldSpan* last)
      : base_(base), first_(first), last_(last) {}

  iterator begin() const { return {base_, first_}; }
  iterator end() const { return {base_, last_}; }
  std::size_t size() const noexcept { return static_cast<std::size_t>(last_ - first_); }
  bool empty() const noexcept { return first_ == last_; }
  value_type operator[](std::size_t i) const { return *iterator(base_, first_ + i); }

  // The first value of `name`, or nullopt.
  std::optional<std::string_view> get(std::string_view name) const;
  // Every value of `name` in order (empty if none).
  std::vector<std::string_view> getall(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  std::size_t count(std::string_view name) const;

 private:
  const char* base_ = nullptr;
  const HttpFieldSpan* first_ = nullptr;
  const HttpFieldSpan* last_ = nullptr;
};

// One parsed request. The head is one buffer (target, names and values), the fields are
// offsets into it: no allocation per header.
class HttpRequest {
 public:
  std::string_view method() const noexcept { return method_; }
  // The request-target as received: "/a/b?x=1", "http://host/a" (absolute form),
  // "host:443" (CONNECT) or "*" (OPTIONS).
  std::string_view target() const noexcept { return slice(target_off_, target_len_); }
  // The target's path ("/" for an absolute-form target without one), and its query without
  // the '?', both still percent-encoded.
  std::string_view path() const noexcept;
  std::string_view query_string() const noexcept { return slice(query_off_, query_len_); }
  int version_major() const noexcept { return major_; }
  int version_minor() const noexcept { return minor_; }
  HttpHeaderView headers() const noexcept {
    return {head_.data(), fields_.data(), fields_.data() + header_count_};
  }
  // Trailer fields of a chunked body (after the last chunk), kept apart from headers().
  HttpHeaderView trailers() const noexcept {
    return {head_.data(), fields_.data() + header_count_, fields_.data() + fields_.size()};
  }
  const std::string& body() const noexcept { return body_; }
  std::string& body() noexcept { return body_; }
  // Whether the connection may carry another request after this one (HTTP/1.1 unless
  // `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
  bool keep_alive() const noexcept { return keep_alive_; }
  // An Upgrade (Connection: upgrade + Upgrade: ...) or CONNECT request.
  bool upgrade() const noexcept { return upgrade_; }
  bool chunked() const noexcept { return chunked_; }

 private:
  friend class HttpRequestParser;
  std::string_view slice(std::uint32_t off, std::uint32_t len) const noexcept {
    return {head_.data() + off, len};
  }
  void clear() noexcept;

  std::string head_;
  std::vector<HttpFieldSpan> fields_;
  std::string body_;
  std::string_view method_;
  std::uint32_t target_off_ = 0, target_len_ = 0, path_off_ = 0, path_len_ = 0;
  std::uint32_t query_off_ = 0, query_len_ = 0;
  std::uint32_t header_count_ = 0;
  std::uint8_t major_ = 0, minor_ = 0;
  bool keep_alive_ = false, upgrade_ = false, chunked_ = false;
};

// Where the parser is in the byte stream of its connection.
enum class HttpParserPhase : std::uint8_t {
  idle,      // between requests: no byte of the next one yet (keep-alive idle time)
  head,      // inside a request line or headers (header read timeout applies)
  body,      // reading a body
  upgraded,  // after an upgrade request: the rest of the stream is not HTTP
  closed,    // after a request that does not keep the connection alive, or at EOF
  error,     // a malformed request: answer error_status() and close
};

class HttpRequestParser {
 public:
  explicit HttpRequestParser(const HttpLimits& limits = {});
  ~HttpRequestParser();
  HttpRequestParser(HttpRequestParser&&) noexcept;
  HttpRequestParser& operator=(HttpRequestParser&&) noexcept;

  // Parses `data`; returns how many bytes were consumed: all of them, unless the parser
  // stopped (upgrade, closed, error) -- the rest is not HTTP of this connection.
  std::size_t feed(std::string_view data);
  // The peer closed its side: a request cut short becomes an error (400), else `closed`.
  void feed_eof();

  // The oldest completed request, or nullopt.
  std::optional<HttpRequest> next();
  // Same, moved into `out` (whose buffers the parser keeps for later requests: no allocation
  // in a steady state). Returns false when no request is ready.
  bool next(HttpRequest& out);
  std::size_t ready() const noexcept;

  HttpParserPhase phase() const noexcept;
  // Once the ready requests are answered, the connection must be closed (error or closed).
  bool should_close() const noexcept;
  // Status to answer after an error (400, 413, 431, 501, 505), 0 if none; and why.
  int error_status() const noexcept;
  std::string_view error_reason() const noexcept;
  // True once per request that sent `Expect: 100-continue` with a body still to come, as soon
  // as its head is parsed: the server should answer "100 Continue" (or its final status).
  bool take_expect_continue() noexcept;
  // After an upgrade request the server refused: parse what follows as HTTP again.
  void decline_upgrade();

  const HttpLimits& limits() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pyconc::detail
