#include "pyconc/aiohttp/detail/http_parser.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "http_request_cases.hpp"

using pyconc::detail::HttpLimits;
using pyconc::detail::HttpParserPhase;
using pyconc::detail::HttpRequest;
using pyconc::detail::HttpRequestParser;
using testing::HasSubstr;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// Everything a request carries, as plain values, so results of different feedings compare.
struct Seen {
  std::string method, target, path, query;
  int major = 0, minor = 0;
  Fields headers, trailers;
  std::string body;
  bool keep_alive = false, upgrade = false, chunked = false;
  bool operator==(const Seen&) const = default;
};

Fields fields(pyconc::detail::HttpHeaderView v) {
  Fields out;
  for (auto [n, val] : v) out.emplace_back(n, val);
  return out;
}

Seen seen(const HttpRequest& r) {
  return {std::string(r.method()),
          std::string(r.target()),
          std::string(r.path()),
          std::string(r.query_string()),
          r.version_major(),
          r.version_minor(),
          fields(r.headers()),
          fields(r.trailers()),
          r.body(),
          r.keep_alive(),
          r.upgrade(),
          r.chunked()};
}

struct Outcome {
  std::vector<Seen> requests;
  HttpParserPhase phase = HttpParserPhase::idle;
  int status = 0;
  std::string reason;
  std::size_t consumed = 0;
  // Where an error stops the parser within the bad bytes depends on the feeding; the verdict
  // must not.
  bool operator==(const Outcome& o) const {
    return requests == o.requests && phase == o.phase && status == o.status && reason == o.reason &&
           (status != 0 || consumed == o.consumed);
  }
  friend void PrintTo(const Outcome& o, std::ostream* os) {
    *os << o.requests.size() << " requests, phase " << static_cast<int>(o.phase) << ", status "
        << o.status << " (" << o.reason << "), consumed " << o.consumed;
  }
};

enum class Feeding { whole, byte_by_byte, random_chunks };

Outcome parse(const std::string& input, Feeding how, const HttpLimits& limits = {},
              bool eof = false, unsigned seed = 1) {
  HttpRequestParser p(limits);
  Outcome out;
  std::mt19937 rng(seed);
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::size_t n = input.size() - pos;
    if (how == Feeding::byte_by_byte) n = 1;
    if (how == Feeding::random_chunks) n = std::min<std::size_t>(n, 1 + rng() % 23);
    const std::size_t used = p.feed(std::string_view(input).substr(pos, n));
    out.consumed += used;
    while (auto r = p.next()) out.requests.push_back(seen(*r));
    if (used < n) break;  // stopped: upgrade, close or error
    pos += n;
  }
  if (eof) p.feed_eof();
  while (auto r = p.next()) out.requests.push_back(seen(*r));
  out.phase = p.phase();
  out.status = p.error_status();
  out.reason = std::string(p.error_reason());
  return out;
}

}  // namespace

// --- the table of bad inputs ------------------------------------------------------------------

class HttpParserBadInput : public testing::TestWithParam<pyconc_test::BadRequest> {};

TEST_P(HttpParserBadInput, AnswersTheStatusThenCloses) {
  const auto& c = GetParam();
  const Outcome whole = parse(c.input, Feeding::whole, pyconc_test::kTableLimits, c.eof);
  EXPECT_EQ(whole.phase, HttpParserPhase::error);
  EXPECT_EQ(whole.status, c.status) << "reason: " << whole.reason;
  EXPECT_THAT(whole.reason, HasSubstr(c.reason));
  EXPECT_TRUE(whole.requests.empty());
  // The same verdict whatever the chunking: the limits are exact, not per read.
  EXPECT_EQ(parse(c.input, Feeding::byte_by_byte, pyconc_test::kTableLimits, c.eof), whole);
  EXPECT_EQ(parse(c.input, Feeding::random_chunks, pyconc_test::kTableLimits, c.eof), whole);
}

TEST_P(HttpParserBadInput, AGoodRequestBeforeItIsStillServed) {
  const auto& c = GetParam();
  const std::string good = "GET /first HTTP/1.1\r\nHost: a\r\n\r\n";
  const Outcome o = parse(good + c.input, Feeding::whole, pyconc_test::kTableLimits, c.eof);
  ASSERT_EQ(o.requests.size(), 1u);
  EXPECT_EQ(o.requests[0].target, "/first");
  EXPECT_EQ(o.status, c.status);
}

INSTANTIATE_TEST_SUITE_P(Table, HttpParserBadInput, testing::ValuesIn(pyconc_test::bad_requests()),
                         [](const auto& info) { return info.param.name; });

