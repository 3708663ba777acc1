// ClientSession transfers: connection reuse and limits, timeouts, cancellation (the server
// sees the connection close), releasing responses, closing sessions, large bodies, many
// concurrent requests, loop lifetime.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "http_test_server.hpp"
#include "pyconc/aiohttp.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc/future.hpp"

namespace aio = pyconc::asyncio;
namespace http = pyconc::aiohttp;
using namespace std::chrono_literals;
using pyconc_test::Blackhole;
using pyconc_test::TestConn;
using pyconc_test::TestRequest;
using pyconc_test::TestServer;

namespace {

template <class F>
void run(F&& body) {
  aio::run(aio::wait_for(body(), 30s));
}

// Set once from a server thread, awaited by a coroutine (pyconc::Future is awaitable).
struct Signal {
  pyconc::Future<void> future;
  std::atomic<bool> fired{false};
  void fire() {
    if (!fired.exchange(true)) future.set_result();
  }
};

// What a handler saw of the client's side of its connection: -1 not yet known, 1 the client
// closed or reset it, 0 it did not within the wait.
struct PeerClose {
  std::atomic<int> state{-1};
  void observe(TestConn& c, std::chrono::milliseconds within = 10s) {
    state = c.wait_peer_close(within) ? 1 : 0;
  }
  bool seen(TestServer& server) {
    return server.wait_until([&] { return state.load() != -1; }) && state.load() == 1;
  }
};

// A body of `n` bytes whose content depends on the position.
std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return s;
}

TEST(ClientTransfer, SequentialRequestsReuseOneConnection) {
  TestServer server([](const TestRequest& r, TestConn& c) { c.respond(200, "n" + r.path); });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    for (int i = 0; i < 10; ++i) {
      auto r = co_await session.get(server.url("/" + std::to_string(i)));
      EXPECT_EQ(co_await r.text(), "n/" + std::to_string(i));
    }
  });
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.requests(), 10);

  http::ClientSession closing({.force_close = true});
  TestServer other([](const TestRequest&, TestConn& c) { c.respond(200, "x"); });
  run([&]() -> aio::Task<> {
    for (int i = 0; i < 4; ++i) co_await (co_await closing.get(other.url())).read();
  });
  EXPECT_EQ(other.connections(), 4);
}

TEST(ClientTransfer, LimitPerHostIsHonoured) {
  TestServer* self = nullptr;
  TestServer server([&](const TestRequest&, TestConn& c) {
    // Hold each request until three are in flight (or all twelve came): the client must
    // reach its limit, and never exceed it.
    self->wait_until([&] { return self->in_flight() >= 3 || self->requests() == 12; }, 5s);
    c.respond(200, "ok");
  });
  self = &server;
  http::ClientSession session({.limit_per_host = 3});
  run([&]() -> aio::Task<> {
    std::vector<aio::Task<std::string>> tasks;
    for (int i = 0; i < 12; ++i) {
      tasks.push_back(
          aio::create_task([](http::ClientSession& s, std::string url) -> aio::Task<std::string> {
            auto r = co_await s.get(url);
            co_return co_await r.text();
          }(session, server.url("/" + std::to_string(i)))));
    }
    auto bodies = co_await aio::gather(std::move(tasks));
    for (const auto& b : bodies) EXPECT_EQ(b, "ok");
  });
  EXPECT_EQ(server.max_in_flight(), 3);
  EXPECT_EQ(server.max_open(), 3);
  EXPECT_EQ(server.connections(), 3);  // the three connections were reused
}

TEST(ClientTransfer, TotalLimitAcrossHosts) {
  std::atomic<int> in_flight{0};
  std::atomic<int> most{0};
  TestServer* servers[2] = {nullptr, nullptr};
  auto handler = [&](const TestRequest&, TestConn& c) {
    const int now = ++in_flight;
    int prev = most.load();
    while (prev < now && !most.compare_exchange_weak(prev, now)) {
    }
    servers[0]->wait_until(
        [&] {
          return in_flight.load() >= 2 || servers[0]->requests() + servers[1]->requests() == 8;
        },
        5s);
    --in_flight;
    c.respond(200, "ok");
  };
  TestServer a(handler);
  TestServer b(handler);
  servers[0] = &a;
  servers[1] = &b;
  http::ClientSession session({.limit = 2});
  run([&]() -> aio::Task<> {
    std::vector<aio::Task<http::ClientResponse>> tasks;
    for (int i = 0; i < 8; ++i)
      tasks.push_back(aio::create_task(session.get((i % 2 ? a : b).url())));
    for (auto& r : co_await aio::gather(std::move(tasks))) EXPECT_EQ(co_await r.text(), "ok");
  });
  EXPECT_EQ(most.load(), 2);
}

