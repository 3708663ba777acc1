// pyconc/aiohttp/detail/http_response.hpp -- writing HTTP/1.1 responses: status line and
// headers, reason phrases, the Date header, chunked transfer coding.
//
// Python: aiohttp's StreamResponse._prepare_headers / http_writer.StreamWriter (reason phrases
// as Python's http.HTTPStatus spells them); difference: plain functions appending to a
// std::string the server then writes, with no I/O.
//
// Framing is the writer's: Content-Length, Transfer-Encoding and Connection come from
// HttpResponseHead, and the same names among the caller's headers raise ValueError (a handler
// cannot desynchronise the connection). Header names must be tokens and values free of
// CR/LF/NUL (no response splitting): ValueError otherwise.
//
// Thread safety: the functions are reentrant; http_date() keeps a per-thread cache.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pyconc::detail {

// Python's http.HTTPStatus(status).phrase; "" for an unregistered status.
std::string_view http_reason_phrase(int status) noexcept;

// `s` without the optional whitespace (spaces, tabs) around it (RFC 9110 §5.6.3).
inline std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// `t` as an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7).
std::string format_http_date(std::time_t t);
// An HTTP date as RFC 9110 §5.6.7 requires a recipient to read it: IMF-fixdate, or the
// obsolete RFC 850 and asctime forms. nullopt if it is none of them.
std::optional<std::time_t> parse_http_date(std::string_view text) noexcept;
// The current time as an IMF-fixdate, formatted at most once per second per thread. The view
// is valid until this thread's next call.
std::string_view http_date();

// What the writer decides about a response head; at namespace scope for designated
// initializers.
struct HttpResponseHead {
  int status{200};
  std::string_view reason{};  // empty: http_reason_phrase(status)
  int version_minor{1};       // HTTP/1.1 or HTTP/1.0
  std::optional<std::uint64_t> content_length{};
  bool chunked{false};        // Transfer-Encoding: chunked (HTTP/1.1 only)
  bool keep_alive{true};      // false: Connection: close
  bool date{true};            // add Date unless the caller's headers have one
  std::string_view server{};  // add Server: ... unless empty or given
};

// Appends the status line to `out`. ValueError for a status outside 100..999 or a reason
// with control characters.
void append_status_line(std::string& out, const HttpResponseHead& head);
// Appends one header line, validated (see the banner). Returns a bit for the names the
// writer cares about: 1 = Date, 2 = Server.
unsigned append_header(std::string& out, std::string_view name, std::string_view value);
// Appends the framing headers, Date and Server (unless `given` says the caller sent them) and
// the empty line. A body without Content-Length or chunked coding is delimited by closing the
// connection, so it gets `Connection: close` whatever keep_alive says. ValueError for a body
// length on a status that has no body (1xx, 204) or chunked coding in HTTP/1.0.
void finish_response_head(std::string& out, const HttpResponseHead& head, unsigned given);

// The whole head: status line, `headers` (any range of pairs of string-likes, such as a
// CIMultiDict or a vector of pairs), framing headers, Date, Server, empty line.
template <class Headers>
void write_response_head(std::string& out, const HttpResponseHead& head, const Headers& headers) {
  append_status_line(out, head);
  unsigned given = 0;
  for (const auto& [name, value] : headers) given |= append_header(out, name, value);
  finish_response_head(out, head, given);
}

inline void write_response_head(
    std::string& out, const HttpResponseHead& head,
    std::initializer_list<std::pair<std::string_view, std::string_view>> headers = {}) {
  write_response_head<decltype(headers)>(out, head, headers);
}

// Chunked transfer coding (RFC 9112 §7.1) of one body.
// Thread safety: one body, one thread.
class ChunkedEncoder {
 public:
  // Appends `data` as one chunk; nothing for empty data (a zero-size chunk ends the body).
  // RuntimeError after finish().
  void write(std::string& out, std::string_view data);
  // Appends the last chunk, the trailer fields (validated like headers) and the final CRLF.
  void finish(std::string& out,
              std::initializer_list<std::pair<std::string_view, std::string_view>> trailers = {});
  bool finished() const noexcept { return finished_; }

  // The chunk-size line of a chunk of `size` bytes ("1f4\r\n"), written into `buf`: with
  // kChunkEnd after the data it lets a server send a large chunk with writev, uncopied.
  static std::string_view size_line(std::uint64_t size, std::array<char, 20>& buf) noexcept;
  static constexpr std::string_view kChunkEnd = "\r\n";

 private:
  bool finished_ = false;
};

}  // namespace pyconc::detail
