// ClientSession against a local test server: methods, params, headers, bodies (raw, form,
// multipart, JSON), redirects, status errors, chunked and broken bodies, decoding, cookies,
// URLs, auth.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "http_test_server.hpp"
#include "pyconc/aiohttp.hpp"
#include "pyconc/aiohttp/json.hpp"
#include "pyconc/asyncio.hpp"

namespace aio = pyconc::asyncio;
namespace http = pyconc::aiohttp;
using namespace std::chrono_literals;
using pyconc_test::TestConn;
using pyconc_test::TestRequest;
using pyconc_test::TestServer;

namespace {

// Runs a test coroutine on a fresh loop, bounded: a hang fails the test instead of CI.
template <class F>
void run(F&& body) {
  aio::run(aio::wait_for(body(), 30s));
}

http::MultiDict query_of(const TestRequest& r) {
  return http::URL("http://x/?" + r.query).query();
}

// GCC 12 miscompiles a braced options aggregate inside a co_await expression (see client.hpp):
// requests with options are made in one statement and awaited in the next.

// The routes most tests use.
void routes(const TestRequest& r, TestConn& c) {
  const auto q = query_of(r);
  if (r.path == "/hello") {
    c.respond(200, "hello");
  } else if (r.path == "/echo") {
    nlohmann::json headers = nlohmann::json::array();
    for (const auto& [k, v] : r.headers) headers.push_back({k, v});
    nlohmann::json j = {{"method", r.method},
                        {"path", r.path},
                        {"query", r.query},
                        {"headers", headers},
                        {"body", r.body}};
    c.respond(200, j.dump(), {}, "application/json");
  } else if (r.path.starts_with("/status/")) {
    c.respond(std::stoi(r.path.substr(8)), "status body");
  } else if (r.path.starts_with("/redirect/")) {
    // /redirect/3 -> /redirect/2 -> /redirect/1 -> /redirect/0 (200); relative Locations.
    const int n = std::stoi(r.path.substr(10));
    if (n == 0) {
      c.respond(200, "arrived after redirects");
    } else {
      c.respond(302, "moved", {{"Location", std::to_string(n - 1)}});
    }
  } else if (r.path == "/redirect-to") {
    const std::string status = q.get("status") ? std::string(*q.get("status")) : "302";
    c.respond(std::stoi(status), "", {{"Location", std::string(*q.get("url"))}});
  } else if (r.path == "/loop") {
    c.respond(302, "", {{"Location", "/loop"}});
  } else if (r.path == "/chunked") {
    c.send("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (const char* part : {"first,", "second,", "third"}) {
      const std::string p = part;
      char size[16];
      std::snprintf(size, sizeof size, "%zx\r\n", p.size());
      c.send(std::string(size) + p + "\r\n");
      c.sleep(5ms);
    }
    c.send("0\r\nX-Trailer: yes\r\n\r\n");
  } else if (r.path == "/bad-chunked") {
    c.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\nzz\r\n");
    c.close_after();
  } else if (r.path == "/short") {
    c.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this much");
    c.close_after();
  } else if (r.path == "/nothing") {
    c.close_after();  // closes without answering
  } else if (r.path == "/garbage") {
    c.send("this is not HTTP at all\r\n\r\n");
    c.close_after();
  } else if (r.path == "/setcookie") {
    std::vector<std::pair<std::string, std::string>> h;
    for (const auto& [k, v] : q) h.emplace_back("Set-Cookie", k + "=" + v + "; Path=/");
    c.respond(200, "set", h);
  } else if (r.path == "/cookies") {
    c.respond(200, r.header("Cookie"));
  } else if (r.path == "/latin1") {
    c.respond(200, "caf\xe9 cr\xe8me", {}, "text/plain; charset=ISO-8859-1");
  } else if (r.path == "/invalid-utf8") {
    c.respond(200, "ok \xff\xfe end", {}, "text/plain; charset=utf-8");
  } else if (r.path == "/json") {
    c.respond(200, R"({"name": "pyconc", "n": [1, 2, 3]})", {}, "application/vnd.api+json");
  } else if (r.path == "/not-json") {
    c.respond(200, R"({"a": 1})", {}, "text/html");
  } else if (r.path == "/broken-json") {
    c.respond(200, R"({"a": )", {}, "application/json");
  } else if (r.path == "/empty-json") {
    c.respond(200, "", {}, "application/json");
  } else if (r.path == "/folded") {
    c.send(
        "HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\nX-Multi: a\r\nX-Multi: b\r\n"
        "Content-Length: 0\r\n\r\n");
  } else if (r.path == "/no-reason") {
    c.send("HTTP/1.1 404 \r\nContent-Length: 2\r\n\r\nno");
  } else if (r.path == "/continue") {
    c.send("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone");
  } else {
    c.respond(404, "no route " + r.path);
  }
}

nlohmann::json header_list(const nlohmann::json& echo) {
  return echo["headers"];
}

std::string echoed_header(const nlohmann::json& echo, std::string_view name) {
  for (const auto& kv : echo["headers"]) {
    if (pyconc::detail::iequals_ascii(kv[0].get<std::string>(), name))
      return kv[1].get<std::string>();
  }
  return "<absent>";
}

// json= builds the value nlohmann::json would from the same braced list, and keeps its text.
TEST(JsonPayload, BuildsWhatNlohmannJsonBuilds) {
  auto same = [](http::JsonPayload p, const nlohmann::json& expected) {
    EXPECT_FALSE(p.is_null());
    EXPECT_EQ(nlohmann::json::parse(p.dump()), expected);
  };
  same({{"name", "pyconc"}, {"tags", {"a", "b"}}},
       nlohmann::json{{"name", "pyconc"}, {"tags", {"a", "b"}}});
  same({1, 2, 3}, nlohmann::json::array({1, 2, 3}));
  same({{"a", 1}, {2, 3}}, nlohmann::json::array({{"a", 1}, {2, 3}}));  // not all [key, v]
  same({{"a", 1}, {"a", 2}}, nlohmann::json{{"a", 1}, {"a", 2}});       // a repeated key too
  same(1, nlohmann::json(1));
  same("text", nlohmann::json("text"));
  same(nlohmann::json::object(), nlohmann::json::object());
  EXPECT_TRUE(http::JsonPayload().is_null());
  EXPECT_TRUE(http::JsonPayload(nlohmann::json()).is_null());
  EXPECT_EQ(http::JsonPayload().dump(), "null");
  http::RequestOptions options{.json = {{"k", 1}}};
  EXPECT_EQ(options.json.dump(), R"({"k":1})");
}

TEST(ClientSession, GetTextAndHead) {
  TestServer server(routes);
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto resp = co_await session.get(server.url("/hello"));
    EXPECT_EQ(resp.status(), 200);
    EXPECT_EQ(resp.reason(), "OK");
    EXPECT_TRUE(resp.ok());
    EXPECT_EQ(resp.content_type(), "text/plain");
    EXPECT_EQ(resp.charset(), "utf-8");
    EXPECT_EQ(resp.content_length(), 5U);
    EXPECT_EQ(resp.headers().getone("content-length"), "5");
    EXPECT_EQ(resp.url().str(), server.url("/hello"));
    EXPECT_EQ(resp.method(), "GET");
    EXPECT_EQ(resp.version(), (http::HttpVersion{1, 1}));
    EXPECT_TRUE(resp.history().empty());
    EXPECT_EQ(co_await resp.text(), "hello");
    EXPECT_EQ(co_await resp.read(), "hello");  // kept: may be read again
    EXPECT_TRUE(resp.is_eof());
    resp.raise_for_status();  // 200: nothing
  });
}