// Requests beyond the limit wait in the order they were made (no retries, no reordering),
// before any handle exists for them; one cancelled while waiting leaves the queue.
TEST(ClientTransfer, RequestsBeyondTheLimitWaitInOrder) {
  std::atomic<bool> release_first{false};
  Signal first_at_server;
  TestServer* self = nullptr;
  TestServer server([&](const TestRequest& r, TestConn& c) {
    if (r.path == "/0") {
      first_at_server.fire();
      self->wait_until([&] { return release_first.load(); }, 10s);
    }
    c.respond(200, r.path);
  });
  self = &server;
  http::ClientSession session({.limit = 1});
  run([&]() -> aio::Task<> {
    auto get_text = [](http::ClientSession& s, std::string url) -> aio::Task<std::string> {
      co_return co_await (co_await s.get(url)).text();
    };
    std::vector<aio::Task<std::string>> tasks;
    for (int i = 0; i < 6; ++i) {
      tasks.push_back(aio::create_task(get_text(session, server.url("/" + std::to_string(i)))));
    }
    // Let every task reach its wait (the first is at the server, the others queued).
    co_await aio::wait_for(first_at_server.future, 10s);
    co_await aio::sleep(0s);
    tasks[2].cancel();
    release_first = true;
    std::vector<std::string> got;
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      try {
        got.push_back(co_await tasks[i]);
      } catch (const pyconc::CancelledError&) {
        got.push_back("cancelled");
      }
    }
    EXPECT_EQ(got, (std::vector<std::string>{"/0", "/1", "cancelled", "/3", "/4", "/5"}));
  });
  std::vector<std::string> order;
  for (const auto& r : server.seen()) order.push_back(r.path);
  EXPECT_EQ(order, (std::vector<std::string>{"/0", "/1", "/3", "/4", "/5"}));
  EXPECT_EQ(server.max_in_flight(), 1);
}

// aiohttp's connect timeout includes the wait for a free connection of the pool.
TEST(ClientTransfer, WaitingForAFreeSlotCountsAsConnecting) {
  std::atomic<bool> release{false};
  Signal held_at_server;
  TestServer* self = nullptr;
  TestServer server([&](const TestRequest&, TestConn& c) {
    held_at_server.fire();
    self->wait_until([&] { return release.load(); }, 10s);
    c.respond(200, "late");
  });
  self = &server;
  http::ClientSession session({.limit = 1, .timeout = {.total = 30s, .connect = 200ms}});
  run([&]() -> aio::Task<> {
    auto first = aio::create_task(session.get(server.url("/held")));
    co_await aio::wait_for(held_at_server.future, 10s);
    bool timed_out = false;
    try {
      auto request = session.get(server.url("/queued"));
      co_await std::move(request);
    } catch (const pyconc::TimeoutError& e) {
      timed_out = std::string(e.what()).find("Connection timeout") != std::string::npos;
    }
    EXPECT_TRUE(timed_out);
    release = true;
    EXPECT_EQ(co_await (co_await first).text(), "late");
  });
  EXPECT_EQ(server.requests(), 1);
}

TEST(ClientTransfer, ManyConcurrentRequests) {
  TestServer server([](const TestRequest& r, TestConn& c) { c.respond(200, r.path); });
  http::ClientSession session({.limit = 16});
  run([&]() -> aio::Task<> {
    std::vector<aio::Task<std::string>> tasks;
    for (int i = 0; i < 200; ++i) {
      tasks.push_back(
          aio::create_task([](http::ClientSession& s, std::string url) -> aio::Task<std::string> {
            co_return co_await (co_await s.get(url)).text();
          }(session, server.url("/p" + std::to_string(i)))));
    }
    auto bodies = co_await aio::gather(std::move(tasks));
    for (int i = 0; i < 200; ++i)
      EXPECT_EQ(bodies[static_cast<std::size_t>(i)], "/p" + std::to_string(i));
  });
  EXPECT_LE(server.max_open(), 16);
  EXPECT_LE(server.connections(), 16);
  EXPECT_EQ(server.requests(), 200);
}