TEST(HttpParser, TableIsLargeEnough) {
  EXPECT_GE(pyconc_test::bad_requests().size(), 30u);
}

TEST(HttpParser, NothingIsParsedAfterAnError) {
  HttpRequestParser p;
  const std::string bad = "BAD\x01 / HTTP/1.1\r\n\r\n";
  EXPECT_LT(p.feed(bad), bad.size());
  EXPECT_EQ(p.phase(), HttpParserPhase::error);
  EXPECT_TRUE(p.should_close());
  EXPECT_EQ(p.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0u);
  EXPECT_FALSE(p.next());
  EXPECT_EQ(p.error_status(), 400);
}

// --- well-formed requests ---------------------------------------------------------------------

TEST(HttpParser, SimpleGet) {
  HttpRequestParser p;
  const std::string req =
      "GET /index.html?x=1&y=%20 HTTP/1.1\r\nHost: example.com\r\nAccept:  */*  \r\n"
      "X-Multi: a\r\nx-multi: b\r\nX-Empty:\r\nX-Latin: caf\xE9\r\n\r\n";
  EXPECT_EQ(p.feed(req), req.size());
  EXPECT_EQ(p.ready(), 1u);
  auto r = p.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method(), "GET");
  EXPECT_EQ(r->target(), "/index.html?x=1&y=%20");
  EXPECT_EQ(r->path(), "/index.html");
  EXPECT_EQ(r->query_string(), "x=1&y=%20");
  EXPECT_EQ(r->version_major(), 1);
  EXPECT_EQ(r->version_minor(), 1);
  EXPECT_TRUE(r->keep_alive());
  EXPECT_FALSE(r->upgrade());
  EXPECT_FALSE(r->chunked());
  EXPECT_EQ(r->body(), "");
  auto h = r->headers();
  ASSERT_EQ(h.size(), 6u);
  EXPECT_EQ(h[0], (std::pair<std::string_view, std::string_view>("Host", "example.com")));
  EXPECT_EQ(h.get("HOST"), "example.com");
  EXPECT_EQ(h.get("accept"), "*/*");  // optional whitespace around the value is not part of it
  EXPECT_EQ(h.getall("X-MULTI"), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_EQ(h.count("x-multi"), 2u);
  EXPECT_EQ(h.get("x-empty"), "");
  EXPECT_EQ(h.get("x-latin"), "caf\xE9");  // obs-text is allowed in values
  EXPECT_FALSE(h.contains("cookie"));
  EXPECT_EQ(h.get("cookie"), std::nullopt);
  EXPECT_TRUE(r->trailers().empty());
  EXPECT_EQ(p.phase(), HttpParserPhase::idle);
  EXPECT_FALSE(p.should_close());
}

TEST(HttpParser, PipelinedRequestsInOneChunk) {
  const auto good = pyconc_test::good_requests();
  const std::string& in = good[1].input;
  const Outcome o = parse(in, Feeding::whole);
  ASSERT_EQ(o.requests.size(), 3u);
  EXPECT_EQ(o.requests[0].method, "GET");
  EXPECT_EQ(o.requests[0].target, "/a");
  EXPECT_EQ(o.requests[1].method, "POST");
  EXPECT_EQ(o.requests[1].body, "hello");
  EXPECT_EQ(o.requests[2].method, "PUT");
  EXPECT_EQ(o.requests[2].body, "abc");
  EXPECT_TRUE(o.requests[2].chunked);
  EXPECT_EQ(o.consumed, in.size());
  EXPECT_EQ(o.phase, HttpParserPhase::idle);
}

TEST(HttpParser, ChunkedBodyWithExtensionsAndTrailers) {
  const std::string in =
      "POST /t HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
      "5;name=val\r\nhello\r\n6;q=\"a b\"\r\n world\r\nA\r\n0123456789\r\n"
      "0;last\r\nX-Checksum: abc\r\nX-Other:  2 \r\n\r\n";
  const Outcome o = parse(in, Feeding::whole);
  ASSERT_EQ(o.requests.size(), 1u) << o.reason;
  EXPECT_EQ(o.requests[0].body, "hello world0123456789");
  EXPECT_TRUE(o.requests[0].chunked);
  EXPECT_EQ(o.requests[0].trailers, (Fields{{"X-Checksum", "abc"}, {"X-Other", "2"}}));
  EXPECT_EQ(o.requests[0].headers.size(), 2u);  // trailers are not headers
}

