// The web server over TLS (TCPSite / run_app with an SSLContext): pyconc's ClientSession with
// the test CA (GET, POST, keep-alive, a FileResponse body, request.secure()), a WebSocket
// over wss://, `curl --cacert`, Python's ssl module; refusals -- plain HTTP to the TLS port
// (cleartext 400), a TLS hello to a plain port (400), an untrusted client, a silent client
// past the handshake deadline -- each leaving the server serving. Certificates are made with
// the `openssl` command at test time (skipped without it).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "pyconc/aiohttp.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc/subprocess.hpp"
#include "pyconc_demo/server.hpp"
#include "socket_client.hpp"
#include "test_certs.hpp"

namespace aio = pyconc::asyncio;
namespace http = pyconc::aiohttp;
namespace web = pyconc::aiohttp::web;
namespace sp = pyconc::subprocess;
using namespace std::chrono_literals;

namespace {

template <class F>
void run_bounded(F body) {
  aio::run(aio::wait_for(body(), 60s));
}

class WebTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new test_support::TestCerts();
    file_ = new std::string(certs_->path("big.bin"));
    std::string data(1 << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('A' + i % 23);
    std::ofstream(*file_, std::ios::binary) << data;
  }
  static void TearDownTestSuite() {
    delete file_;
    delete certs_;
  }
  void SetUp() override {
    if (!certs_->ok()) GTEST_SKIP() << "the openssl command could not make test certificates";
  }
  static std::string path(const std::string& name) { return certs_->path(name); }
  static web::SSLContext server_ctx() {
    return web::SSLContext::server(path("server.pem"), path("server.key"));
  }
  static std::string file_content() {
    std::ifstream in(*file_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }

  // hello, echo (POST), scheme, the 1 MiB file, a WebSocket echo.
  static void routes(web::Application& app) {
    app.router().add_get("/hello", [](web::Request& req) -> aio::Task<web::Response> {
      co_return web::Response("hello over " + std::string(req.scheme()));
    });
    app.router().add_post("/echo", [](web::Request& req) -> aio::Task<web::Response> {
      std::string body = co_await req.text();  // (not in the same expression: a GCC 12 bug)
      co_return web::Response(std::move(body));
    });
    app.router().add_get("/file", [](web::Request&) -> aio::Task<web::Response> {
      co_return web::FileResponse(*file_);
    });
    app.router().add_get("/ws", [](web::Request& req) -> aio::Task<web::WebSocketResponse> {
      web::WebSocketResponse ws;
      co_await ws.prepare(req);
      for (;;) {
        auto msg = co_await ws.receive();
        if (msg.type != pyconc::aiohttp::http::WSMsgType::TEXT) break;
        co_await ws.send_str("echo:" + msg.data);
      }
      co_return ws;
    });
  }

  // GET `url` with pyconc's client trusting the test CA: the body is `expected`.
  static void expect_hello(const std::string& url, const std::string& expected) {
    run_bounded([&]() -> aio::Task<> {
      http::ClientSession session({.ssl_cafile = path("ca.pem")});
      auto r = co_await session.get(url);
      EXPECT_EQ(co_await r.text(), expected);
    });
  }

  // GET `url` trusting only `ca`: a ClientError (the TLS handshake fails).
  static void expect_refused(const std::string& url, const std::string& ca) {
    run_bounded([&]() -> aio::Task<> {
      http::ClientSession session({.ssl_cafile = path(ca)});
      EXPECT_THROW((void)co_await session.get(url), http::ClientError);
    });
  }

  static inline test_support::TestCerts* certs_ = nullptr;
  static inline std::string* file_ = nullptr;
};

aio::Task<std::string> fetch_text(http::ClientSession& session, std::string url) {
  auto r = co_await session.get(url);
  co_return co_await r.text();
}

bool have(const std::string& program) {
  return sp::run({"sh", "-c", "command -v " + program}, {.capture_output = true}).returncode == 0;
}

TEST_F(WebTls, PyconcClientWithTheCA) {
  web::Application app;
  routes(app);
  pyconc::demo::ServerThread server(app, server_ctx());
  const std::string base = server.url();
  EXPECT_EQ(base.rfind("https://", 0), 0U);
  const std::string big = file_content();
  run_bounded([&]() -> aio::Task<> {
    http::ClientSession session({.ssl_cafile = path("ca.pem")});
    for (int i = 0; i < 3; ++i) {  // keep-alive: the same TLS connection
      auto r = co_await session.get(base + "hello");
      EXPECT_EQ(r.status(), 200);
      EXPECT_EQ(co_await r.text(), "hello over https");
    }
    // Many at once: as many TLS connections, handshaking concurrently.
    std::vector<aio::Task<std::string>> many;
    for (int i = 0; i < 16; ++i) many.push_back(fetch_text(session, base + "hello"));
    for (const std::string& t : co_await aio::gather(std::move(many))) {
      EXPECT_EQ(t, "hello over https");
    }
    const std::string payload(300000, 'p');
    http::RequestOptions with_body;
    with_body.data = payload;
    auto e = co_await session.post(base + "echo", std::move(with_body));
    const std::string echoed = co_await e.text();
    EXPECT_TRUE(echoed == payload);
    auto f = co_await session.get(base + "file");
    EXPECT_EQ(f.status(), 200);
    const std::string whole = co_await f.text();
    EXPECT_TRUE(whole == big);
    http::RequestOptions ranged;
    ranged.headers.add("Range", "bytes=1000-1999");
    auto part = co_await session.get(base + "file", std::move(ranged));
    EXPECT_EQ(part.status(), 206);
    const std::string range = co_await part.text();
    EXPECT_TRUE(range == big.substr(1000, 1000));
  });
}

TEST_F(WebTls, WebSocketOverWss) {
  web::Application app;
  routes(app);
  pyconc::demo::ServerThread server(app, server_ctx());
  const int port = server.port();
  run_bounded([&]() -> aio::Task<> {
    auto ctx = aio::SSLContext::client();
    ctx.load_verify_locations(path("ca.pem"));
    http::ClientSession session;
    http::WSConnectOptions options;
    options.ssl = ctx;
    auto ws = co_await session.ws_connect("wss://127.0.0.1:" + std::to_string(port) + "/ws",
                                          std::move(options));
    for (const std::string& m : {std::string("one"), std::string(200000, 'w')}) {
      co_await ws.send_str(m);
      auto msg = co_await ws.receive();
      EXPECT_EQ(msg.type, pyconc::aiohttp::http::WSMsgType::TEXT);
      EXPECT_TRUE(msg.data == "echo:" + m);
    }
    co_await ws.close();
  });
}

TEST_F(WebTls, CurlWithCacert) {
  if (!have("curl")) GTEST_SKIP() << "curl is not installed";
  web::Application app;
  routes(app);
  pyconc::demo::ServerThread server(app, server_ctx());
  auto r =
      sp::run({"curl", "-sS", "--max-time", "20", "--cacert", path("ca.pem"), server.url("/hello")},
              {.capture_output = true, .timeout = 30s});
  EXPECT_EQ(r.returncode, 0) << r.stderr_text;
  EXPECT_EQ(r.stdout_text, "hello over https");
  r = sp::run({"curl", "-sS", "--max-time", "20", "--cacert", path("ca.pem"), "-r", "10-19",
               server.url("/file")},
              {.capture_output = true, .timeout = 30s});
  EXPECT_EQ(r.stdout_text, file_content().substr(10, 10));
  // Without the CA, curl refuses the certificate; the server goes on.
  r = sp::run({"curl", "-sS", "--max-time", "20", server.url("/hello")},
              {.capture_output = true, .timeout = 30s});
  EXPECT_NE(r.returncode, 0);
  r = sp::run({"curl", "-sS", "--max-time", "20", "--cacert", path("ca.pem"), server.url("/hello")},
              {.capture_output = true, .timeout = 30s});
  EXPECT_EQ(r.stdout_text, "hello over https");
}

TEST_F(WebTls, PythonSslClient) {
  const std::string py = "/usr/bin/python3";
  if (::access(py.c_str(), X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  web::Application app;
  routes(app);
  pyconc::demo::ServerThread server(app, server_ctx());
  const std::string script =
      "import http.client, ssl, sys\n"
      "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
      "c = http.client.HTTPSConnection('127.0.0.1', int(sys.argv[2]), context=ctx, timeout=20)\n"
      "for path in ('/hello', '/file'):\n"
      "    c.request('GET', path)\n"
      "    r = c.getresponse()\n"
      "    body = r.read()\n"
      "    print(r.status, len(body), body[:16].decode(), c.sock.version())\n";
  auto r = sp::run({py, "-c", script, path("ca.pem"), std::to_string(server.port())},
                   {.capture_output = true, .timeout = 30s});
  EXPECT_EQ(r.returncode, 0) << r.stderr_text;
  EXPECT_NE(r.stdout_text.find("200 16 hello over https TLSv1."), std::string::npos)
      << r.stdout_text;
  EXPECT_NE(r.stdout_text.find("200 1048576 ABCDEFGHIJKLMNOP TLSv1."), std::string::npos)
      << r.stdout_text;
}

TEST_F(WebTls, PlainHttpToTheTlsPortGetsAClear400) {
  web::Application app;
  routes(app);
  pyconc::demo::ServerThread server(app, server_ctx());
  const std::string r =  // until the server closes
      test_support::exchange(server.port(), "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0U) << r;
  EXPECT_NE(r.find("plain HTTP request was sent to HTTPS port"), std::string::npos) << r;
  expect_hello(server.url("/hello"), "hello over https");  // the server goes on
}

TEST_F(WebTls, TlsHelloToAPlainPortGetsA400) {
  web::Application app;
  routes(app);
  pyconc::demo::ServerThread server(app);  // plain
  // The start of a TLS record carrying a ClientHello.
  const std::string hello("\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03", 11);
  const std::string r = test_support::exchange(server.port(), hello + std::string(200, '\x42'));
  EXPECT_EQ(r.rfind("HTTP/1.1 400", 0), 0U) << r;
  // A real handshake fails; the server goes on.
  expect_refused("https://127.0.0.1:" + std::to_string(server.port()) + "/hello", "ca.pem");
  expect_hello(server.url("/hello"), "hello over http");
}

TEST_F(WebTls, UntrustedClientFailsTheServerGoesOn) {
  web::Application app;
  routes(app);
  pyconc::demo::ServerThread server(app, server_ctx());
  expect_refused(server.url("/hello"), "other.pem");
  expect_hello(server.url("/hello"), "hello over https");
}

TEST_F(WebTls, SilentClientIsClosedAtTheHandshakeDeadline) {
  web::Application app;
  routes(app);
  run_bounded([&]() -> aio::Task<> {
    web::AppRunner runner(app, {.request_timeout = 200ms});
    co_await runner.setup();
    web::TCPSite site(runner, "127.0.0.1", 0, server_ctx());
    co_await site.start();
    EXPECT_EQ(site.url().rfind("https://", 0), 0U);
    const int port = site.port();
    std::string got = "<not read>";
    co_await aio::to_thread([&] {
      const int fd = test_support::connect_to(port, 20);
      got = test_support::read_all(fd);  // returns when the server closes (or after 20 s)
      ::close(fd);
    });
    EXPECT_EQ(got, "");
    EXPECT_EQ(runner.connections(), 0U);
    co_await runner.cleanup();
  });
}

TEST_F(WebTls, AClientContextIsRefused) {
  web::Application app;
  web::AppRunner runner(app);
  EXPECT_THROW(web::TCPSite(runner, "127.0.0.1", 0, web::SSLContext::client()), pyconc::ValueError);
  EXPECT_THROW(web::SSLContext::server(path("missing.pem"), path("server.key")),
               pyconc::FileNotFoundError);
  // A key of another certificate: ssl.SSLError, as Python's load_cert_chain.
  EXPECT_THROW(web::SSLContext::server(path("server.pem"), path("other.key")), aio::SSLError);
}

}  // namespace
