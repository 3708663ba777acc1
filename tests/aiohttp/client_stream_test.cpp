// resp.content(): the body read as it arrives -- read(n), readline, readexactly, iterators,
// failures after the buffered bytes, backpressure (an unread body pauses the transfer), and a
// large download in constant memory.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "http_test_server.hpp"
#include "pyconc/aiohttp.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc/future.hpp"
#include "pyconc/generator.hpp"

namespace aio = pyconc::asyncio;
namespace http = pyconc::aiohttp;
using namespace std::chrono_literals;
using pyconc_test::TestConn;
using pyconc_test::TestRequest;
using pyconc_test::TestServer;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

template <class F>
void run(F&& body) {
  aio::run(aio::wait_for(body(), 60s));
}

// A block whose bytes depend on their position; bodies repeat it.
const std::string& block() {
  static const std::string b = [] {
    std::string s(std::size_t{1} << 20, '\0');
    for (std::size_t i = 0; i < s.size(); ++i) {
      s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    }
    return s;
  }();
  return b;
}

// Serves `total` bytes of block() repeated, with a Content-Length; `sent` counts what the
// blocking send() got into the socket, `done` is set once everything was sent.
struct BigBody {
  explicit BigBody(std::uint64_t n) : total(n) {}
  std::uint64_t total;
  std::atomic<std::uint64_t> sent{0};
  pyconc::Future<void> done;

  void serve(TestConn& c) {
    if (!c.send("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                std::to_string(total) + "\r\n\r\n")) {
      return;
    }
    const std::string& b = block();
    while (sent < total) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(b.size(), total - sent));
      if (!c.send(std::string_view(b).substr(0, n))) return;
      sent += n;
    }
    // A test that stopped waiting for it (wait_for's timeout) cancelled it.
    if (!done.cancelled()) done.set_result();
  }
};

// Checks that `chunk`, found at body offset `at`, is block() repeated.
bool matches(const std::string& chunk, std::uint64_t at) {
  const std::string& b = block();
  std::size_t i = 0;
  while (i < chunk.size()) {
    const std::size_t pos = static_cast<std::size_t>((at + i) % b.size());
    const std::size_t n = std::min(chunk.size() - i, b.size() - pos);
    if (chunk.compare(i, n, b, pos, n) != 0) return false;
    i += n;
  }
  return true;
}

// Peak resident set size of this process in KiB (VmHWM); reset_peak() starts a new peak.
long peak_rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}
bool reset_peak() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

TEST(ClientStream, ReadlineReadexactlyAndTheRest) {
  TestServer server([](const TestRequest&, TestConn& c) {
    c.respond(200, "first line\nsecond\r\nHEADERbody-bytes-and-a-tail");
  });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto resp = co_await session.get(server.url("/"));
    auto content = resp.content();
    EXPECT_EQ(co_await content.readline(), "first line\n");
    EXPECT_EQ(co_await content.readuntil("\r\n"), "second\r\n");
    EXPECT_EQ(co_await content.readexactly(6), "HEADER");
    EXPECT_EQ(co_await content.read(4), "body");
    EXPECT_EQ(co_await content.read(0), "");
    // The response's read() gives what the stream has not consumed.
    EXPECT_EQ(co_await resp.read(), "-bytes-and-a-tail");
    EXPECT_EQ(resp.body(), "-bytes-and-a-tail");
    EXPECT_TRUE(content.is_eof());
    EXPECT_EQ(content.total_bytes(), 46U);
  });
}

TEST(ClientStream, EndOfBodyAndIncompleteRead) {
  TestServer server([](const TestRequest&, TestConn& c) { c.respond(200, "abc\ndef"); });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto resp = co_await session.get(server.url("/"));
    auto content = resp.content();
    EXPECT_EQ(co_await content.readline(), "abc\n");
    try {
      co_await content.readexactly(10);
      ADD_FAILURE() << "readexactly past the end did not raise";
    } catch (const aio::IncompleteReadError& e) {
      EXPECT_EQ(e.partial, "def");
      EXPECT_EQ(e.expected, std::optional<std::size_t>(10));
    }
    EXPECT_TRUE(content.at_eof());
    EXPECT_EQ(co_await content.readline(), "");
    EXPECT_EQ(co_await content.read(100), "");
    EXPECT_EQ(co_await content.readany(), "");
    EXPECT_THROW((void)content.readexactly(-1), pyconc::ValueError);
    EXPECT_THROW((void)content.readuntil(""), pyconc::ValueError);
    EXPECT_THROW((void)content.iter_chunked(0), pyconc::ValueError);
  });
}