TEST(ClientSession, MethodsReachTheServer) {
  TestServer server(routes);
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    const std::string url = server.url("/echo");
    auto method_of = [](http::ClientResponse& r) -> aio::Task<std::string> {
      co_return (co_await r.json())["method"].get<std::string>();
    };
    auto r1_request = session.put(url, {.data = "x"});
    auto r1 = co_await std::move(r1_request);
    EXPECT_EQ(co_await method_of(r1), "PUT");
    auto r2_request = session.patch(url, {.data = "x"});
    auto r2 = co_await std::move(r2_request);
    EXPECT_EQ(co_await method_of(r2), "PATCH");
    auto r3 = co_await session.delete_(url);
    EXPECT_EQ(co_await method_of(r3), "DELETE");
    auto r4 = co_await session.options(url);
    EXPECT_EQ(co_await method_of(r4), "OPTIONS");
    auto r5 = co_await session.request("propfind", url);
    EXPECT_EQ(co_await method_of(r5), "PROPFIND");
    auto r6 = co_await session.post(url);
    const auto j6 = co_await r6.json();
    EXPECT_EQ(j6["method"], "POST");
    EXPECT_EQ(echoed_header(j6, "Content-Length"), "0");
    EXPECT_EQ(echoed_header(j6, "Content-Type"), "<absent>");  // no body, no type
    auto h = co_await session.head(url);
    EXPECT_EQ(h.status(), 200);
    EXPECT_GT(h.content_length().value_or(0), 0U);
    EXPECT_EQ(co_await h.read(), "");  // HEAD has no body
  });
  EXPECT_EQ(server.seen().back().method, "HEAD");
}

