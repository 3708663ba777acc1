// web::StreamResponse over loopback: chunked and Content-Length framing, writing past the
// length, HEAD, HTTP/1.0, keep-alive after a streamed body (pipelined), a body the handler
// leaves open, an error after prepare(), backpressure from a client that does not read.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "pyconc/aiohttp.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc/threading/event.hpp"
#include "pyconc_demo/server.hpp"
#include "socket_client.hpp"

namespace aio = pyconc::asyncio;
namespace web = pyconc::aiohttp::web;
using namespace std::chrono_literals;
using test_support::connect_to;
using test_support::read_all;
using test_support::send_all;

namespace {

std::string exchange(int port, std::string_view requests) {
  const int fd = connect_to(port, 10);
  send_all(fd, requests);
  std::string r = read_all(fd);
  ::close(fd);
  return r;
}

std::size_t count(const std::string& s, std::string_view what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

struct StreamApp {
  web::Application app;
  std::string length_error;             // what write() past Content-Length raised
  std::atomic<std::size_t> written{0};  // bytes the /big handler has written
  pyconc::threading::Event big_done;
  static constexpr std::size_t kBig = 64 << 20;

  StreamApp() {
    app.router().add_get("/chunks", [](web::Request& req) -> aio::Task<web::StreamResponse> {
      web::StreamResponse sr({.content_type = "text/plain"});
      co_await sr.prepare(req);
      co_await sr.write("a");
      co_await sr.write("");  // nothing: an empty chunk would end the body
      co_await sr.write("bb");
      co_await sr.write_eof();
      co_return sr;
    });
    app.router().add_get("/length", [this](web::Request& req) -> aio::Task<web::StreamResponse> {
      web::StreamResponse sr;
      sr.set_content_length(5);
      co_await sr.prepare(req);
      co_await sr.write("hel");
      co_await sr.write("lo");
      try {
        co_await sr.write("!");
      } catch (const pyconc::RuntimeError& e) {
        length_error = e.what();
      }
      co_await sr.write_eof();
      co_return sr;
    });
    app.router().add_get("/length-header", [](web::Request& req) -> aio::Task<web::StreamResponse> {
      web::StreamResponse sr;
      sr.headers().add("Content-Length", "3");
      co_await sr.prepare(req);
      co_await sr.write("xyz");
      co_return sr;  // the server ends it
    });
    app.router().add_get("/open", [](web::Request& req) -> aio::Task<web::StreamResponse> {
      web::StreamResponse sr;
      co_await sr.prepare(req);
      co_await sr.write("left open");
      co_return sr;
    });
    app.router().add_get("/short", [](web::Request& req) -> aio::Task<web::StreamResponse> {
      web::StreamResponse sr;
      sr.set_content_length(10);
      co_await sr.prepare(req);
      co_await sr.write("only5");
      co_return sr;  // shorter than promised: the connection must close after it
    });
    app.router().add_get("/fail", [](web::Request& req) -> aio::Task<web::StreamResponse> {
      web::StreamResponse sr;
      co_await sr.prepare(req);
      co_await sr.write("partial");
      throw std::runtime_error("handler bug after prepare");
    });
    app.router().add_get("/big", [this](web::Request& req) -> aio::Task<web::StreamResponse> {
      web::StreamResponse sr;
      sr.set_content_length(kBig);
      co_await sr.prepare(req);
      const std::string piece(64 << 10, 'z');
      for (std::size_t i = 0; i < kBig; i += piece.size()) {
        co_await sr.write(piece);
        written += piece.size();
      }
      co_await sr.write_eof();
      big_done.set();
      co_return sr;
    });
    app.router().add_get("/plain", [](web::Request&) -> aio::Task<web::Response> {
      co_return web::Response("plain");
    });
  }
};

TEST(StreamResponse, ChunkedThenKeepAlive) {
  StreamApp a;
  pyconc::demo::ServerThread server(a.app);
  // Two pipelined requests on one connection: the streamed body, then a plain one.
  const std::string r = exchange(server.port(),
                                 "GET /chunks HTTP/1.1\r\nHost: t\r\n\r\n"
                                 "GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0U) << r;
  EXPECT_NE(r.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("\r\n\r\n1\r\na\r\n2\r\nbb\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n"), std::string::npos)
      << r;
  EXPECT_EQ(r.substr(r.size() - 5), "plain");
  EXPECT_EQ(count(r, "HTTP/1.1 "), 2U);
}

TEST(StreamResponse, ContentLengthIsHonoured) {
  StreamApp a;
  pyconc::demo::ServerThread server(a.app);
  const std::string r = exchange(server.port(),
                                 "GET /length HTTP/1.1\r\nHost: t\r\n\r\n"
                                 "GET /length-header HTTP/1.1\r\nHost: t\r\n\r\n"
                                 "GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("Content-Length: 5\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("\r\n\r\nhelloHTTP/1.1 200 OK\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Content-Length: 3\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("\r\n\r\nxyzHTTP/1.1 200 OK\r\n"), std::string::npos) << r;
  EXPECT_EQ(r.find("chunked"), std::string::npos) << r;
  EXPECT_EQ(count(r, "HTTP/1.1 200"), 3U) << r;
  EXPECT_NE(a.length_error.find("exceed the Content-Length"), std::string::npos) << a.length_error;
}

TEST(StreamResponse, HeadGetsTheHeadOnlyAndKeepsAlive) {
  StreamApp a;
  pyconc::demo::ServerThread server(a.app);
  const std::string r = exchange(server.port(),
                                 "HEAD /chunks HTTP/1.1\r\nHost: t\r\n\r\n"
                                 "GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << r;
  // No chunk at all between the HEAD's head and the next response.
  EXPECT_NE(r.find("\r\n\r\nHTTP/1.1 200 OK\r\n"), std::string::npos) << r;
  EXPECT_EQ(r.substr(r.size() - 5), "plain");
}

TEST(StreamResponse, Http10BodyEndsWithTheConnection) {
  StreamApp a;
  pyconc::demo::ServerThread server(a.app);
  const std::string r = exchange(server.port(), "GET /chunks HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.0 200 OK\r\n", 0), 0U) << r;
  EXPECT_EQ(r.find("chunked"), std::string::npos) << r;
  EXPECT_EQ(r.substr(r.size() - 7), "\r\n\r\nabb") << r;
}

TEST(StreamResponse, TheServerEndsWhatTheHandlerLeftOpen) {
  StreamApp a;
  pyconc::demo::ServerThread server(a.app);
  const std::string r = exchange(server.port(),
                                 "GET /open HTTP/1.1\r\nHost: t\r\n\r\n"
                                 "GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("9\r\nleft open\r\n0\r\n\r\nHTTP/1.1 200 OK"), std::string::npos) << r;
  // A body shorter than its Content-Length: the connection closes, the next request is not
  // answered on it.
  const std::string s = exchange(server.port(),
                                 "GET /short HTTP/1.1\r\nHost: t\r\n\r\n"
                                 "GET /plain HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(s.substr(s.size() - 5), "only5") << s;
  EXPECT_EQ(count(s, "HTTP/1.1 "), 1U) << s;
}

TEST(StreamResponse, ErrorAfterPrepareClosesWithoutASecondResponse) {
  StreamApp a;
  pyconc::demo::ServerThread server(a.app);
  const std::string r = exchange(server.port(),
                                 "GET /fail HTTP/1.1\r\nHost: t\r\n\r\n"
                                 "GET /plain HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(count(r, "HTTP/1.1 "), 1U) << r;
  EXPECT_EQ(r.find("500"), std::string::npos) << r;
  EXPECT_NE(r.find("7\r\npartial\r\n"), std::string::npos) << r;
  EXPECT_EQ(r.find("0\r\n\r\n"), std::string::npos) << r;  // not a complete body
  // The server goes on.
  EXPECT_NE(exchange(server.port(), "GET /plain HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                .find("plain"),
            std::string::npos);
}

TEST(StreamResponse, WriteWaitsForASlowReader) {
  StreamApp a;
  pyconc::demo::ServerThread server(a.app);
  const int fd = connect_to(server.port(), 30);
  send_all(fd, "GET /big HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  // We read nothing yet: the handler cannot finish, it waits in write() (64 MiB do not fit
  // the socket buffers). The bounded wait is expected to time out.
  EXPECT_FALSE(a.big_done.wait(500ms));
  EXPECT_LT(a.written.load(), StreamApp::kBig);
  const std::string r = read_all(fd);
  ::close(fd);
  const auto head_end = r.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_EQ(r.size() - head_end - 4, StreamApp::kBig);
  EXPECT_TRUE(a.big_done.wait(10s));
}

}  // namespace

namespace {

// Set-Cookie as Python's http.cookies writes it, and what pyconc's client jar makes of it.
TEST(StreamResponseCookies, SetCookieAndDelCookie) {
  web::Response r("x");
  r.set_cookie("plain", "v1");
  r.set_cookie("full", "a b;c",
               {.max_age = std::chrono::seconds(60),
                .path = "/app",
                .domain = "example.com",
                .expires = "Wed, 01 Jan 2031 00:00:00 GMT",
                .secure = true,
                .httponly = true,
                .samesite = "lax"});
  r.set_cookie("plain", "v2");  // replaces the first: one header per cookie
  r.del_cookie("gone", {.path = "/old"});
  const auto all = r.headers().getall("Set-Cookie");
  ASSERT_EQ(all.size(), 3U);
  EXPECT_EQ(all[0],
            "full=\"a b\\073c\"; Domain=example.com; expires=Wed, 01 Jan 2031 00:00:00 GMT; "
            "HttpOnly; Max-Age=60; Path=/app; SameSite=Lax; Secure");
  EXPECT_EQ(all[1], "plain=v2; Path=/");
  EXPECT_EQ(all[2], "gone=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/old");

  EXPECT_THROW(r.set_cookie("bad name", "v"), pyconc::ValueError);
  EXPECT_THROW(r.set_cookie("", "v"), pyconc::ValueError);
  EXPECT_THROW(r.set_cookie("n", "v", {.samesite = "sometimes"}), pyconc::ValueError);
  EXPECT_THROW(r.set_cookie("n", "v", {.path = "/x\r\nX-Evil: 1"}), pyconc::ValueError);
  EXPECT_THROW(r.set_cookie("n", "v", {.domain = "a;b"}), pyconc::ValueError);
}

TEST(StreamResponseCookies, TheClientJarKeepsAndForgetsThem) {
  web::Application app;
  app.router().add_get("/login", [](web::Request&) -> aio::Task<web::Response> {
    web::Response r("in");
    r.set_cookie("session", "s3cr3t", {.httponly = true, .samesite = "Strict"});
    r.set_cookie("theme", "dark", {.max_age = std::chrono::seconds(3600), .path = "/"});
    r.set_cookie("scoped", "1", {.path = "/admin"});
    co_return r;
  });
  app.router().add_get("/logout", [](web::Request&) -> aio::Task<web::StreamResponse> {
    web::StreamResponse sr;
    sr.del_cookie("session");
    co_return web::StreamResponse(std::move(sr));
  });
  app.router().add_get("/echo", [](web::Request& req) -> aio::Task<web::Response> {
    std::string out;
    for (const auto& [k, v] : req.cookies()) out += k + "=" + v + ";";
    co_return web::Response(out);
  });
  pyconc::demo::ServerThread server(app);
  const std::string base = server.url();
  aio::run(aio::wait_for(
      [](std::string url) -> aio::Task<> {
        pyconc::aiohttp::ClientSession session;
        auto r = co_await session.get(url + "login");
        EXPECT_EQ(r.status(), 200);
        EXPECT_EQ(r.headers().getall("Set-Cookie").size(), 3U);
        const auto jar = session.cookie_jar().cookies();
        EXPECT_EQ(jar.size(), 3U);
        for (const auto& c : jar) {
          if (c.name == "session") {
            EXPECT_EQ(c.value, "s3cr3t");
            EXPECT_TRUE(c.http_only);
            EXPECT_FALSE(c.expires.has_value());
          } else if (c.name == "theme") {
            EXPECT_TRUE(c.expires.has_value());
          } else {
            EXPECT_EQ(c.name, "scoped");
            EXPECT_EQ(c.path, "/admin");
          }
        }
        auto e = co_await session.get(url + "echo");
        const std::string sent = co_await e.text();
        EXPECT_NE(sent.find("session=s3cr3t;"), std::string::npos) << sent;
        EXPECT_NE(sent.find("theme=dark;"), std::string::npos) << sent;
        EXPECT_EQ(sent.find("scoped"), std::string::npos) << sent;  // its path is /admin
        auto out = co_await session.get(url + "logout");
        (void)co_await out.text();
        for (const auto& c : session.cookie_jar().cookies()) EXPECT_NE(c.name, "session");
        auto again = co_await session.get(url + "echo");
        EXPECT_EQ(co_await again.text(), "theme=dark;");
      }(base),
      30s));
}

}  // namespace