TEST(ClientStream, Iterators) {
  std::string body;
  for (int i = 0; i < 50; ++i) body += "line " + std::to_string(i) + "\n";
  body += "no newline at the end";
  TestServer server([&](const TestRequest&, TestConn& c) { c.respond(200, body); });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    {
      auto resp = co_await session.get(server.url("/"));
      auto lines = resp.content().iter_line();
      std::vector<std::string> got;
      while (auto line = co_await lines.next()) got.push_back(*line);
      EXPECT_EQ(got.size(), 51U);
      if (got.size() == 51U) {
        EXPECT_EQ(got[7], "line 7\n");
        EXPECT_EQ(got.back(), "no newline at the end");
      }
    }
    {
      auto resp = co_await session.get(server.url("/"));
      auto chunks = resp.content().iter_chunked(10);
      std::string joined;
      while (auto c = co_await chunks.next()) {
        EXPECT_LE(c->size(), 10U);
        EXPECT_FALSE(c->empty());
        joined += *c;
      }
      EXPECT_EQ(joined, body);
    }
    {
      auto resp = co_await session.get(server.url("/"));
      auto any = resp.content().iter_any();
      std::string joined;
      while (auto c = co_await any.next()) joined += *c;
      EXPECT_EQ(joined, body);
    }
  });
}

TEST(ClientStream, BufferedBytesComeBeforeTheFailure) {
  // Content-Length promises 100 bytes; the server sends 20 and closes.
  TestServer server([](const TestRequest&, TestConn& c) {
    c.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n01234567890123456789");
    c.close_after();
  });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto resp = co_await session.get(server.url("/"));
    auto content = resp.content();
    std::string got;
    bool raised = false;
    try {
      for (;;) {
        std::string c = co_await content.read(7);
        if (c.empty()) break;
        got += c;
      }
    } catch (const http::ClientPayloadError&) {
      raised = true;
    }
    EXPECT_TRUE(raised);
    EXPECT_EQ(got, "01234567890123456789");
    EXPECT_TRUE(content.exception() != nullptr);
    // Every later read raises the same failure.
    EXPECT_THROW(co_await content.read(1), http::ClientPayloadError);
  });
}