TEST(ClientSession, ParamsHeadersAndJsonBody) {
  TestServer server(routes);
  http::ClientSession session({.headers = {{"X-Session", "s"}, {"X-Both", "session"}}});
  run([&]() -> aio::Task<> {
    // GCC 12 cannot keep a braced list's array alive across a co_await in the same
    // expression ("array used as initializer"): the request is made first, then awaited.
    auto request = session.post(server.url("/echo?a=1"),
                                {.params = {{"q", "c++ & more"}, {"page", "2"}},
                                 .headers = {{"X-Both", "request"}, {"X-Custom", "v"}},
                                 .json = {{"name", "pyconc"}, {"tags", {"a", "b"}}}});
    auto resp = co_await std::move(request);
    const nlohmann::json echo = co_await resp.json();
    EXPECT_EQ(echo["method"], "POST");
    EXPECT_EQ(echo["query"], "a=1&q=c%2B%2B+%26+more&page=2");
    EXPECT_EQ(echoed_header(echo, "X-Session"), "s");
    EXPECT_EQ(echoed_header(echo, "X-Both"), "request");  // the request's replaces the session's
    EXPECT_EQ(echoed_header(echo, "X-Custom"), "v");
    EXPECT_EQ(echoed_header(echo, "Content-Type"), "application/json");
    EXPECT_EQ(echoed_header(echo, "Expect"), "<absent>");
    EXPECT_NE(echoed_header(echo, "User-Agent").find("pyconc"), std::string::npos);
    EXPECT_EQ(nlohmann::json::parse(echo["body"].get<std::string>()),
              (nlohmann::json{{"name", "pyconc"}, {"tags", {"a", "b"}}}));
    EXPECT_EQ(resp.request_info().method, "POST");
    EXPECT_EQ(resp.request_info().headers.getone("X-Both"), "request");
    int both = 0;
    for (const auto& kv : header_list(echo)) both += kv[0] == "X-Both" ? 1 : 0;
    EXPECT_EQ(both, 1);
  });
}

TEST(ClientSession, RawFormAndMultipartBodies) {
  TestServer server(routes);
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    const std::string url = server.url("/echo");
    auto r1_request = session.post(url, {.data = "raw text"});
    auto r1 = co_await std::move(r1_request);
    auto j1 = co_await r1.json();
    EXPECT_EQ(j1["body"], "raw text");
    EXPECT_EQ(echoed_header(j1, "Content-Type"), "text/plain; charset=utf-8");

    auto form_request = session.post(url, {.data = {{"user", "alice smith"}, {"lang", "c++"}}});
    auto r2 = co_await std::move(form_request);
    auto j2 = co_await r2.json();
    EXPECT_EQ(j2["body"], "user=alice+smith&lang=c%2B%2B");
    EXPECT_EQ(echoed_header(j2, "Content-Type"), "application/x-www-form-urlencoded");

    auto xml_request = session.post(
        url, {.headers = {{"Content-Type", "application/xml"}}, .data = std::string("<a/>")});
    auto r3 = co_await std::move(xml_request);
    EXPECT_EQ(echoed_header(co_await r3.json(), "Content-Type"), "application/xml");

    http::FormData form;
    form.add_field("title", "hello");
    form.add_field("file", std::string("PNG\0data", 8),
                   {.content_type = "image/png", .filename = "a.png"});
    auto r4_request = session.post(url, {.data = form});
    auto r4 = co_await std::move(r4_request);
    auto j4 = co_await r4.json();
    const std::string type = echoed_header(j4, "Content-Type");
    EXPECT_TRUE(type.starts_with("multipart/form-data; boundary=")) << type;
    const std::string body = j4["body"];
    EXPECT_NE(body.find("Content-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n"),
              std::string::npos);
    EXPECT_NE(body.find("name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n" +
                        std::string("PNG\0data", 8)),
              std::string::npos);

    // A large body is sent whole, without Expect: 100-continue.
    const std::string big(3 << 20, 'b');
    auto r5_request = session.put(url, {.data = big});
    auto r5 = co_await std::move(r5_request);
    auto j5 = co_await r5.json();
    EXPECT_EQ(j5["body"].get<std::string>().size(), big.size());
    EXPECT_EQ(echoed_header(j5, "Expect"), "<absent>");

    {
      auto request = session.post(url, {.data = "x", .json = 1});
      EXPECT_THROW(co_await std::move(request), pyconc::ValueError);
    }
  });
}

