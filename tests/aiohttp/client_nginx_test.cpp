// ClientSession against nginx serving files from a temporary directory: 200 concurrent
// requests, a large file, gzip, redirects, HTTPS (self-signed certificate: verification
// failure, ssl=false, ssl_cafile) and HTTP/2. Skipped when nginx (or openssl, for HTTPS) is
// not installed.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "http_test_server.hpp"
#include "pyconc/aiohttp.hpp"
#include "pyconc/asyncio.hpp"

namespace aio = pyconc::asyncio;
namespace http = pyconc::aiohttp;
using namespace std::chrono_literals;
using pyconc_test::NginxServer;

namespace {

template <class F>
void run(F&& body) {
  aio::run(aio::wait_for(body(), 40s));
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('A' + (i * 13 + i / 1000) % 26);
  return s;
}

#define SKIP_WITHOUT_NGINX() \
  if (!NginxServer::available()) GTEST_SKIP() << "nginx is not installed"

TEST(ClientNginx, GatherTwoHundredFiles) {
  SKIP_WITHOUT_NGINX();
  NginxServer nginx;
  for (int i = 0; i < 200; ++i)
    nginx.put("files/" + std::to_string(i) + ".txt", "file number " + std::to_string(i));
  nginx.start();
  http::ClientSession session({.limit = 32});
  run([&]() -> aio::Task<> {
    std::vector<aio::Task<std::string>> tasks;
    for (int i = 0; i < 200; ++i) {
      tasks.push_back(
          aio::create_task([](http::ClientSession& s, std::string url) -> aio::Task<std::string> {
            auto r = co_await s.get(url);
            r.raise_for_status();
            EXPECT_EQ(r.content_type(), "text/plain");
            co_return co_await r.text();
          }(session, nginx.url("/files/" + std::to_string(i) + ".txt"))));
    }
    const auto bodies = co_await aio::gather(std::move(tasks));
    for (int i = 0; i < 200; ++i)
      EXPECT_EQ(bodies[static_cast<std::size_t>(i)], "file number " + std::to_string(i));
    auto missing = co_await session.get(nginx.url("/files/none.txt"));
    EXPECT_EQ(missing.status(), 404);
    EXPECT_THROW(missing.raise_for_status(), http::ClientResponseError);
  });
}

TEST(ClientNginx, LargeFileAndHead) {
  SKIP_WITHOUT_NGINX();
  const std::string big = pattern(40 << 20);
  NginxServer nginx;
  nginx.put("big.bin", big);
  nginx.start();
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto head = co_await session.head(nginx.url("/big.bin"));
    EXPECT_EQ(head.content_length(), big.size());
    auto r = co_await session.get(nginx.url("/big.bin"));
    EXPECT_EQ(r.content_type(), "application/octet-stream");
    const std::string body = co_await r.read();
    EXPECT_EQ(body.size(), big.size());
    EXPECT_TRUE(body == big);
  });
}

TEST(ClientNginx, GzipIsDecoded) {
  SKIP_WITHOUT_NGINX();
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i) + " of a compressible text\n";
  NginxServer nginx(
      "gzip on; gzip_types text/plain; gzip_min_length 0;\n"
      "location = /old { return 301 /doc.txt; }\n");
  nginx.put("doc.txt", text);
  nginx.start();
  http::ClientSession session;
  http::ClientSession raw({.auto_decompress = false});
  run([&]() -> aio::Task<> {
    auto r = co_await session.get(nginx.url("/old"));  // nginx's redirect, then the file
    EXPECT_EQ(r.history().size(), 1U);
    EXPECT_EQ(r.headers().getone("Content-Encoding"), "gzip");
    EXPECT_TRUE(co_await r.text() == text);
    auto plain = co_await raw.get(nginx.url("/doc.txt"));
    const std::string bytes = co_await plain.read();
    EXPECT_LT(bytes.size(), text.size() / 4);
    EXPECT_EQ(bytes.substr(0, 2), "\x1f\x8b");  // the gzip stream as sent
  });
}

TEST(ClientNginx, Https) {
  SKIP_WITHOUT_NGINX();
  NginxServer nginx;
  const std::string cert = nginx.dir() + "/cert.pem";
  const std::string key = nginx.dir() + "/key.pem";
  if (pyconc_test::run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
                                cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                                "subjectAltName=IP:127.0.0.1"}) != 0) {
    GTEST_SKIP() << "openssl could not make a certificate";
  }
  nginx.configure("ssl_certificate " + cert + ";\nssl_certificate_key " + key + ";\n", "ssl http2");
  nginx.put("secure.txt", "over TLS");
  nginx.start();
  const std::string url = "https://127.0.0.1:" + std::to_string(nginx.port()) + "/secure.txt";
  http::ClientSession verifying;
  http::ClientSession trusting({.ssl_cafile = cert});
  http::ClientSession h2({.ssl_cafile = cert, .http2 = true});
  run([&]() -> aio::Task<> {
    try {
      co_await verifying.get(url);
      ADD_FAILURE() << "a self-signed certificate was accepted";
    } catch (const http::ClientConnectorCertificateError& e) {
      EXPECT_EQ(e.port(), nginx.port());
      EXPECT_TRUE(e.ssl());
    }
    http::RequestOptions insecure{.ssl = false};
    auto r1 = co_await verifying.get(url, insecure);
    EXPECT_EQ(co_await r1.text(), "over TLS");
    auto r2 = co_await trusting.get(url);
    EXPECT_EQ(co_await r2.text(), "over TLS");
    EXPECT_EQ(r2.version(), (http::HttpVersion{1, 1}));
    auto r3 = co_await h2.get(url);
    EXPECT_EQ(r3.version(), (http::HttpVersion{2, 0}));
    EXPECT_EQ(r3.reason(), "OK");  // HTTP/2 has no reason phrase: the standard one
    EXPECT_EQ(co_await r3.text(), "over TLS");
  });
}

}  // namespace