TEST(ClientTransfer, LargeBodies) {
  const std::string big = pattern(32 << 20);
  TestServer server([&](const TestRequest& r, TestConn& c) {
    if (r.path == "/big") {
      c.respond(200, big, {}, "application/octet-stream");
    } else {  // the same, chunked in 64 KiB pieces
      c.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (std::size_t off = 0; off < (8U << 20); off += 65536) {
        char size[16];
        std::snprintf(size, sizeof size, "%x\r\n", 65536);
        if (!c.send(size) || !c.send(std::string_view(big).substr(off, 65536)) || !c.send("\r\n"))
          return;
      }
      c.send("0\r\n\r\n");
    }
  });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto r = co_await session.get(server.url("/big"));
    EXPECT_EQ(r.content_length(), big.size());
    const std::string body = co_await r.read();
    EXPECT_EQ(body.size(), big.size());
    EXPECT_TRUE(body == big);
    auto c = co_await session.get(server.url("/chunked"));
    const std::string chunked = co_await c.read();
    EXPECT_EQ(chunked.size(), 8U << 20);
    EXPECT_TRUE(chunked == std::string_view(big).substr(0, 8U << 20));
  });
}

TEST(ClientTransfer, TotalTimeout) {
  PeerClose closed;
  TestServer server([&](const TestRequest&, TestConn& c) { closed.observe(c); });
  http::ClientSession session({.timeout = {.total = 200ms}});
  run([&]() -> aio::Task<> {
    const auto start = std::chrono::steady_clock::now();
    try {
      co_await session.get(server.url("/never"));
      ADD_FAILURE() << "no timeout";
    } catch (const pyconc::TimeoutError& e) {
      EXPECT_NE(std::string(e.what()).find("total timeout"), std::string::npos) << e.what();
    }
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 190ms);
    EXPECT_LT(took, 5s);
  });
  EXPECT_TRUE(closed.seen(server));  // the transfer was aborted, not left running
}

TEST(ClientTransfer, ConnectTimeouts) {
  Blackhole hole;
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    for (bool curls : {false, true}) {
      const auto start = std::chrono::steady_clock::now();
      // connect (the session's timer) or sock_connect (libcurl's CURLOPT_CONNECTTIMEOUT).
      http::RequestOptions o{.timeout = curls ? http::ClientTimeout{.sock_connect = 200ms}
                                              : http::ClientTimeout{.connect = 200ms}};
      try {
        co_await session.get(hole.url(), o);
        ADD_FAILURE() << "connected to a full accept queue";
      } catch (const pyconc::TimeoutError& e) {
        EXPECT_NE(std::string(e.what()).find("Connection timeout"), std::string::npos) << e.what();
      }
      const auto took = std::chrono::steady_clock::now() - start;
      EXPECT_GE(took, 190ms);
      EXPECT_LT(took, 5s);
    }
  });
}

TEST(ClientTransfer, SockReadTimeout) {
  PeerClose closed;
  TestServer server([&](const TestRequest& r, TestConn& c) {
    if (r.path == "/stall") {
      c.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
      closed.observe(c);
    } else {  // slow but steady: a byte every 30 ms
      c.send("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n");
      for (char ch : std::string("steadily")) {
        if (!c.sleep(30ms) || !c.send(std::string(1, ch))) return;
      }
    }
  });
  http::ClientSession session({.timeout = {.sock_read = 1s}});
  run([&]() -> aio::Task<> {
    auto slow = co_await session.get(server.url("/slow"));
    EXPECT_EQ(co_await slow.text(), "steadily");  // 240 ms in all, never 1 s of silence

    http::RequestOptions o{.timeout = http::ClientTimeout{.sock_read = 200ms}};
    auto stalled = co_await session.get(server.url("/stall"), o);
    EXPECT_EQ(stalled.status(), 200);
    try {
      co_await stalled.text();
      ADD_FAILURE() << "no timeout";
    } catch (const pyconc::TimeoutError& e) {
      EXPECT_NE(std::string(e.what()).find("reading data"), std::string::npos) << e.what();
    }
    EXPECT_EQ(stalled.body(), "partial");
  });
  EXPECT_TRUE(closed.seen(server));
}