TEST(ClientSession, FollowsRedirects) {
  TestServer server(routes);
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto resp = co_await session.get(server.url("/redirect/3"));
    EXPECT_EQ(resp.status(), 200);
    EXPECT_EQ(co_await resp.text(), "arrived after redirects");
    EXPECT_EQ(resp.url().str(), server.url("/redirect/0"));
    EXPECT_EQ(resp.history().size(), 3U);
    if (resp.history().size() != 3U) co_return;
    EXPECT_EQ(resp.history()[0].status(), 302);
    EXPECT_EQ(resp.history()[0].url().str(), server.url("/redirect/3"));
    EXPECT_EQ(resp.history()[2].url().str(), server.url("/redirect/1"));
    EXPECT_EQ(resp.history()[0].headers().getone("Location"), "2");
    EXPECT_EQ(co_await resp.history()[0].text(), "");  // redirect bodies are not kept

    // allow_redirects=false: the 302 itself.
    auto r2_request = session.get(server.url("/redirect/3"), {.allow_redirects = false});
    auto r2 = co_await std::move(r2_request);
    EXPECT_EQ(r2.status(), 302);
    EXPECT_EQ(r2.headers().getone("Location"), "2");
    EXPECT_EQ(co_await r2.text(), "moved");

    // Exactly max_redirects are allowed; one more raises.
    auto r3_request = session.get(server.url("/redirect/3"), {.max_redirects = 3});
    auto r3 = co_await std::move(r3_request);
    EXPECT_EQ(r3.status(), 200);
    try {
      auto request = session.get(server.url("/redirect/3"), {.max_redirects = 2});
      co_await std::move(request);
      ADD_FAILURE() << "no TooManyRedirects";
    } catch (const http::TooManyRedirects& e) {
      EXPECT_EQ(e.history_length(), 3U);
      EXPECT_EQ(e.request_info().url.str(), server.url("/redirect/3"));
    }
    EXPECT_THROW(co_await session.get(server.url("/loop")), http::TooManyRedirects);
    // A Location read as browsers read it: "\redirect\0" is "/redirect/0" (WHATWG URL).
    auto r4_request = session.get(server.url("/redirect-to?url=%5Credirect%5C0&status=302"));
    auto r4 = co_await std::move(r4_request);
    EXPECT_EQ(r4.status(), 200);
    EXPECT_EQ(r4.url().str(), server.url("/redirect/0"));
    // All on one kept-alive connection: redirect bodies were drained, not aborted.
  });
  EXPECT_EQ(server.connections(), 1);
}

