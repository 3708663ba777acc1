#include "pyconc/aiohttp/detail/http_response.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pyconc/aiohttp/detail/http_parser.hpp"
#include "pyconc/aiohttp/multidict.hpp"

using pyconc::detail::ChunkedEncoder;
using pyconc::detail::HttpResponseHead;
using pyconc::detail::write_response_head;
using testing::HasSubstr;

TEST(HttpResponse, ReasonPhrasesArePythons) {
  EXPECT_EQ(pyconc::detail::http_reason_phrase(200), "OK");
  EXPECT_EQ(pyconc::detail::http_reason_phrase(404), "Not Found");
  EXPECT_EQ(pyconc::detail::http_reason_phrase(413), "Request Entity Too Large");
  EXPECT_EQ(pyconc::detail::http_reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(pyconc::detail::http_reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(pyconc::detail::http_reason_phrase(299), "");
}

TEST(HttpResponse, DatesAreImfFixdate) {
  EXPECT_EQ(pyconc::detail::format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(pyconc::detail::format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(pyconc::detail::format_http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(pyconc::detail::format_http_date(4102444799), "Thu, 31 Dec 2099 23:59:59 GMT");
  const std::time_t before = std::time(nullptr);
  const std::string now(pyconc::detail::http_date());
  const std::time_t after = std::time(nullptr);
  EXPECT_TRUE(now == pyconc::detail::format_http_date(before) ||
              now == pyconc::detail::format_http_date(after))
      << now;
  EXPECT_EQ(pyconc::detail::http_date().size(), 29u);
}

TEST(HttpResponse, HeadWithContentLength) {
  std::string out;
  write_response_head(out, {.content_length = 5, .date = false}, {{"Content-Type", "text/plain"}});
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n");
}

TEST(HttpResponse, FramingAndConnectionHeaders) {
  auto head = [](const HttpResponseHead& h) {
    std::string out;
    write_response_head(out, h);
    return out;
  };
  EXPECT_EQ(head({.status = 404, .content_length = 0, .keep_alive = false, .date = false}),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(head({.chunked = true, .date = false}),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(head({.version_minor = 0, .content_length = 2, .date = false}),
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(head({.version_minor = 0, .content_length = 2, .keep_alive = false, .date = false}),
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n");
  // No length and not chunked: the body ends with the connection.
  EXPECT_EQ(head({.date = false}), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
  // Statuses without a body need neither.
  EXPECT_EQ(head({.status = 204, .date = false}), "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_EQ(head({.status = 101, .date = false}), "HTTP/1.1 101 Switching Protocols\r\n\r\n");
  EXPECT_EQ(head({.status = 304, .date = false}), "HTTP/1.1 304 Not Modified\r\n\r\n");
  EXPECT_EQ(head({.status = 299, .reason = "Custom", .content_length = 0, .date = false}),
            "HTTP/1.1 299 Custom\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(head({.content_length = 0, .date = false, .server = "pyconc/0.1"}),
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nServer: pyconc/0.1\r\n\r\n");
}

TEST(HttpResponse, DateAndServerFromTheCallerWin) {
  std::string out;
  write_response_head(out, {.content_length = 0, .server = "auto"},
                      {{"date", "Sun, 06 Nov 1994 08:49:37 GMT"}, {"Server", "mine"}});
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\ndate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: mine\r\n"
            "Content-Length: 0\r\n\r\n");
  std::string with_date;
  write_response_head(with_date, {.content_length = 0});
  EXPECT_THAT(with_date,
              testing::MatchesRegex(
                  "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nDate: [A-Z][a-z][a-z], [0-9][0-9] "
                  "[A-Z][a-z][a-z] [0-9]+ [0-9][0-9]:[0-9][0-9]:[0-9][0-9] GMT\r\n\r\n"));
}

TEST(HttpResponse, HeadersFromAnyRange) {
  pyconc::aiohttp::CIMultiDict h{{"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}};
  std::string out;
  write_response_head(out, {.content_length = 0, .date = false}, h);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n");
  std::vector<std::pair<std::string, std::string>> v{{"X-A", "1"}};
  out.clear();
  write_response_head(out, {.content_length = 0, .date = false}, v);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n");
}

TEST(HttpResponse, InvalidHeadsRaiseValueError) {
  std::string out;
  auto raises = [&](const HttpResponseHead& h,
                    std::initializer_list<std::pair<std::string_view, std::string_view>> hs,
                    const char* what) {
    try {
      write_response_head(out, h, hs);
      ADD_FAILURE() << "no exception, expected: " << what;
    } catch (const pyconc::ValueError& e) {
      EXPECT_THAT(e.what(), HasSubstr(what));
    }
  };
  raises({.status = 99}, {}, "not in 100..999");
  raises({.status = 1000}, {}, "not in 100..999");
  raises({.reason = "OK\r\nX: y"}, {}, "control character");
  raises({}, {{"X-Split", "a\r\nSet-Cookie: evil=1"}}, "control character");
  raises({}, {{"X-Nul", std::string_view("a\0b", 3)}}, "control character");
  raises({}, {{"Bad Name", "v"}}, "not allowed in a token");
  raises({}, {{"", "v"}}, "empty header name");
  raises({}, {{"Content-Length", "5"}}, "framing");
  raises({}, {{"transfer-encoding", "chunked"}}, "framing");
  raises({}, {{"Connection", "close"}}, "framing");
  raises({.status = 204, .content_length = 3}, {}, "has no body");
  raises({.status = 100, .chunked = true}, {}, "has no body");
  raises({.version_minor = 0, .chunked = true}, {}, "HTTP/1.1");
  raises({.content_length = 1, .chunked = true}, {}, "not both");
  raises({.version_minor = 2}, {}, "not a response version");
  // Tabs and obs-text are allowed in values.
  EXPECT_NO_THROW(write_response_head(out, {.content_length = 0}, {{"X-T", "a\tb \xE9"}}));
}

TEST(HttpResponse, ChunkedEncoder) {
  ChunkedEncoder enc;
  std::string out;
  enc.write(out, "hello");
  enc.write(out, "");  // nothing: an empty chunk would end the body
  enc.write(out, std::string(300, 'x'));
  EXPECT_FALSE(enc.finished());
  enc.finish(out, {{"X-Checksum", "42"}});
  EXPECT_TRUE(enc.finished());
  EXPECT_EQ(out,
            "5\r\nhello\r\n12c\r\n" + std::string(300, 'x') + "\r\n0\r\nX-Checksum: 42\r\n\r\n");
  EXPECT_THROW(enc.write(out, "late"), pyconc::RuntimeError);
  EXPECT_THROW(enc.finish(out), pyconc::RuntimeError);

  std::array<char, 20> buf;
  EXPECT_EQ(ChunkedEncoder::size_line(0x1f4, buf), "1f4\r\n");
  EXPECT_EQ(ChunkedEncoder::size_line(UINT64_MAX, buf), "ffffffffffffffff\r\n");
}

TEST(HttpResponse, ChunkedOutputParsesBack) {
  // What the encoder writes, llhttp reads back (as a request body: same coding).
  std::string wire = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  ChunkedEncoder enc;
  std::string body;
  for (int i = 0; i < 50; ++i) {
    const std::string piece(static_cast<std::size_t>(i * 37 % 500),
                            static_cast<char>('a' + i % 26));
    body += piece;
    enc.write(wire, piece);
  }
  enc.finish(wire, {{"X-T", "1"}});
  pyconc::detail::HttpRequestParser p;
  ASSERT_EQ(p.feed(wire), wire.size());
  auto r = p.next();
  ASSERT_TRUE(r) << p.error_reason();
  EXPECT_EQ(r->body(), body);
  EXPECT_EQ(r->trailers().get("x-t"), "1");
}
