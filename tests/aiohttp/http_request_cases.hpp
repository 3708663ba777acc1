// tests/aiohttp/http_request_cases.hpp -- the table of malformed and abusive HTTP requests:
// each input and the status the server must answer before closing. Shared by
// http_parser_test.cpp and the fuzz seed corpus (fuzz/make_seed_corpus.cpp).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "pyconc/aiohttp/detail/http_parser.hpp"

namespace pyconc_test {

// Small limits, so that the abusive inputs stay small.
inline constexpr pyconc::detail::HttpLimits kTableLimits{
    .max_head_bytes = 4096, .max_headers = 32, .max_body_bytes = 65536};

struct BadRequest {
  std::string name;
  std::string input;
  int status;          // what to answer
  std::string reason;  // a part of error_reason()
  bool eof = false;    // the peer closes after sending `input`
  friend void PrintTo(const BadRequest& b, std::ostream* os) { *os << b.name; }
};

// A string literal with its embedded NUL bytes.
template <std::size_t N>
std::string lit(const char (&s)[N]) {
  return std::string(s, N - 1);
}

inline std::vector<BadRequest> bad_requests() {
  const std::string post = "POST /upload HTTP/1.1\r\nHost: a\r\n";
  const std::string chunked = post + "Transfer-Encoding: chunked\r\n\r\n";
  std::string many_headers = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 40; ++i) many_headers += "X-" + std::to_string(i) + ": v\r\n";
  many_headers += "\r\n";
  std::string many_trailers = chunked + "1\r\na\r\n0\r\n";
  for (int i = 0; i < 40; ++i) many_trailers += "T-" + std::to_string(i) + ": v\r\n";
  many_trailers += "\r\n";
  std::string big_chunks = chunked;
  for (int i = 0; i < 17; ++i) big_chunks += "1000\r\n" + std::string(4096, 'x') + "\r\n";
  big_chunks += "0\r\n\r\n";