TEST(ClientTransfer, CancellingTheRequestClosesTheConnection) {
  Signal arrived;
  PeerClose closed;
  TestServer server([&](const TestRequest&, TestConn& c) {
    arrived.fire();
    closed.observe(c);
  });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto t = aio::create_task(session.get(server.url("/slow")));
    co_await arrived.future;  // the server holds the request
    EXPECT_TRUE(t.cancel());
    EXPECT_THROW(co_await t, pyconc::CancelledError);
  });
  EXPECT_TRUE(closed.seen(server));
}

TEST(ClientTransfer, CancellingTheBodyReadClosesTheConnection) {
  Signal sent_part;
  PeerClose closed;
  TestServer server([&](const TestRequest&, TestConn& c) {
    c.send("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + std::string(1000, 'x'));
    sent_part.fire();
    closed.observe(c);
  });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto resp = co_await session.get(server.url("/"));
    co_await sent_part.future;
    auto reader = aio::create_task(resp.text());
    co_await aio::sleep(0s);  // the reader starts and parks on the body
    EXPECT_FALSE(reader.done());
    EXPECT_TRUE(reader.cancel());
    EXPECT_THROW(co_await reader, pyconc::CancelledError);
    EXPECT_TRUE(resp.is_eof());
    EXPECT_THROW(co_await resp.read(), http::ClientConnectionError);  // the body is cut short
  });
  EXPECT_TRUE(closed.seen(server));
}

TEST(ClientTransfer, AsyncioTimeoutCancelsTheRequest) {
  PeerClose closed;
  TestServer server([&](const TestRequest&, TestConn& c) { closed.observe(c); });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    EXPECT_THROW(co_await aio::timeout(100ms, session.get(server.url("/"))), pyconc::TimeoutError);
    EXPECT_THROW(co_await aio::wait_for(session.get(server.url("/")), 100ms), pyconc::TimeoutError);
  });
  EXPECT_TRUE(closed.seen(server));
  EXPECT_TRUE(server.wait_until([&] { return server.open_now() == 0; }));
}

TEST(ClientTransfer, ReleasingAnUnreadResponseClosesItsConnection) {
  PeerClose closed;
  TestServer server([&](const TestRequest& r, TestConn& c) {
    if (r.path == "/big") {
      c.send("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nstart");
      closed.observe(c);
    } else {
      c.respond(200, "small");
    }
  });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    {
      auto r = co_await session.get(server.url("/big"));
      EXPECT_EQ(r.status(), 200);
      r.release();
      EXPECT_TRUE(r.closed());
    }
    {
      auto r = co_await session.get(server.url("/big"));  // dropped unread: the same
    }
    auto small = co_await session.get(server.url("/small"));
    EXPECT_EQ(co_await small.text(), "small");
  });
  EXPECT_TRUE(closed.seen(server));
  EXPECT_EQ(server.connections(), 3);  // neither half-read connection was reused
}

TEST(ClientTransfer, ClosingTheSessionAbortsItsTransfers) {
  Signal arrived;
  PeerClose closed;
  TestServer server([&](const TestRequest& r, TestConn& c) {
    if (r.path == "/done") {
      c.respond(200, "complete body");
      return;
    }
    arrived.fire();
    closed.observe(c);
  });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    auto complete = co_await session.get(server.url("/done"));
    co_await complete.read();
    auto pending = aio::create_task(session.get(server.url("/hang")));
    co_await arrived.future;
    session.close();
    EXPECT_TRUE(session.closed());
    try {
      co_await pending;
      ADD_FAILURE() << "no exception";
    } catch (const http::ClientConnectionError& e) {
      EXPECT_STREQ(e.what(), "Session is closed");
    }
    EXPECT_THROW(co_await session.get(server.url("/done")), pyconc::RuntimeError);
    EXPECT_EQ(complete.status(), 200);  // a response outlives its session
    EXPECT_EQ(co_await complete.text(), "complete body");
    EXPECT_EQ(session.cookie_jar().size(), 0U);
    session.close();  // idempotent
  });
  EXPECT_TRUE(closed.seen(server));
}