TEST(ClientStream, LineLongerThanTheBufferIsAValueError) {
  TestServer server(
      [](const TestRequest&, TestConn& c) { c.respond(200, std::string(200'000, 'x') + "\n"); });
  http::ClientSession session({.read_bufsize = 1024});
  run([&]() -> aio::Task<> {
    auto resp = co_await session.get(server.url("/"));
    EXPECT_THROW(co_await resp.content().readline(), pyconc::ValueError);
    // The bytes are still there: read them by size instead.
    EXPECT_EQ((co_await resp.content().read()).size(), 200'001U);
    http::ClientSession bad({.read_bufsize = 0});
    bool refused = false;
    try {
      co_await bad.get(server.url("/"));
    } catch (const pyconc::ValueError&) {
      refused = true;
    }
    EXPECT_TRUE(refused);
  });
}

TEST(ClientStream, AnUnreadBodyPausesTheTransfer) {
  // 64 MiB cannot fit in loopback's socket buffers: if the client kept reading into memory the
  // server would finish; with backpressure it stalls until the reader catches up.
  BigBody big(std::uint64_t{64} << 20);
  TestServer server([&](const TestRequest&, TestConn& c) { big.serve(c); });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto resp = co_await session.get(server.url("/"));
    bool finished_early = true;
    try {
      co_await aio::wait_for(big.done, 500ms);
    } catch (const pyconc::TimeoutError&) {
      finished_early = false;
    }
    EXPECT_FALSE(finished_early) << "the server sent everything although nobody read";
    // Unread bytes held: at most twice read_bufsize plus one delivery from libcurl.
    EXPECT_LE(resp.body().size(), std::size_t{2 * 65536 + 65536});
    EXPECT_LT(big.sent.load(), big.total);
    // Reading resumes it; every byte arrives, in order.
    auto content = resp.content();
    std::uint64_t at = 0;
    bool ok = true;
    for (auto c = co_await content.read(1 << 16); !c.empty(); c = co_await content.read(1 << 16)) {
      ok = ok && matches(c, at);
      at += c.size();
    }
    EXPECT_TRUE(ok);
    EXPECT_EQ(at, big.total);
  });
}

TEST(ClientStream, APausedTransferIsNotAReadTimeout) {
  BigBody big(std::uint64_t{16} << 20);
  TestServer server([&](const TestRequest&, TestConn& c) { big.serve(c); });
  constexpr auto kSockRead = 200ms;
  http::ClientSession session({.timeout = {.total = 30s, .sock_read = kSockRead}});
  run([&]() -> aio::Task<> {
    auto resp = co_await session.get(server.url("/"));
    // Longer than sock_read without reading: the transfer is paused by us, not stalled by the
    // server, so it must not time out.
    co_await aio::sleep(3 * kSockRead);  // not a synchronisation: the duration under test
    std::uint64_t n = 0;
    for (auto c = co_await resp.content().readany(); !c.empty();
         c = co_await resp.content().readany()) {
      n += c.size();
    }
    EXPECT_EQ(n, big.total);
  });
}

TEST(ClientStream, LargeDownloadInConstantMemory) {
  const std::uint64_t total = kSanitized ? (std::uint64_t{64} << 20) : (std::uint64_t{512} << 20);
  BigBody big(total);
  TestServer server([&](const TestRequest&, TestConn& c) { big.serve(c); });
  http::ClientSession session;
  (void)block();
  if (!reset_peak()) GTEST_SKIP() << "/proc/self/clear_refs is not writable";
  const long before = peak_rss_kib();
  run([&]() -> aio::Task<> {
    auto resp = co_await session.get(server.url("/big"));
    auto chunks = resp.content().iter_chunked(std::size_t{1} << 16);
    std::uint64_t at = 0;
    bool ok = true;
    while (auto c = co_await chunks.next()) {
      // Compare a sample (every 64th chunk): checking every byte would dominate the test.
      if ((at >> 16) % 64 == 0) ok = ok && matches(*c, at);
      at += c->size();
    }
    EXPECT_TRUE(ok);
    EXPECT_EQ(at, total);
  });
  const long grown_kib = peak_rss_kib() - before;
  // The body is 512 MiB; what it may cost is the buffer and allocator slack, not the body.
  // (AddressSanitizer keeps freed chunks in quarantine, up to 256 MiB: no bound there.)
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_LT(grown_kib, 48 * 1024) << "peak RSS grew by " << grown_kib << " KiB";
#endif
  std::printf("streamed %llu MiB, peak RSS grew by %ld KiB\n",
              static_cast<unsigned long long>(total >> 20), grown_kib);
}

// ---- request bodies that stream: a file, a generator ----

// Answers with what arrived: "<size> <te> <cl> <fnv-1a of the body>".
std::string describe_upload(const TestRequest& r) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : r.body) h = (h ^ c) * 1099511628211ULL;
  return std::to_string(r.body.size()) + " te=" + r.header("Transfer-Encoding") +
         " cl=" + r.header("Content-Length") + " " + std::to_string(h);
}
std::string describe_bytes(const std::string& body, const std::string& te, const std::string& cl) {
  TestRequest r;
  r.body = body;
  if (!te.empty()) r.headers.emplace_back("Transfer-Encoding", te);
  if (!cl.empty()) r.headers.emplace_back("Content-Length", cl);
  return describe_upload(r);
}

pyconc::Generator<std::string> chunks_of(std::string text, std::size_t n) {
  for (std::size_t i = 0; i < text.size(); i += n) co_yield text.substr(i, n);
}
pyconc::Generator<std::string> failing_chunks() {
  co_yield std::string(1000, 'a');
  throw pyconc::ValueError("the source broke");
}

TEST(ClientUpload, FileBodyIsStreamedWithItsLength) {
  const std::string body = block().substr(0, 3'000'000);
  const auto path = std::filesystem::temp_directory_path() /
                    ("pyconc-upload-" + std::to_string(::getpid()) + ".bin");
  {
    std::ofstream out(path, std::ios::binary);
    out << body;
  }
  TestServer server([](const TestRequest& r, TestConn& c) {
    if (r.path == "/moved") {
      c.respond(307, "", {{"Location", "/final"}});
      return;
    }
    c.respond(200, describe_upload(r) + " " + r.header("Content-Type"));
  });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto request = session.post(server.url("/up"), {.data = http::FilePayload(path.string())});
    auto resp = co_await std::move(request);
    EXPECT_EQ(co_await resp.text(),
              describe_bytes(body, "", std::to_string(body.size())) + " application/octet-stream");
    // A 307 sends the body again: the file is read again from its start.
    auto again = session.put(server.url("/moved"), {.data = http::FilePayload(path.string())});
    auto moved = co_await std::move(again);
    EXPECT_EQ(moved.history().size(), 1U);
    EXPECT_EQ(co_await moved.text(),
              describe_bytes(body, "", std::to_string(body.size())) + " application/octet-stream");
    auto missing = session.post(server.url("/up"), {.data = http::FilePayload("/nonexistent/x")});
    EXPECT_THROW(co_await std::move(missing), pyconc::OSError);
  });
  std::filesystem::remove(path);
}

TEST(ClientUpload, GeneratorBodyIsSentChunked) {
  const std::string body = block().substr(0, 1'000'000);
  TestServer server([](const TestRequest& r, TestConn& c) {
    if (r.path == "/moved") {
      c.respond(308, "", {{"Location", "/final"}});
      return;
    }
    c.respond(200, describe_upload(r));
  });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto request =
        session.post(server.url("/up"), {.headers = {{"Content-Type", "text/csv"}},
                                         .data = http::StreamPayload(chunks_of(body, 10'000))});
    auto resp = co_await std::move(request);
    EXPECT_EQ(co_await resp.text(), describe_bytes(body, "chunked", ""));
    // The generator's exception fails the request with it.
    bool raised = false;
    try {
      auto bad = session.post(server.url("/up"), {.data = http::StreamPayload(failing_chunks())});
      co_await std::move(bad);
    } catch (const pyconc::ValueError& e) {
      raised = std::string(e.what()) == "the source broke";
    }
    EXPECT_TRUE(raised);
    // A 308 would send a consumed stream again: refused clearly.
    bool refused = false;
    try {
      auto r = session.post(server.url("/moved"), {.data = http::StreamPayload(chunks_of("x", 1))});
      co_await std::move(r);
    } catch (const http::ClientPayloadError& e) {
      refused = std::string(e.what()).find("stream") != std::string::npos;
    }
    EXPECT_TRUE(refused);
  });
}

}  // namespace