TEST(ClientSession, RedirectMethodsAndCredentials) {
  TestServer a(routes);
  TestServer b(routes);
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto redirect = [&](int status, const std::string& to) {
      return a.url("/redirect-to?status=" + std::to_string(status) + "&url=" + to);
    };
    // 303: POST becomes GET without body; 307/308 keep method and body; 301/302 POST -> GET.
    auto r303_request = session.post(redirect(303, "/echo"), {.data = "payload"});
    auto r303 = co_await std::move(r303_request);
    auto j303 = co_await r303.json();
    EXPECT_EQ(j303["method"], "GET");
    EXPECT_EQ(j303["body"], "");
    auto r307_request = session.post(redirect(307, "/echo"), {.data = "payload"});
    auto r307 = co_await std::move(r307_request);
    auto j307 = co_await r307.json();
    EXPECT_EQ(j307["method"], "POST");
    EXPECT_EQ(j307["body"], "payload");
    auto r308_request = session.put(redirect(308, "/echo"), {.data = "p"});
    auto r308 = co_await std::move(r308_request);
    EXPECT_EQ((co_await r308.json())["method"], "PUT");
    auto r301_request = session.post(redirect(301, "/echo"), {.data = "payload"});
    auto r301 = co_await std::move(r301_request);
    EXPECT_EQ((co_await r301.json())["method"], "GET");
    auto r302put_request = session.put(redirect(302, "/echo"), {.data = "p"});
    auto r302put = co_await std::move(r302put_request);
    EXPECT_EQ((co_await r302put.json())["method"], "PUT");

    // Basic credentials go to the same origin after a redirect, not to another.
    auto same_request =
        session.get(redirect(302, "/echo"), {.auth = http::BasicAuth{"user", "pass"}});
    auto same = co_await std::move(same_request);
    EXPECT_EQ(echoed_header(co_await same.json(), "Authorization"), "Basic dXNlcjpwYXNz");
    auto other_request =
        session.get(redirect(302, b.url("/echo")), {.auth = http::BasicAuth{"user", "pass"}});
    auto other = co_await std::move(other_request);
    EXPECT_EQ(other.url().str(), b.url("/echo"));
    EXPECT_EQ(echoed_header(co_await other.json(), "Authorization"), "<absent>");
    EXPECT_EQ(a.seen().back().header("Authorization"), "Basic dXNlcjpwYXNz");

    // Credentials in the URL are Basic auth (and leave the URL).
    const std::string with_user =
        "http://alice:s%40cret@127.0.0.1:" + std::to_string(a.port()) + "/echo";
    auto u = co_await session.get(with_user);
    EXPECT_EQ(echoed_header(co_await u.json(), "Authorization"), "Basic YWxpY2U6c0BjcmV0");
    EXPECT_EQ(u.url().str(), a.url("/echo"));
    {
      auto request = session.get(with_user, {.auth = http::BasicAuth{"x", "y"}});
      EXPECT_THROW(co_await std::move(request), pyconc::ValueError);
    }

    // Not http(s) after a redirect.
    EXPECT_THROW(co_await session.get(redirect(302, "ftp://127.0.0.1/x")), http::InvalidURL);
    // HEAD does not follow by default.
    auto head = co_await session.head(redirect(302, "/echo"));
    EXPECT_EQ(head.status(), 302);
  });
}

TEST(ClientSession, StatusErrors) {
  TestServer server(routes);
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto r404 = co_await session.get(server.url("/status/404"));
    EXPECT_EQ(r404.status(), 404);
    EXPECT_EQ(r404.reason(), "Not Found");
    EXPECT_FALSE(r404.ok());
    try {
      r404.raise_for_status();
      ADD_FAILURE() << "no exception";
    } catch (const http::ClientResponseError& e) {
      EXPECT_EQ(e.status(), 404);
      EXPECT_EQ(e.message(), "Not Found");
      EXPECT_EQ(e.url().str(), server.url("/status/404"));
      EXPECT_STREQ(e.what(),
                   ("404, message='Not Found', url='" + server.url("/status/404") + "'").c_str());
    }
    auto r500 = co_await session.get(server.url("/status/500"));
    EXPECT_THROW(r500.raise_for_status(), http::ClientResponseError);
    // Per request (and per session: below).
    {
      auto request = session.get(server.url("/status/503"), {.raise_for_status = true});
      EXPECT_THROW(co_await std::move(request), http::ClientResponseError);
    }
    auto ok_request = session.get(server.url("/status/204"), {.raise_for_status = true});
    auto ok = co_await std::move(ok_request);
    EXPECT_EQ(ok.status(), 204);
    auto noreason = co_await session.get(server.url("/no-reason"));
    EXPECT_EQ(noreason.status(), 404);
    EXPECT_EQ(noreason.reason(), "Not Found");  // the standard phrase when none was sent
    auto cont = co_await session.get(server.url("/continue"));  // 1xx heads are skipped
    EXPECT_EQ(cont.status(), 201);
    EXPECT_EQ(co_await cont.text(), "done");
  });
  http::ClientSession strict({.raise_for_status = true});
  run([&]() -> aio::Task<> {
    EXPECT_THROW(co_await strict.get(server.url("/status/418")), http::ClientResponseError);
  });
}