TEST(ClientTransfer, SessionBelongsToOneLoop) {
  TestServer server([](const TestRequest&, TestConn& c) { c.respond(200, "ok"); });
  http::ClientSession session;  // created before any loop, outlives the loop
  run([&]() -> aio::Task<> { co_await (co_await session.get(server.url())).read(); });
  run([&]() -> aio::Task<> {
    EXPECT_THROW(co_await session.get(server.url()), pyconc::RuntimeError);
  });
  // Destroyed after its loop: the pooled connection is closed without touching the loop.
}

TEST(ClientTransfer, ResponseAwaitedOnLoopThatEnds) {
  // A request still running when its loop is torn down (aio::run cancels leftover tasks).
  Signal arrived;
  PeerClose closed;
  TestServer server([&](const TestRequest&, TestConn& c) {
    arrived.fire();
    closed.observe(c);
  });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    aio::create_task(session.get(server.url("/hang")));
    co_await arrived.future;
  });
  EXPECT_TRUE(closed.seen(server));
}

}  // namespace

// ---- response size limits and malformed framing (hostile servers) ----

namespace limits_test {

// The whole gzip file of `n` zero bytes (made by the gzip command: no zlib dependency here).
std::string gzip_of_zeros(std::size_t n) {
  const std::string path = ::testing::TempDir() + "pyconc_zeros.gz";
  const std::string cmd = "head -c " + std::to_string(n) + " /dev/zero | gzip -c > '" + path + "'";
  if (std::system(cmd.c_str()) != 0) return {};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return {};
  std::string out;
  char buf[65536];
  for (std::size_t got; (got = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, got);
  std::fclose(f);
  std::remove(path.c_str());
  return out;
}

}  // namespace limits_test

TEST(ClientTransfer, MaxResponseSizeStopsABodyWhileItArrives) {
  PeerClose closed;
  const std::string big = pattern(1 << 20);
  TestServer server([&](const TestRequest& r, TestConn& c) {
    if (r.path == "/announced") {  // Content-Length says it at once
      c.respond(200, big, {}, "application/octet-stream");
    } else if (r.path == "/chunked") {  // no length: counted while it streams, then cut
      c.send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (int i = 0; i < 4096; ++i) {  // up to 256 MiB unless the client hangs up
        char size[16];
        std::snprintf(size, sizeof size, "%x\r\n", 65536);
        if (!c.send(size) || !c.send(std::string_view(big).substr(0, 65536)) || !c.send("\r\n"))
          break;
      }
      closed.observe(c);
    } else {
      c.respond(200, "small", {}, "text/plain");
    }
  });
  http::ClientSession session({.max_response_size = 100000});
  run([&]() -> aio::Task<> {
    {
      auto r = co_await session.get(server.url("/announced"));
      EXPECT_EQ(r.status(), 200);  // the head is a normal response; its body is refused
      try {
        co_await r.read();
        ADD_FAILURE() << "no error";
      } catch (const http::ClientResponseTooLarge& e) {
        EXPECT_NE(std::string(e.what()).find("100000 bytes; announced by Content-Length: 1048576"),
                  std::string::npos)
            << e.what();
      }
    }
    {
      auto r = co_await session.get(server.url("/chunked"));
      try {
        co_await r.read();
        ADD_FAILURE() << "no error";
      } catch (const http::ClientPayloadError& e) {  // ClientResponseTooLarge is one
        EXPECT_NE(std::string(e.what()).find("larger than max_response_size (100000 bytes; "
                                             "stopped after"),
                  std::string::npos)
            << e.what();
      }
    }
    // The per-request option replaces the session's; the session goes on working.
    auto ok = co_await session.get(server.url("/small"));
    EXPECT_EQ(co_await ok.text(), "small");
    http::RequestOptions roomy;
    roomy.max_response_size = std::size_t{2} << 20;
    auto call = session.get(server.url("/announced"), roomy);
    auto whole = co_await std::move(call);
    EXPECT_EQ((co_await whole.read()).size(), big.size());
  });
  EXPECT_TRUE(closed.seen(server));  // the chunked transfer was cut, not read to its end
}

// A 4 KiB gzip body that inflates to 64 MiB: the limit applies to the decoded bytes, so the
// transfer stops after ~1 MiB of output instead of building 64 MiB.
TEST(ClientTransfer, MaxResponseSizeCountsDecodedBytes) {
  const std::string bomb = limits_test::gzip_of_zeros(std::size_t{64} << 20);
  ASSERT_FALSE(bomb.empty()) << "gzip could not be run";
  ASSERT_LT(bomb.size(), std::size_t{1} << 20);
  TestServer server([&](const TestRequest&, TestConn& c) {
    c.send(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: text/html\r\n"
        "Content-Length: " +
        std::to_string(bomb.size()) + "\r\n\r\n");
    c.send(bomb);
  });
  http::ClientSession session({.max_response_size = std::size_t{1} << 20});
  run([&]() -> aio::Task<> {
    auto r = co_await session.get(server.url("/bomb"));
    try {
      co_await r.read();
      ADD_FAILURE() << "the bomb was inflated";
    } catch (const http::ClientResponseTooLarge& e) {
      EXPECT_NE(std::string(e.what()).find("stopped after"), std::string::npos) << e.what();
    }
  });
}

TEST(ClientTransfer, MaxResponseSizeZeroIsValueError) {
  TestServer server([&](const TestRequest&, TestConn& c) { c.respond(200, "x"); });
  http::ClientSession session({.max_response_size = 0});
  run([&]() -> aio::Task<> {
    try {
      co_await session.get(server.url("/"));
      ADD_FAILURE() << "no error";
    } catch (const pyconc::ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("max_response_size"), std::string::npos);
    }
  });
}