  return {
      // --- request line ---
      {"lowercase_method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "method"},
      {"unknown_method", "FOO / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "method"},
      {"nul_in_method", lit("G\0ET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "method"},
      {"leading_space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
      {"missing_version", "GET /\r\nHost: a\r\n\r\n", 400, "version"},
      {"space_after_version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, ""},
      {"lowercase_protocol", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, "HTTP/"},
      {"bad_version_digit", "GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400, ""},
      {"http_2_0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP/2.0"},
      {"http_0_9", "GET / HTTP/0.9\r\n\r\n", 505, "HTTP/0.9"},
      {"http_1_2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, "version"},
      {"h2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "HTTP/2"},
      {"space_in_target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
      {"nul_in_target", lit("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "url"},
      {"tab_in_target", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400, "url"},
      {"utf8_in_target", "GET /\xC3\xA9 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "url"},
      {"relative_target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
      {"asterisk_not_options", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, "OPTIONS"},
      {"bare_lf_line_endings", "GET / HTTP/1.1\nHost: a\n\n", 400, ""},
      // --- headers ---
      {"missing_host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400, "Host"},
      {"two_hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "Host"},
      {"header_without_colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", 400, "header"},
      {"space_before_colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "header"},
      {"empty_header_name", "GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 400, "empty header name"},
      {"bad_char_in_name", "GET / HTTP/1.1\r\nHost: a\r\nX@Y: v\r\n\r\n", 400, "header"},
      {"nul_in_name", lit("GET / HTTP/1.1\r\nHost: a\r\nX\0Y: v\r\n\r\n"), 400, "header"},
      {"leading_fold", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400, ""},
      {"obs_fold", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 400, "folding"},
      {"obs_fold_tab", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n", 400, "folding"},
      {"nul_in_value", lit("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"), 400, "value"},
      {"bare_cr_in_value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400, "LF"},
      {"bare_lf_in_value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\nb: c\r\n\r\n", 400, ""},
      {"ctl_in_value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n", 400, "value"},
      {"del_in_value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fz\r\n\r\n", 400, "value"},
      {"header_too_large", "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(5000, 'a') + "\r\n\r\n",
       431, "larger than 4096"},
      {"target_too_large", "GET /" + std::string(5000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 431,
       "larger than 4096"},
      {"head_never_ends", "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(4096, 'a'), 431,
       "larger than 4096"},
      {"endless_empty_lines", std::string(5000, '\n'), 431, "larger than 4096"},
      {"too_many_headers", many_headers, 431, "more than 32 header fields"},
      // --- body framing and smuggling ---
      {"cl_and_te", post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
       "Transfer-Encoding"},
      {"te_and_cl", post + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", 400,
       "Content-Length"},
      {"cl_twice_differing", post + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400,
       "Duplicate Content-Length"},
      {"cl_twice_equal", post + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400,
       "Duplicate Content-Length"},
      {"cl_list", post + "Content-Length: 3, 3\r\n\r\nabc", 400, "Content-Length"},
      {"cl_negative", post + "Content-Length: -3\r\n\r\nabc", 400, "Content-Length"},
      {"cl_plus_sign", post + "Content-Length: +3\r\n\r\nabc", 400, "Content-Length"},
      {"cl_hex", post + "Content-Length: 0x10\r\n\r\n", 400, "Content-Length"},
      {"cl_empty", post + "Content-Length: \r\n\r\n", 400, "Content-Length"},
      {"cl_overflow", post + "Content-Length: 99999999999999999999999\r\n\r\n", 400, "overflow"},
      {"cl_too_large", post + "Content-Length: 65537\r\n\r\n", 413, "65537"},
      {"te_not_chunked", post + "Transfer-Encoding: gzip\r\n\r\nabc", 400, "chunked"},
      {"te_chunked_not_last", post + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400, ""},
      {"te_chunked_then_other_header",
       post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n", 400,
       ""},
      {"te_chunked_twice", post + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400, ""},
      {"te_xchunked", post + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400, "chunked"},
      {"te_gzip_chunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, "gzip"},
      {"te_in_http_1_0",
       "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400,
       "HTTP/1.0"},
      {"chunk_size_not_hex", chunked + "zz\r\nabc\r\n0\r\n\r\n", 400, "chunk size"},
      {"chunk_size_negative", chunked + "-3\r\nabc\r\n0\r\n\r\n", 400, "chunk size"},
      {"chunk_size_0x", chunked + "0x3\r\nabc\r\n0\r\n\r\n", 400, "chunk size"},
      {"chunk_size_overflow", chunked + "fffffffffffffffffff\r\nabc\r\n0\r\n\r\n", 400, "overflow"},
      {"chunk_size_space", chunked + "3 \r\nabc\r\n0\r\n\r\n", 400, "chunk size"},
      {"chunk_size_bare_lf", chunked + "3\nabc\r\n0\r\n\r\n", 400, ""},
      {"chunk_longer_than_size", chunked + "3\r\nabcd\r\n0\r\n\r\n", 400, "CRLF"},
      {"chunked_too_large", big_chunks, 413, "65536"},
      {"chunk_extensions_too_large", chunked + "1;" + std::string(5000, 'e') + "\r\na\r\n0\r\n\r\n",
       413, "extensions"},
      {"too_many_trailers", many_trailers, 431, "more than 32 header fields"},
      {"trailers_too_large", chunked + "1\r\na\r\n0\r\nX: " + std::string(5000, 't') + "\r\n\r\n",
       431, "trailer fields larger than 4096"},
      {"trailer_never_ends", chunked + "0\r\nX: " + std::string(4100, 't'), 431, "trailer"},
      // --- cut short (the peer closes) ---
      {"eof_in_head", "GET / HTTP/1.1\r\nHost: a\r\n", 400, "closed", true},
      {"eof_in_body", post + "Content-Length: 10\r\n\r\nabc", 400, "closed", true},
      {"eof_in_chunk", chunked + "5\r\nab", 400, "closed", true},
  };
}

// Well-formed inputs (also fuzz seeds): each parses into `requests` requests without error.
struct GoodRequests {
  std::string name;
  std::string input;
  std::size_t requests;
};

inline std::vector<GoodRequests> good_requests() {
  return {
      {"get", "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n", 1},
      {"pipelined",
       "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
       "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
       "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
       3},
      {"chunked_ext_trailers",
       "POST /t HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5;name=val\r\nhello\r\n6;q=\"a b\"\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n",
       1},
      {"http_1_0", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n", 2},
      {"upgrade",
       "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 1},
      {"options_star", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 1},
      {"absolute_form", "GET http://h.org/p?q=1 HTTP/1.1\r\nHost: h.org\r\n\r\n", 1},
  };
}

}  // namespace pyconc_test