TEST(ClientSession, ChunkedHeadersAndBrokenBodies) {
  TestServer server(routes);
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto chunked = co_await session.get(server.url("/chunked"));
    EXPECT_FALSE(chunked.content_length().has_value());
    EXPECT_EQ(co_await chunked.text(), "first,second,third");
    EXPECT_FALSE(chunked.headers().contains("X-Trailer"));  // trailers are not headers

    auto folded = co_await session.get(server.url("/folded"));
    EXPECT_EQ(folded.headers().getone("X-Folded"), "first second");
    EXPECT_EQ(folded.headers().getall("x-multi"), (std::vector<std::string_view>{"a", "b"}));

    auto bad = co_await session.get(server.url("/bad-chunked"));
    EXPECT_EQ(bad.status(), 200);
    EXPECT_THROW(co_await bad.read(), http::ClientPayloadError);
    auto shortened = co_await session.get(server.url("/short"));
    EXPECT_THROW(co_await shortened.read(), http::ClientPayloadError);
    EXPECT_THROW(co_await session.get(server.url("/nothing")), http::ServerDisconnectedError);
    EXPECT_THROW(co_await session.get(server.url("/garbage")), http::ClientError);
  });
}

TEST(ClientSession, DecodesText) {
  TestServer server(routes);
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto latin = co_await session.get(server.url("/latin1"));
    EXPECT_EQ(latin.charset(), "iso-8859-1");
    EXPECT_EQ(co_await latin.text(), "caf\xc3\xa9 cr\xc3\xa8me");
    EXPECT_EQ(co_await latin.read(), "caf\xe9 cr\xe8me");
    EXPECT_EQ(co_await latin.text("utf-8", "replace"), "caf\xef\xbf\xbd cr\xef\xbf\xbdme");
    EXPECT_THROW(co_await latin.text("no-such-codec"), pyconc::ValueError);

    auto bad = co_await session.get(server.url("/invalid-utf8"));
    try {
      co_await bad.text();
      ADD_FAILURE() << "invalid UTF-8 accepted";
    } catch (const pyconc::ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("can't decode byte 0xff in position 3"),
                std::string::npos)
          << e.what();
    }
    EXPECT_EQ(co_await bad.text(std::nullopt, "replace"), "ok \xef\xbf\xbd\xef\xbf\xbd end");
    EXPECT_EQ(co_await bad.text(std::nullopt, "ignore"), "ok  end");
  });
}

TEST(ClientSession, Json) {
  TestServer server(routes);
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto r = co_await session.get(server.url("/json"));  // application/vnd.api+json counts
    const nlohmann::json j = co_await r.json();
    EXPECT_EQ(j["name"], "pyconc");
    EXPECT_EQ(j["n"].size(), 3U);
    auto html = co_await session.get(server.url("/not-json"));
    try {
      co_await html.json();
      ADD_FAILURE() << "no ContentTypeError";
    } catch (const http::ContentTypeError& e) {
      EXPECT_NE(std::string(e.what()).find("unexpected mimetype: text/html"), std::string::npos)
          << e.what();
    }
    EXPECT_EQ((co_await html.json(std::nullopt))["a"], 1);  // no check
    auto broken = co_await session.get(server.url("/broken-json"));
    EXPECT_THROW(co_await broken.json(), pyconc::ValueError);
    auto empty = co_await session.get(server.url("/empty-json"));
    EXPECT_TRUE((co_await empty.json()).is_null());
  });
}

TEST(ClientSession, CookieJar) {
  TestServer server(routes);
  http::ClientSession session({.cookies = {{"always", "1"}}});
  run([&]() -> aio::Task<> {
    auto set = co_await session.get(server.url("/setcookie?token=abc&lang=en"));
    EXPECT_EQ(set.cookies().getone("token"), "abc");
    auto with_cookie = session.get(server.url("/cookies"), {.cookies = {{"once", "2"}}});
    auto sent = co_await std::move(with_cookie);
    const std::string header = co_await sent.text();
    for (const char* c : {"token=abc", "lang=en", "always=1", "once=2"}) {
      EXPECT_NE(header.find(c), std::string::npos) << header;
    }
    auto jar = session.cookie_jar();
    EXPECT_EQ(jar.size(), 2U);
    const auto filtered = jar.filter_cookies(http::URL(server.url("/any")));
    EXPECT_EQ(filtered.getone("token"), "abc");
    EXPECT_TRUE(jar.filter_cookies(http::URL("http://other.example/")).empty());
    for (const auto& c : jar.cookies()) {
      EXPECT_EQ(c.domain, "127.0.0.1");
      EXPECT_EQ(c.path, "/");
      EXPECT_FALSE(c.expires.has_value());
    }
    jar.update_cookies({{"added", "x"}}, http::URL(server.url("/")));
    auto again = co_await session.get(server.url("/cookies"));
    EXPECT_NE((co_await again.text()).find("added=x"), std::string::npos);
    jar.clear();
    EXPECT_EQ(jar.size(), 0U);
    auto none = co_await session.get(server.url("/cookies"));
    EXPECT_EQ(co_await none.text(), "always=1");
  });
  http::ClientSession no_jar({.cookie_jar = false});
  run([&]() -> aio::Task<> {
    co_await no_jar.get(server.url("/setcookie?token=abc"));
    auto r = co_await no_jar.get(server.url("/cookies"));
    EXPECT_EQ(co_await r.text(), "");
  });
}