// RFC 9112 §6.3: Content-Length fields that disagree make the body's end unknown; the client
// refuses the body instead of trusting the last one. Equal repeats are fine.
TEST(ClientTransfer, ConflictingContentLengthsAreRefused) {
  TestServer server([&](const TestRequest& r, TestConn& c) {
    if (r.path == "/two") {
      c.send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello!!");
    } else if (r.path == "/list") {
      c.send("HTTP/1.1 200 OK\r\nContent-Length: 5, 7\r\n\r\nhello!!");
    } else {
      c.send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello");
    }
  });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    for (const char* path : {"/two", "/list"}) {
      try {
        auto r = co_await session.get(server.url(path));
        co_await r.read();
        ADD_FAILURE() << path << ": accepted";
      } catch (const http::ClientPayloadError& e) {
        EXPECT_NE(std::string(e.what()).find("conflicting Content-Length"), std::string::npos)
            << e.what();
      } catch (const http::ClientError& e) {
        // libcurl may refuse the framing itself first: also a refusal.
        SUCCEED() << path << ": " << e.what();
      }
    }
    auto same = co_await session.get(server.url("/same"));
    EXPECT_EQ(co_await same.text(), "hello");
  });
}

// A response head with a 1 MB header line is refused with a clear error (never bad_alloc), and
// the session goes on.
TEST(ClientTransfer, HugeHeaderLineIsAClearError) {
  TestServer server([&](const TestRequest& r, TestConn& c) {
    if (r.path == "/huge") {
      c.send("HTTP/1.1 200 OK\r\nX-Big: " + std::string(std::size_t{1} << 20, 'h') +
             "\r\nContent-Length: 2\r\n\r\nok");
    } else {
      c.respond(200, "fine");
    }
  });
  http::ClientSession session;
  run([&]() -> aio::Task<> {
    std::string what;
    try {
      auto r = co_await session.get(server.url("/huge"));
      co_await r.read();
      ADD_FAILURE() << "accepted";
    } catch (const http::ClientError& e) {
      what = e.what();
    }
    EXPECT_NE(what.find("header"), std::string::npos) << what;
    auto ok = co_await session.get(server.url("/after"));
    EXPECT_EQ(co_await ok.text(), "fine");
  });
}
