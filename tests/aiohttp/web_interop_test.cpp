// The web server against clients that are not ours -- the curl command and Python's
// http.client (each skipped when absent) -- and our own ClientSession and pyconc::requests
// against our own server: keep-alive, chunked bodies both ways, JSON, errors.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "pyconc/aiohttp.hpp"
#include "pyconc/aiohttp/json.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc/subprocess.hpp"
#include "pyconc_demo/server.hpp"

namespace aio = pyconc::asyncio;
namespace http = pyconc::aiohttp;
namespace web = pyconc::aiohttp::web;
namespace sp = pyconc::subprocess;
using namespace std::chrono_literals;

namespace {

struct InteropApp {
  web::Application app;
  InteropApp() {
    app.router().add_get("/hello/{name}", [](web::Request& req) -> aio::Task<web::Response> {
      co_return web::Response("<h1>hello, " + req.match_info("name") + "!</h1>",
                              {.content_type = "text/html"});
    });
    app.router().add_post("/echo", [](web::Request& req) -> aio::Task<web::Response> {
      std::string body = co_await req.text();
      co_return web::Response(std::to_string(body.size()) + ":" + body.substr(0, 16));
    });
    app.router().add_post("/json", [](web::Request& req) -> aio::Task<web::Response> {
      auto j = co_await req.json();
      co_return web::json_response({{"sum", j["a"].get<int>() + j["b"].get<int>()}});
    });
  }
};

bool have(const char* program) {
  return sp::run({"sh", "-c", std::string("command -v ") + program}, {.capture_output = true})
             .returncode == 0;
}

TEST(WebInterop, CurlGetsPostsChunkedAndReusesTheConnection) {
  if (!have("curl")) GTEST_SKIP() << "no curl command (scripts/deps.sh test installs it)";
  InteropApp a;
  pyconc::demo::ServerThread server(a.app);
  // Two URLs in one curl run: the second reuses the first's connection (keep-alive).
  auto r = sp::run({"curl", "-sS", "-v", "--max-time", "20", server.url("/hello/curl"),
                    server.url("/hello/again")},
                   {.capture_output = true, .timeout = 30s, .text = true});
  ASSERT_EQ(r.returncode, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "<h1>hello, curl!</h1><h1>hello, again!</h1>");
  EXPECT_NE(r.stderr_text.find("< HTTP/1.1 200 OK"), std::string::npos) << r.stderr_text;
  EXPECT_NE(r.stderr_text.find("Re-using existing connection"), std::string::npos) << r.stderr_text;
  // A chunked upload of 200 kB.
  const std::string big(200000, 'z');
  auto post = sp::run({"curl", "-sS", "--max-time", "20", "-H", "Transfer-Encoding: chunked",
                       "--data-binary", "@-", server.url("/echo")},
                      {.input = big, .capture_output = true, .timeout = 30s, .text = true});
  ASSERT_EQ(post.returncode, 0) << post.stderr_text;
  EXPECT_EQ(post.stdout_text, "200000:zzzzzzzzzzzzzzzz");
  // Unknown path: 404 with the status line curl reports.
  auto missing = sp::run({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time",
                          "20", server.url("/nope")},
                         {.capture_output = true, .timeout = 30s, .text = true});
  EXPECT_EQ(missing.stdout_text, "404");
}

TEST(WebInterop, PythonHttpClient) {
  if (!have("python3")) GTEST_SKIP() << "no python3";
  InteropApp a;
  pyconc::demo::ServerThread server(a.app);
  const std::string script = R"(
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=20)
c.request("GET", "/hello/py")
r = c.getresponse(); print(r.status, r.getheader("Content-Type"), r.read().decode())
c.request("POST", "/json", body=json.dumps({"a": 2, "b": 40}), headers={"Content-Type": "application/json"})
r = c.getresponse(); print(r.status, json.loads(r.read())["sum"])
def chunks():
    for i in range(10):
        yield b"y" * 1000
c.request("POST", "/echo", body=chunks(), encode_chunked=True)
r = c.getresponse(); print(r.status, r.read().decode())
c.request("GET", "/missing")
r = c.getresponse(); r.read(); print(r.status)
)";
  auto r = sp::run({"python3", "-c", script, std::to_string(server.port())},
                   {.capture_output = true, .timeout = 60s, .text = true});
  ASSERT_EQ(r.returncode, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text,
            "200 text/html; charset=utf-8 <h1>hello, py!</h1>\n200 42\n200 "
            "10000:yyyyyyyyyyyyyyyy\n404\n");
}

TEST(WebInterop, OurClientAgainstOurServer) {
  InteropApp a;
  pyconc::demo::ServerThread server(a.app);
  auto client = [&]() -> aio::Task<std::vector<std::string>> {
    std::vector<std::string> out;
    http::ClientSession session;
    for (const char* name : {"a", "b", "c"}) {
      auto resp = co_await session.get(server.url(std::string("/hello/") + name));
      out.push_back(std::to_string(resp.status()) + " " + co_await resp.text());
    }
    auto call = session.post(server.url("/json"), {.json = {{"a", 1}, {"b", 2}}});
    auto resp = co_await std::move(call);
    out.push_back((co_await resp.json())["sum"].dump());
    co_return out;
  };
  const auto got = aio::run(client());
  EXPECT_EQ(got, (std::vector<std::string>{"200 <h1>hello, a!</h1>", "200 <h1>hello, b!</h1>",
                                           "200 <h1>hello, c!</h1>", "3"}));
  // And the blocking twin.
  auto r = pyconc::requests::post(server.url("/echo"), {.data = std::string(5000, 'q')});
  EXPECT_EQ(r.text, "5000:qqqqqqqqqqqqqqqq");
}

}  // namespace