TEST(HttpParser, EveryFeedingGivesTheSameRequests) {
  for (const auto& g : pyconc_test::good_requests()) {
    const Outcome whole = parse(g.input, Feeding::whole);
    EXPECT_EQ(whole.requests.size(), g.requests) << g.name << ": " << whole.reason;
    EXPECT_EQ(whole.status, 0) << g.name;
    EXPECT_EQ(parse(g.input, Feeding::byte_by_byte), whole) << g.name;
    for (unsigned seed = 1; seed <= 20; ++seed)
      EXPECT_EQ(parse(g.input, Feeding::random_chunks, {}, false, seed), whole) << g.name;
  }
}

TEST(HttpParser, KeepAliveRules) {
  struct Case {
    const char* head;
    bool keep_alive;
  };
  for (const Case& c : {Case{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
                        Case{"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false},
                        Case{"GET / HTTP/1.1\r\nHost: a\r\nConnection: CLOSE\r\n\r\n", false},
                        Case{"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", true},
                        Case{"GET / HTTP/1.0\r\n\r\n", false},
                        Case{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
                        Case{"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
                        Case{"GET / HTTP/1.0\r\nConnection: close\r\n\r\n", false}}) {
    HttpRequestParser p;
    const std::string in = std::string(c.head) + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
    const std::size_t used = p.feed(in);
    auto r = p.next();
    ASSERT_TRUE(r) << c.head;
    EXPECT_EQ(r->keep_alive(), c.keep_alive) << c.head;
    if (c.keep_alive) {
      EXPECT_EQ(used, in.size()) << c.head;
      EXPECT_TRUE(p.next()) << c.head;
      EXPECT_FALSE(p.should_close());
    } else {
      // Nothing after a closing request is parsed: the server answers it and closes.
      EXPECT_EQ(used, std::strlen(c.head)) << c.head;
      EXPECT_FALSE(p.next()) << c.head;
      EXPECT_EQ(p.phase(), HttpParserPhase::closed);
      EXPECT_TRUE(p.should_close());
      EXPECT_EQ(p.error_status(), 0);
    }
  }
}

TEST(HttpParser, UpgradeStopsTheParserUntilDeclined) {
  const std::string head =
      "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
  const std::string after = "GET /again HTTP/1.1\r\nHost: a\r\n\r\n";
  HttpRequestParser p;
  EXPECT_EQ(p.feed(head + after), head.size());
  EXPECT_EQ(p.phase(), HttpParserPhase::upgraded);
  auto r = p.next();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->upgrade());
  EXPECT_EQ(r->headers().get("upgrade"), "websocket");
  EXPECT_EQ(p.feed(after), 0u);  // not HTTP any more ...
  p.decline_upgrade();           // ... unless the server refuses the upgrade
  EXPECT_EQ(p.feed(after), after.size());
  auto again = p.next();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->target(), "/again");

  // An upgrade that also closes: refusing it leaves nothing more to parse.
  HttpRequestParser closing;
  const std::string up_close =
      "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, close\r\nUpgrade: x\r\n\r\n";
  EXPECT_EQ(closing.feed(up_close + after), up_close.size());
  ASSERT_TRUE(closing.next());
  closing.decline_upgrade();
  EXPECT_EQ(closing.phase(), HttpParserPhase::closed);
  EXPECT_EQ(closing.feed(after), 0u);

  HttpRequestParser q;
  const std::string connect = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
  EXPECT_EQ(q.feed(connect + "\x16\x03\x01"), connect.size());
  auto c = q.next();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->method(), "CONNECT");
  EXPECT_EQ(c->target(), "example.com:443");
  EXPECT_TRUE(c->upgrade());
}

TEST(HttpParser, TargetForms) {
  const Outcome o = parse(
      "GET http://h.org/p/q?x=1#f HTTP/1.1\r\nHost: h.org\r\n\r\n"
      "GET http://h.org HTTP/1.1\r\nHost: h.org\r\n\r\n"
      "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"
      "GET /p#frag HTTP/1.1\r\nHost: h\r\n\r\n",
      Feeding::whole);
  ASSERT_EQ(o.requests.size(), 4u) << o.reason;
  EXPECT_EQ(o.requests[0].path, "/p/q");
  EXPECT_EQ(o.requests[0].query, "x=1");
  EXPECT_EQ(o.requests[1].path, "/");
  EXPECT_EQ(o.requests[2].path, "*");
  EXPECT_EQ(o.requests[3].path, "/p");
  EXPECT_EQ(o.requests[3].query, "");
}

TEST(HttpParser, LeadingEmptyLinesAreIgnored) {
  const Outcome o = parse("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", Feeding::byte_by_byte);
  EXPECT_EQ(o.requests.size(), 1u);
  EXPECT_EQ(o.status, 0);
}

TEST(HttpParser, HeadLimitIsExact) {
  const HttpLimits limits{.max_head_bytes = 100};
  const std::string start = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
  // A head of exactly 100 bytes passes; 101 does not -- in one piece or byte by byte.
  const std::string fits = start + std::string(100 - start.size() - 4, 'v') + "\r\n\r\n";
  ASSERT_EQ(fits.size(), 100u);
  const std::string over = start + std::string(100 - start.size() - 3, 'v') + "\r\n\r\n";
  for (Feeding f : {Feeding::whole, Feeding::byte_by_byte, Feeding::random_chunks}) {
    EXPECT_EQ(parse(fits, f, limits).requests.size(), 1u);
    EXPECT_EQ(parse(over, f, limits).status, 431);
    // The budget is per request: two heads of 100 bytes back to back are fine.
    EXPECT_EQ(parse(fits + fits, f, limits).requests.size(), 2u);
  }
}

TEST(HttpParser, BodyLimitIsExact) {
  const HttpLimits limits{.max_body_bytes = 10};
  const std::string cl = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ";
  const std::string te = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (Feeding f : {Feeding::whole, Feeding::byte_by_byte}) {
    EXPECT_EQ(parse(cl + "10\r\n\r\n0123456789", f, limits).requests.size(), 1u);
    EXPECT_EQ(parse(cl + "11\r\n\r\n0123456789X", f, limits).status, 413);
    EXPECT_EQ(parse(te + "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n", f, limits).requests.size(), 1u);
    EXPECT_EQ(parse(te + "5\r\n01234\r\n6\r\n56789X\r\n0\r\n\r\n", f, limits).status, 413);
  }
  // 413 comes as soon as the length is known: before any byte of the body.
  HttpRequestParser p(limits);
  p.feed(cl + "1000000\r\n\r\n");
  EXPECT_EQ(p.error_status(), 413);
}

TEST(HttpParser, HeaderCountLimit) {
  std::string in = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 4; ++i) in += "X: 1\r\n";
  in += "\r\n";
  EXPECT_EQ(parse(in, Feeding::whole, {.max_headers = 5}).requests.size(), 1u);
  EXPECT_EQ(parse(in, Feeding::whole, {.max_headers = 4}).status, 431);
}

