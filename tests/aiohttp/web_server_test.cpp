// The web server over loopback: routing, keep-alive, pipelining, bodies, limits, malformed
// requests (each answered or closed, and the server goes on), timeouts, shutdown, run_app.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/aiohttp/json.hpp"
#include "pyconc/aiohttp/web.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc/threading/event.hpp"
#include "socket_client.hpp"

namespace aio = pyconc::asyncio;
namespace web = pyconc::aiohttp::web;
using namespace std::chrono_literals;

namespace {

// --- a blocking test client with bounded waits (tests/support/socket_client.hpp) ---

using test_support::connect_to;
using test_support::read_all;
using test_support::send_all;

std::string http_exchange(int port, std::string_view request) {
  int fd = connect_to(port);
  if (fd < 0) return "<connect failed>";
  send_all(fd, request);
  std::string r = read_all(fd);
  ::close(fd);
  return r;
}

std::string get(int port, std::string_view path, std::string_view method = "GET") {
  return http_exchange(port, std::string(method) + " " + std::string(path) +
                                 " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
}

int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

std::string body_of(const std::string& response) {
  const auto p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

std::size_t count(const std::string& s, std::string_view what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// Serves `app` on an ephemeral port and runs `client(port)` on a thread meanwhile.
void with_server(web::Application& app, const std::function<void(int)>& client,
                 web::ServerOptions options = {}) {
  aio::run([](web::Application& a, const std::function<void(int)>& c,
              web::ServerOptions o) -> aio::Task<> {
    web::AppRunner runner(a, o);
    co_await runner.setup();
    web::TCPSite site(runner, "127.0.0.1", 0);
    co_await site.start();
    const int port = site.port();
    co_await aio::to_thread([&c, port] { c(port); });
    co_await runner.cleanup();
  }(app, client, options));
}

// Set by the /slow handler when it starts, if a test is waiting for that (the handler and the
// waiting test run on one loop, so a plain pointer is enough).
aio::Event* slow_started = nullptr;

web::Application& demo_app() {
  static web::Application* app = [] {
    auto* a = new web::Application;
    a->router().add_get("/", [](web::Request&) -> aio::Task<web::Response> {
      co_return web::Response("<h1>Index</h1>", {.content_type = "text/html"});
    });
    a->router().add_get("/hello/{name}", [](web::Request& req) -> aio::Task<web::Response> {
      co_return web::Response("<h1>hello, " + req.match_info("name") + "!</h1>",
                              {.content_type = "text/html"});
    });
    a->router().add_get("/n/{id:\\d+}", [](web::Request& req) -> aio::Task<web::Response> {
      co_return web::Response("id=" + req.match_info("id") +
                              " q=" + std::string(req.query().get("q").value_or("-")));
    });
    a->router().add_post("/echo", [](web::Request& req) -> aio::Task<web::Response> {
      std::string body = co_await req.text();
      co_return web::Response(body);
    });
    a->router().add_post("/json", [](web::Request& req) -> aio::Task<web::Response> {
      auto j = co_await req.json();
      co_return web::json_response({{"got", j["x"]}});
    });
    a->router().add_get("/fail", [](web::Request&) -> aio::Task<web::Response> {
      throw std::runtime_error("handler bug");
      co_return web::Response("");
    });
    a->router().add_get("/teapot", [](web::Request&) -> aio::Task<web::Response> {
      throw web::HTTPException(418);
      co_return web::Response("");
    });
    a->router().add_get("/slow", [](web::Request&) -> aio::Task<web::Response> {
      if (slow_started != nullptr) slow_started->set();
      co_await aio::sleep(100ms);
      co_return web::Response("slow done");
    });
    return a;
  }();
  return *app;
}

TEST(WebServer, RoutesAndStatuses) {
  auto& app = demo_app();
  with_server(app, [](int port) {
    auto r = get(port, "/");
    EXPECT_EQ(status_of(r), 200);
    EXPECT_EQ(body_of(r), "<h1>Index</h1>");
    EXPECT_NE(r.find("Content-Type: text/html; charset=utf-8"), std::string::npos);
    EXPECT_EQ(body_of(get(port, "/hello/malu")), "<h1>hello, malu!</h1>");
    EXPECT_EQ(body_of(get(port, "/hello/w%C3%B6rld")), "<h1>hello, wörld!</h1>");
    EXPECT_EQ(body_of(get(port, "/n/42?q=a+b")), "id=42 q=a b");
    EXPECT_EQ(status_of(get(port, "/n/abc")), 404);
    EXPECT_EQ(status_of(get(port, "/nope")), 404);
    auto m = get(port, "/", "DELETE");
    EXPECT_EQ(status_of(m), 405);
    EXPECT_NE(m.find("Allow: "), std::string::npos);
    auto h = get(port, "/", "HEAD");
    EXPECT_EQ(status_of(h), 200);
    EXPECT_EQ(body_of(h), "");
    EXPECT_NE(h.find("Content-Length: 14"), std::string::npos);
    EXPECT_EQ(status_of(get(port, "/teapot")), 418);
  });
}

TEST(WebServer, HandlerExceptionIs500AndServerGoesOn) {
  auto& app = demo_app();
  std::vector<std::string> reported;
  aio::run([](web::Application& a, std::vector<std::string>& rep) -> aio::Task<> {
    aio::get_running_loop().set_exception_handler(
        [&rep](aio::EventLoop&, const aio::ExceptionContext& c) { rep.push_back(c.message); });
    web::AppRunner runner(a);
    co_await runner.setup();
    web::TCPSite site(runner, "127.0.0.1", 0);
    co_await site.start();
    const int port = site.port();
    co_await aio::to_thread([port] {
      EXPECT_EQ(status_of(get(port, "/fail")), 500);
      EXPECT_EQ(status_of(get(port, "/")), 200);
    });
    co_await runner.cleanup();
  }(app, reported));
  ASSERT_EQ(reported.size(), 1U);
  EXPECT_NE(reported[0].find("GET /fail"), std::string::npos);
}

TEST(WebServer, KeepAliveAndPipelining) {
  auto& app = demo_app();
  with_server(app, [](int port) {
    int fd = connect_to(port);
    ASSERT_GE(fd, 0);
    // Three pipelined requests in one write; the last closes.
    send_all(fd,
             "GET /hello/a HTTP/1.1\r\nHost: t\r\n\r\n"
             "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
             "GET /hello/c HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    auto all = read_all(fd);
    ::close(fd);
    EXPECT_EQ(count(all, "HTTP/1.1 200 OK"), 3U);
    const auto a = all.find("hello, a!"), e = all.find("\r\n\r\nhello"), c = all.find("hello, c!");
    EXPECT_TRUE(a < e && e < c) << all;
  });
}

TEST(WebServer, BodiesChunkedJsonAndLimits) {
  auto& app = demo_app();
  web::ServerOptions opts;
  opts.limits.max_body_bytes = 1000;
  opts.limits.max_head_bytes = 2000;
  with_server(
      app,
      [](int port) {
        auto r = http_exchange(port,
                               "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
                               "chunked\r\nConnection: close\r\n\r\n"
                               "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        EXPECT_EQ(body_of(r), "hello world");
        auto j = http_exchange(port,
                               "POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: "
                               "application/json\r\nContent-Length: 8\r\n"
                               "Connection: close\r\n\r\n{\"x\":42}");
        EXPECT_EQ(body_of(j), "{\"got\":42}");
        auto bad_json = http_exchange(
            port,
            "POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{{{");
        EXPECT_EQ(status_of(bad_json), 400);
        auto big =
            http_exchange(port, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" +
                                    std::string(5000, 'x'));
        EXPECT_EQ(status_of(big), 413);
        auto head = http_exchange(
            port, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
        EXPECT_EQ(status_of(head), 431);
        EXPECT_EQ(status_of(get(port, "/")), 200);
      },
      opts);
}

// Malformed or hostile inputs: each gets its status (or the connection is closed), and the
// server still answers a good request afterwards.
struct BadInput {
  const char* name;
  std::string request;
  int status;  // 0: closed without a response is acceptable
};

std::vector<BadInput> bad_inputs() {
  const std::string host = "Host: t\r\n";
  return {
      {"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400},
      {"no version", "GET /\r\n\r\n", 400},
      {"lowercase method", "get / HTTP/1.1\r\n" + host + "\r\n", 400},
      {"invalid method chars", "G(T / HTTP/1.1\r\n" + host + "\r\n", 400},
      {"bad version", "GET / HTTP/9.9\r\n" + host + "\r\n", 505},
      {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0},
      {"space in target", "GET /a b HTTP/1.1\r\n" + host + "\r\n", 400},
      {"NUL in target", std::string("GET /\0 HTTP/1.1\r\n", 17) + host + "\r\n", 400},
      {"NUL in header value", std::string("GET / HTTP/1.1\r\nX: a\0b\r\n", 24) + host + "\r\n",
       400},
      {"bare LF in header value", "GET / HTTP/1.1\r\nX: a\nb: c\r\n" + host + "\r\n", 400},
      {"bare CR", "GET / HTTP/1.1\r\nX: a\rb\r\n" + host + "\r\n", 400},
      {"obs-fold", "GET / HTTP/1.1\r\n" + host + "X: a\r\n  b\r\n\r\n", 400},
      {"space before colon", "GET / HTTP/1.1\r\n" + host + "X : a\r\n\r\n", 400},
      {"empty header name", "GET / HTTP/1.1\r\n" + host + ": a\r\n\r\n", 400},
      {"invalid header name", "GET / HTTP/1.1\r\n" + host + "X(y): a\r\n\r\n", 400},
      {"no Host in 1.1", "GET / HTTP/1.1\r\n\r\n", 400},
      {"two Hosts", "GET / HTTP/1.1\r\n" + host + host + "\r\n", 400},
      {"CL and TE (smuggling)",
       "POST /echo HTTP/1.1\r\n" + host +
           "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400},
      {"two different CL",
       "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
       400},
      {"negative CL", "POST /echo HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", 400},
      {"non-numeric CL", "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 1x\r\n\r\n", 400},
      {"huge CL", "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999\r\n\r\n",
       400},
      {"bad chunk size",
       "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"chunk size overflow",
       "POST /echo HTTP/1.1\r\n" + host +
           "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
       400},
      {"chunk without CRLF",
       "POST /echo HTTP/1.1\r\n" + host +
           "Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
       400},
      {"TE not chunked last",
       "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked, gzip\r\n\r\n", 400},
      {"TE in HTTP/1.0", "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"unknown TE", "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", 0},
      {"oversize header",
       "GET / HTTP/1.1\r\n" + host + "X: " + std::string(20000, 'a') + "\r\n\r\n", 431},
      {"too many headers",
       [&] {
         std::string r = "GET / HTTP/1.1\r\n" + host;
         for (int i = 0; i < 150; ++i) r += "X-" + std::to_string(i) + ": v\r\n";
         return r + "\r\n";
       }(),
       431},
      {"oversize request line", "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n" + host + "\r\n",
       431},
      {"body too large", "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 2000000\r\n\r\nxx",
       413},
      {"chunked body too large",
       "POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n200000\r\n" +
           std::string(1100000, 'x'),
       413},
      {"truncated body then EOF",
       "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 10\r\n\r\nabc", 400},
      {"header without colon", "GET / HTTP/1.1\r\n" + host + "NoColon\r\n\r\n", 400},
  };
}

TEST(WebServer, MalformedRequestsTable) {
  auto& app = demo_app();
  with_server(app, [](int port) {
    const auto table = bad_inputs();
    EXPECT_GE(table.size(), 30U);
    for (const auto& bad : table) {
      int fd = connect_to(port);
      ASSERT_GE(fd, 0) << bad.name;
      send_all(fd, bad.request);
      ::shutdown(fd, SHUT_WR);  // EOF: the server must decide now
      const std::string r = read_all(fd);
      ::close(fd);
      const int st = status_of(r);
      if (bad.status == 0) {
        EXPECT_TRUE(st == 0 || st >= 400) << bad.name << ": " << r.substr(0, 60);
      } else {
        EXPECT_EQ(st, bad.status) << bad.name << ": " << r.substr(0, 80);
      }
      if (st >= 400) {
        EXPECT_NE(r.find("Connection: close"), std::string::npos) << bad.name;
      }
      // ... and the server goes on.
      ASSERT_EQ(status_of(get(port, "/")), 200) << "after " << bad.name;
    }
  });
}

TEST(WebServer, SlowlorisAndIdleTimeoutsClose) {
  auto& app = demo_app();
  web::ServerOptions opts;
  opts.request_timeout = 200ms;
  opts.keepalive_timeout = 200ms;
  with_server(
      app,
      [](int port) {
        int fd = connect_to(port);
        ASSERT_GE(fd, 0);
        send_all(fd, "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ");  // never finishes its head
        const auto start = std::chrono::steady_clock::now();
        std::string r = read_all(fd);  // returns when the server closes
        EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
        EXPECT_EQ(r, "");
        ::close(fd);

        fd = connect_to(port);  // idle keep-alive connection
        send_all(fd, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        r = read_all(fd);  // the response, then the close after the idle timeout
        EXPECT_EQ(status_of(r), 200);
        ::close(fd);
      },
      opts);
}

TEST(WebServer, MaxConnections) {
  auto& app = demo_app();
  web::ServerOptions opts;
  opts.max_connections = 1;
  with_server(
      app,
      [](int port) {
        int first = connect_to(port);
        send_all(first, "GET / HTTP/1.1\r\nHost: t\r\n\r\n");  // keeps its connection
        char buf[4096];
        EXPECT_GT(::recv(first, buf, sizeof buf, 0), 0);
        // The second waits in the backlog until the first goes.
        std::atomic<int> second_status{0};
        std::thread t([&] { second_status = status_of(get(port, "/")); });
        ::close(first);
        t.join();
        EXPECT_EQ(second_status.load(), 200);
      },
      opts);
}

TEST(WebServer, MiddlewaresInOrderAndStaticFiles) {
  web::Application app;
  auto dir =
      std::filesystem::temp_directory_path() / ("pyconc_static_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "sub");
  std::ofstream(dir / "sub" / "a.css") << "body{}";
  app.router().add_static("/static", dir.string());
  app.router().add_get(
      "/", [](web::Request&) -> aio::Task<web::Response> { co_return web::Response("x"); });
  for (const char* tag : {"1", "2"}) {
    app.middlewares().push_back(
        [tag](web::Request& r, const web::Handler& next) -> aio::Task<web::Response> {
          web::Response resp = co_await next(r);
          resp.set_body(resp.body() + tag);
          co_return resp;
        });
  }
  with_server(app, [](int port) {
    EXPECT_EQ(body_of(get(port, "/")), "x21");  // the first middleware is the outermost
    auto css = get(port, "/static/sub/a.css");
    EXPECT_EQ(status_of(css), 200);
    EXPECT_NE(css.find("text/css"), std::string::npos);
    EXPECT_EQ(status_of(get(port, "/static/missing.txt")), 404);
    EXPECT_EQ(status_of(get(port, "/static/..%2F..%2Fetc%2Fpasswd")), 403);
  });
  std::filesystem::remove_all(dir);
}

TEST(WebServer, GracefulShutdownFinishesRequestsInProgress) {
  auto& app = demo_app();
  std::string slow;
  aio::run([](web::Application& a, std::string& out) -> aio::Task<> {
    web::AppRunner runner(a);
    co_await runner.setup();
    web::TCPSite site(runner, "127.0.0.1", 0);
    co_await site.start();
    const int port = site.port();
    auto client = aio::create_task([](int p, std::string& o) -> aio::Task<> {
      co_await aio::to_thread([p, &o] { o = get(p, "/slow"); });
    }(port, out));
    // Until the handler runs: a connection accepted but not yet read is idle, and cleanup()
    // rightly closes idle connections at once (the test used to wait only for the accept).
    aio::Event started;
    slow_started = &started;
    co_await aio::wait_for([](aio::Event& e) -> aio::Task<> { co_await e.wait(); }(started), 10s);
    slow_started = nullptr;
    co_await runner.cleanup();  // while /slow is in progress
    co_await client;
  }(app, slow));
  EXPECT_EQ(body_of(slow), "slow done");
}

TEST(WebServer, RunAppStopsOnStopApp) {
  web::Application app;
  app.router().add_get(
      "/", [](web::Request&) -> aio::Task<web::Response> { co_return web::Response("ok"); });
  pyconc::threading::Event started;
  std::thread server([&] {
    web::run_app(app, {.host = "127.0.0.1",
                       .port = 0,
                       .workers = 2,
                       .handle_signals = false,
                       .print = [&](const std::string&) { started.set(); }});
  });
  EXPECT_TRUE(started.wait(10s));
  web::stop_app();
  server.join();
}

}  // namespace
