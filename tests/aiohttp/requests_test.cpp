// pyconc::requests: blocking calls from plain threads and a thread pool against a local server
// (status, redirects, body, JSON, errors), connection reuse per thread, and the guard against
// calling it inside a running event loop.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include <string>
#include <vector>

#include "http_test_server.hpp"
#include "pyconc/aiohttp.hpp"
#include "pyconc/aiohttp/json.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc/futures.hpp"

namespace aio = pyconc::asyncio;
namespace http = pyconc::aiohttp;
namespace requests = pyconc::requests;
namespace cf = pyconc::futures;
using namespace std::chrono_literals;
using pyconc_test::TestConn;
using pyconc_test::TestRequest;
using pyconc_test::TestServer;

namespace {

void handler(const TestRequest& r, TestConn& c) {
  if (r.path == "/hello") {
    c.respond(200, "<h1>hello</h1>", {}, "text/html; charset=utf-8");
  } else if (r.path == "/moved") {
    c.respond(302, "", {{"Location", "/hello"}});
  } else if (r.path == "/json") {
    c.respond(200, R"({"a": [1, 2]})", {}, "application/json");
  } else if (r.path == "/echo") {
    c.respond(200, r.method + " " + r.body, {}, "text/plain");
  } else {
    c.respond(404, "no such page", {}, "text/plain");
  }
}

TEST(Requests, GetFollowsRedirectsAndReadsTheBody) {
  TestServer server(handler);
  const auto r = requests::get(server.url("/moved"));
  EXPECT_EQ(r.status_code, 200);
  EXPECT_EQ(r.reason, "OK");
  EXPECT_EQ(r.url, server.url("/hello"));
  EXPECT_EQ(r.redirects, 1);
  EXPECT_EQ(r.text, "<h1>hello</h1>");
  EXPECT_EQ(r.content, "<h1>hello</h1>");
  EXPECT_EQ(r.content_type, "text/html");
  EXPECT_EQ(r.headers.getone("Content-Type"), "text/html; charset=utf-8");
  EXPECT_TRUE(r.ok());
  EXPECT_NO_THROW(r.raise_for_status());
}

TEST(Requests, JsonPostAndStatusErrors) {
  TestServer server(handler);
  EXPECT_EQ(requests::get(server.url("/json")).json()["a"][1], 2);
  EXPECT_EQ(requests::post(server.url("/echo"), {.data = std::string("x=1")}).text, "POST x=1");
  const auto missing = requests::get(server.url("/nope"));
  EXPECT_EQ(missing.status_code, 404);
  EXPECT_FALSE(missing.ok());
  try {
    missing.raise_for_status();
    FAIL() << "no exception for a 404";
  } catch (const http::ClientResponseError& e) {
    EXPECT_EQ(e.status(), 404);
    EXPECT_EQ(e.url().str(), server.url("/nope"));
  }
}

TEST(Requests, ConnectionErrorsAreTyped) {
  int port = 0;
  {
    TestServer gone(handler);
    port = gone.port();
  }  // closed: nothing listens there now
  EXPECT_THROW(requests::get("http://127.0.0.1:" + std::to_string(port) + "/"),
               http::ClientConnectorError);
  EXPECT_THROW(requests::get("ftp://example.org/"), http::InvalidURL);
}

TEST(Requests, EachThreadReusesItsConnection) {
  TestServer server(handler);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(requests::get(server.url("/hello")).status_code, 200);
  EXPECT_EQ(server.connections(), 1);  // keep-alive: the thread's session kept it
}

TEST(Requests, ThreadPoolOfBlockingDownloads) {
  TestServer server(handler);
  std::vector<std::string> urls;
  for (int i = 0; i < 40; ++i) urls.push_back(server.url(i % 2 == 0 ? "/hello" : "/json"));
  cf::ThreadPoolExecutor pool(4);
  std::vector<std::size_t> sizes;
  for (auto& text : pool.map([](const std::string& u) { return requests::get(u).text; }, urls))
    sizes.push_back(text.size());
  ASSERT_EQ(sizes.size(), urls.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) EXPECT_EQ(sizes[i], i % 2 == 0 ? 14U : 13U);
  EXPECT_LE(server.connections(), 4);  // one per worker thread at most
}

TEST(Requests, RefusedInsideARunningLoop) {
  TestServer server(handler);
  auto inside = [&]() -> aio::Task<int> {
    try {
      requests::get(server.url("/hello"));
    } catch (const pyconc::RuntimeError&) {
      co_return 1;
    }
    co_return 0;
  };
  EXPECT_EQ(aio::run(inside()), 1);
  // ... and fine from a worker thread of that loop.
  auto offloaded = [&]() -> aio::Task<int> {
    auto r = co_await aio::to_thread([&] { return requests::get(server.url("/hello")); });
    co_return r.status_code;
  };
  EXPECT_EQ(aio::run(offloaded()), 200);
}

}  // namespace

namespace {

// A child forked by a thread that already has a client must not use the inherited one (its
// epoll instance and sockets are the parent's): it makes its own, and the parent's still works.
TEST(Requests, AForkedChildGetsItsOwnClient) {
  TestServer server(handler);
  ASSERT_EQ(requests::get(server.url("/hello")).status_code, 200);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int code = 1;
    try {
      code = requests::get(server.url("/json")).status_code == 200 ? 0 : 2;
    } catch (...) {
      code = 3;
    }
    std::_Exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the child was killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(requests::get(server.url("/hello")).text, "<h1>hello</h1>");
}

}  // namespace