TEST(HttpParser, ExpectContinue) {
  HttpRequestParser p;
  p.feed("POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(p.phase(), HttpParserPhase::body);
  EXPECT_TRUE(p.take_expect_continue());
  EXPECT_FALSE(p.take_expect_continue());  // once
  p.feed("abc");
  auto r = p.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "abc");
  // Without a body there is nothing to continue.
  p.feed("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_FALSE(p.take_expect_continue());
}

TEST(HttpParser, PhasesForTimeouts) {
  HttpRequestParser p;
  EXPECT_EQ(p.phase(), HttpParserPhase::idle);
  p.feed("GE");
  EXPECT_EQ(p.phase(), HttpParserPhase::head);
  p.feed("T / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n");
  EXPECT_EQ(p.phase(), HttpParserPhase::body);
  p.feed("ok");
  EXPECT_EQ(p.phase(), HttpParserPhase::idle);
  p.feed_eof();
  EXPECT_EQ(p.phase(), HttpParserPhase::closed);
  EXPECT_EQ(p.error_status(), 0);
  EXPECT_EQ(p.next()->body(), "ok");
}

TEST(HttpParser, RecyclingNextReusesBuffers) {
  HttpRequestParser p;
  HttpRequest r;
  for (int i = 0; i < 1000; ++i) {
    const std::string target = "/item/" + std::to_string(i);
    const std::string in = "POST " + target + " HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nX-N: " +
                           std::to_string(i) + "\r\n\r\nbody";
    ASSERT_EQ(p.feed(in), in.size());
    ASSERT_TRUE(p.next(r));
    EXPECT_EQ(r.target(), target);
    EXPECT_EQ(r.headers().get("x-n"), std::to_string(i));
    EXPECT_EQ(r.body(), "body");
    EXPECT_FALSE(p.next(r));
  }
}

TEST(HttpParser, MovedParserKeepsParsing) {
  HttpRequestParser a;
  a.feed("GET /x HTTP/1.1\r\nHo");
  HttpRequestParser b = std::move(a);
  b.feed("st: a\r\n\r\n");
  auto r = b.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->headers().get("host"), "a");
}