TEST(ClientSession, UrlsAndBaseUrl) {
  TestServer server(routes);
  http::ClientSession session({.base_url = server.url("/")});
  run([&]() -> aio::Task<> {
    auto r = co_await session.get("hello");
    EXPECT_EQ(co_await r.text(), "hello");
    auto with_params = session.get(http::URL(server.url("/echo")).with_query({{"x", "1"}}),
                                   {.params = {{"y", "2"}}});
    auto u = co_await std::move(with_params);
    EXPECT_EQ((co_await u.json())["query"], "x=1&y=2");
    auto frag = co_await session.get(server.url("/hello#section"));
    EXPECT_EQ(frag.url().str(), server.url("/hello"));
    EXPECT_EQ(frag.real_url().str(), server.url("/hello#section"));
    EXPECT_THROW(co_await session.get("ftp://127.0.0.1/file"), http::InvalidURL);
    EXPECT_THROW(co_await session.get("http://exa mple.com:99999/"), http::InvalidURL);
    auto injected = session.get(server.url("/"), {.headers = {{"X-Bad", "a\r\nInjected: 1"}}});
    EXPECT_THROW(co_await std::move(injected), pyconc::ValueError);
    EXPECT_THROW(co_await session.request("BAD METHOD", server.url("/")), pyconc::ValueError);
    {
      auto request = session.get(server.url("/"), {.timeout = http::ClientTimeout{.total = -1s}});
      EXPECT_THROW(co_await std::move(request), pyconc::ValueError);
    }
  });
  http::ClientSession plain;
  run([&]() -> aio::Task<> { EXPECT_THROW(co_await plain.get("/relative"), http::InvalidURL); });
  EXPECT_THROW(http::ClientSession({.base_url = "not absolute"}), http::InvalidURL);
}

TEST(ClientSession, ConnectionErrors) {
  // A port nobody listens on: bind one, note it, close it.
  int port = 0;
  {
    TestServer gone(routes);
    port = gone.port();
  }
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    try {
      co_await session.get("http://127.0.0.1:" + std::to_string(port) + "/");
      ADD_FAILURE() << "connected to a closed port";
    } catch (const http::ClientConnectorError& e) {
      EXPECT_EQ(e.host(), "127.0.0.1");
      EXPECT_EQ(e.port(), port);
      EXPECT_EQ(e.errno_value(), ECONNREFUSED);
      EXPECT_NE(
          std::string(e.what()).find("Cannot connect to host 127.0.0.1:" + std::to_string(port)),
          std::string::npos)
          << e.what();
    }
  });
}

TEST(ClientSession, TrustEnvUsesTheProxyOfTheEnvironment) {
  TestServer proxy(
      [](const TestRequest& r, TestConn& c) { c.respond(200, "via proxy " + r.target); });
  ::setenv("http_proxy", proxy.url("/").c_str(), 1);
  ::setenv("no_proxy", "", 1);
  http::ClientSession trusting({.trust_env = true});
  http::ClientSession ignoring;
  TestServer direct([](const TestRequest&, TestConn& c) { c.respond(200, "direct"); });
  run([&]() -> aio::Task<> {
    auto r = co_await trusting.get(direct.url("/page"));
    EXPECT_EQ(co_await r.text(), "via proxy " + direct.url("/page"));  // absolute-form target
    auto d = co_await ignoring.get(direct.url("/page"));
    EXPECT_EQ(co_await d.text(), "direct");
  });
  ::unsetenv("http_proxy");
  ::unsetenv("no_proxy");
}

}  // namespace
