#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "proc.hpp"
#include "pyconc/asyncio.hpp"

namespace aio = pyconc::asyncio;
using namespace std::chrono_literals;

namespace {

// Runs `main` with aio::run, failing the test (and cancelling main) if it takes longer than
// `limit`: a bug fails the test instead of hanging it.
template <class T>
aio::Task<T> bounded(aio::Task<T> main, std::chrono::seconds limit) {
  auto task = aio::create_task(std::move(main), "test-main");
  auto guard = aio::get_running_loop().call_later(limit, [task]() mutable {
    ADD_FAILURE() << "test timed out";
    task.cancel();
  });
  if constexpr (std::is_void_v<T>) {
    co_await task;
    guard.cancel();
  } else {
    T v = co_await task;
    guard.cancel();
    co_return v;
  }
}
template <class T>
T run_test(aio::Task<T> main, std::chrono::seconds limit = 20s) {
  return aio::run(bounded(std::move(main), limit));
}

// Parks (yielding to the loop) until `pred` holds; false after `limit`.
aio::Task<bool> wait_until(std::function<bool()> pred, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) co_return false;
    co_await aio::sleep(1ms);
  }
  co_return true;
}

using test_support::count_fds;

aio::Task<> echo_lines(aio::StreamReader reader, aio::StreamWriter writer) {
  while (true) {
    std::string line = co_await reader.readline();
    if (line.empty()) break;
    writer.write(line);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

aio::Task<> echo_client(std::string host, int port, int id, int lines, int& ok) {
  auto [reader, writer] = co_await aio::open_connection(host, port);
  for (int i = 0; i < lines; ++i) {
    const std::string msg = "client " + std::to_string(id) + " line " + std::to_string(i) + "\n";
    writer.write(msg);
    co_await writer.drain();
    std::string back = co_await reader.readline();
    if (back == msg) ++ok;
  }
  writer.write_eof();
  EXPECT_EQ(co_await reader.read(), "");  // the server closes after our EOF
  EXPECT_TRUE(reader.at_eof());
  writer.close();
  co_await writer.wait_closed();
}

TEST(Streams, EchoManyClients) {
  const int fds_before = count_fds();
  int ok = 0;
  run_test([](int& ok) -> aio::Task<> {
    auto server = co_await aio::start_server(echo_lines, "127.0.0.1", 0);
    const int port = server.port();
    EXPECT_GT(port, 0);
    EXPECT_TRUE(server.is_serving());
    EXPECT_EQ(server.sockets().size(), 1U);
    EXPECT_EQ(server.sockets()[0].getsockname().host, "127.0.0.1");
    std::vector<aio::Task<>> clients;
    for (int i = 0; i < 50; ++i) {
      clients.push_back(aio::create_task(echo_client("127.0.0.1", port, i, 20, ok)));
    }
    for (auto& c : clients) co_await c;
    server.close();
    co_await server.wait_closed();
    EXPECT_EQ(server.active_connections(), 0U);
  }(ok));
  EXPECT_EQ(ok, 50 * 20);
  EXPECT_EQ(count_fds(), fds_before);
}

bool have_ipv6_loopback() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

TEST(Streams, EchoOverIpv6Loopback) {
  if (!have_ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback here";
  int ok = 0;
  run_test([](int& ok) -> aio::Task<> {
    auto server = co_await aio::start_server(echo_lines, "::1", 0);
    EXPECT_EQ(server.sockets()[0].getsockname().family, AF_INET6);
    co_await echo_client("::1", server.port(), 0, 3, ok);
  }(ok));
  EXPECT_EQ(ok, 3);
}

// ------------------------------------------------------------------ reader edge cases (fed)

TEST(StreamReader, ReadlineEdgeCases) {
  run_test([]() -> aio::Task<> {
    aio::StreamReader r(16);
    r.feed_data("one\ntw");
    r.feed_data("o\n\nlast");
    r.feed_eof();
    EXPECT_EQ(co_await r.readline(), "one\n");
    EXPECT_EQ(co_await r.readline(), "two\n");
    EXPECT_EQ(co_await r.readline(), "\n");
    EXPECT_FALSE(r.at_eof());
    EXPECT_EQ(co_await r.readline(), "last");  // unterminated last line
    EXPECT_TRUE(r.at_eof());
    EXPECT_EQ(co_await r.readline(), "");
    EXPECT_EQ(co_await r.read(), "");
    EXPECT_EQ(co_await r.read(5), "");
  }());
}

TEST(StreamReader, ReadlineOverLimitDropsTheLineAndRaisesValueError) {
  run_test([]() -> aio::Task<> {
    aio::StreamReader r(8);
    r.feed_data("0123456789abcdef\nok\n");
    EXPECT_THROW(co_await r.readline(), pyconc::ValueError);
    EXPECT_EQ(co_await r.readline(), "ok\n");
    // No separator within the limit: everything buffered is dropped.
    r.feed_data("0123456789abcdef");
    EXPECT_THROW(co_await r.readline(), pyconc::ValueError);
    r.feed_data("x\n");
    EXPECT_EQ(co_await r.readline(), "x\n");
  }());
}

TEST(StreamReader, ReaduntilSeparators) {
  run_test([]() -> aio::Task<> {
    aio::StreamReader r(8);
    EXPECT_THROW((void)r.readuntil(""), pyconc::ValueError);
    r.feed_data("k=v;12345678;--");  // a separator at index 8 == limit is still accepted
    EXPECT_EQ(co_await r.readuntil(";"), "k=v;");
    EXPECT_EQ(co_await r.readuntil(";"), "12345678;");
    r.feed_data("a\r");
    auto t = aio::create_task(r.readuntil("\r\n"));
    co_await aio::sleep(0s);
    EXPECT_FALSE(t.done());  // the separator may straddle two chunks
    r.feed_data("\nrest");
    EXPECT_EQ(co_await t, "--a\r\n");
  }());
}

TEST(StreamReader, ReaduntilLimitOverrunKeepsTheBytes) {
  run_test([]() -> aio::Task<> {
    aio::StreamReader r(8);
    r.feed_data("abc\r\n0123456789abcdef");
    EXPECT_EQ(co_await r.readuntil("\r\n"), "abc\r\n");
    std::size_t consumed = 0;
    try {
      (void)co_await r.readuntil("\r\n");
      ADD_FAILURE() << "no LimitOverrunError";
    } catch (const aio::LimitOverrunError& e) {
      consumed = e.consumed;
    }
    EXPECT_GT(consumed, 8U);
    // The bytes stay: the caller may skip them with read(consumed).
    EXPECT_EQ(co_await r.read(static_cast<std::ptrdiff_t>(consumed)),
              std::string("0123456789abcdef").substr(0, consumed));
    // Separator found but beyond the limit.
    r.feed_data("0123456789;");
    try {
      (void)co_await r.readuntil(";");
      ADD_FAILURE() << "no LimitOverrunError";
    } catch (const aio::LimitOverrunError& e) {
      EXPECT_EQ(e.consumed, 10U + (16U - consumed));
    }
  }());
}

TEST(StreamReader, ReaduntilAtEofRaisesIncompleteRead) {
  run_test([]() -> aio::Task<> {
    aio::StreamReader r;
    r.feed_data("partial");
    r.feed_eof();
    try {
      (void)co_await r.readuntil("\n");
      ADD_FAILURE() << "no IncompleteReadError";
    } catch (const aio::IncompleteReadError& e) {
      EXPECT_EQ(e.partial, "partial");
      EXPECT_FALSE(e.expected.has_value());
    }
    EXPECT_TRUE(r.at_eof());
  }());
}

TEST(StreamReader, ReadexactlyEdgeCases) {
  run_test([]() -> aio::Task<> {
    aio::StreamReader r;
    EXPECT_THROW((void)r.readexactly(-1), pyconc::ValueError);
    EXPECT_EQ(co_await r.readexactly(0), "");
    r.feed_data("abcdefgh");
    EXPECT_EQ(co_await r.readexactly(3), "abc");
    r.feed_eof();
    try {
      (void)co_await r.readexactly(10);
      ADD_FAILURE() << "no IncompleteReadError";
    } catch (const aio::IncompleteReadError& e) {
      EXPECT_EQ(e.partial, "defgh");
      EXPECT_EQ(e.expected, 10U);
      EXPECT_STREQ(e.what(), "5 bytes read on a total of 10 expected bytes");
    }
  }());
}

TEST(StreamReader, ReadWaitsForFeedAndExceptionPropagates) {
  run_test([]() -> aio::Task<> {
    aio::StreamReader r;
    auto reader = aio::create_task([](aio::StreamReader r) -> aio::Task<std::string> {
      co_return co_await r.readexactly(6);
    }(r));
    co_await aio::sleep(0s);
    EXPECT_FALSE(reader.done());
    // A second reader while one waits: RuntimeError, as Python.
    EXPECT_THROW(co_await r.read(1), pyconc::RuntimeError);
    r.feed_data("abc");
    co_await aio::sleep(0s);
    EXPECT_FALSE(reader.done());
    r.feed_data("def");
    EXPECT_EQ(co_await reader, "abcdef");
    r.set_exception(std::make_exception_ptr(pyconc::ValueError("broken")));
    EXPECT_THROW(co_await r.read(), pyconc::ValueError);
    EXPECT_TRUE(r.exception() != nullptr);
  }());
}

TEST(StreamReader, CancelledReadLosesNoBytes) {
  run_test([]() -> aio::Task<> {
    aio::StreamReader r;
    auto reader = aio::create_task([](aio::StreamReader r) -> aio::Task<std::string> {
      co_return co_await r.readexactly(10);
    }(r));
    r.feed_data("01234");
    co_await aio::sleep(0s);
    EXPECT_FALSE(reader.done());
    reader.cancel();
    EXPECT_THROW(co_await reader, pyconc::CancelledError);
    r.feed_data("56789");
    EXPECT_EQ(co_await r.readexactly(10), "0123456789");
  }());
}

// ------------------------------------------------------------------ sockets

// A connected pair: the writer side from `a`, and the test's own stream on `b`.
struct Pair {
  aio::StreamReader r1;
  aio::StreamWriter w1;
  aio::StreamReader r2;
  aio::StreamWriter w2;
};
aio::Task<Pair> socket_pair(int sndbuf = 0) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw std::runtime_error("socketpair");
  if (sndbuf > 0) {
    for (int fd : sv) {
      ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof sndbuf);
    }
  }
  auto [r1, w1] = co_await aio::open_connection("", 0, {.sock = sv[0]});
  auto [r2, w2] = co_await aio::open_connection("", 0, {.sock = sv[1]});
  co_return Pair{r1, w1, r2, w2};
}

TEST(Streams, DrainParksUntilThePeerReads) {
  const int fds_before = count_fds();
  run_test([]() -> aio::Task<> {
    Pair p = co_await socket_pair(16 * 1024);
    const std::string chunk(32 * 1024, 'x');
    const int chunks = 64;  // 2 MiB: far more than the socket buffers hold
    std::size_t max_queued = 0;
    bool parked = false;
    auto writer = aio::create_task([](aio::StreamWriter w, const std::string& chunk, int chunks,
                                      std::size_t& max_queued, bool& parked) -> aio::Task<> {
      for (int i = 0; i < chunks; ++i) {
        w.write(chunk);
        max_queued = std::max(max_queued, w.get_write_buffer_size());
        if (w.get_write_buffer_size() > 64 * 1024) parked = true;  // drain() will park
        co_await w.drain();
      }
      w.close();
    }(p.w1, chunk, chunks, max_queued, parked));
    EXPECT_TRUE(co_await wait_until([&] { return parked; }));
    for (int i = 0; i < 20; ++i) co_await aio::sleep(0s);
    EXPECT_FALSE(writer.done());  // nobody reads: the writer stays parked in drain()
    EXPECT_LE(max_queued, 64 * 1024 + chunk.size());
    // The peer reads: the writer resumes, sends everything and closes.
    std::string all = co_await p.r2.read();
    co_await writer;
    EXPECT_EQ(all.size(), chunk.size() * chunks);
    EXPECT_LE(max_queued, 64 * 1024 + chunk.size());  // back-pressure held throughout
  }());
  EXPECT_EQ(count_fds(), fds_before);
}

TEST(Streams, CancelWhileDrainingKeepsTheQueue) {
  run_test([]() -> aio::Task<> {
    Pair p = co_await socket_pair(16 * 1024);
    const std::string big(512 * 1024, 'y');
    p.w1.write(big);
    EXPECT_GT(p.w1.get_write_buffer_size(), 64U * 1024);
    auto drainer =
        aio::create_task([](aio::StreamWriter w) -> aio::Task<> { co_await w.drain(); }(p.w1));
    co_await aio::sleep(0s);
    EXPECT_FALSE(drainer.done());
    drainer.cancel();
    EXPECT_THROW(co_await drainer, pyconc::CancelledError);
    // The queued bytes still go out once the peer reads.
    std::string got = co_await p.r2.readexactly(static_cast<std::ptrdiff_t>(big.size()));
    EXPECT_EQ(got, big);
    co_await p.w1.drain();
    EXPECT_EQ(p.w1.get_write_buffer_size(), 0U);
  }());
}

TEST(Streams, CancelWhileReadingLosesNoBytes) {
  run_test([]() -> aio::Task<> {
    Pair p = co_await socket_pair();
    auto reader = aio::create_task([](aio::StreamReader r) -> aio::Task<std::string> {
      co_return co_await r.readuntil("END");
    }(p.r1));
    p.w2.write("first part ");
    co_await p.w2.drain();
    EXPECT_TRUE(co_await wait_until([&] { return false; }, 20ms) == false);
    EXPECT_FALSE(reader.done());
    reader.cancel();
    EXPECT_THROW(co_await reader, pyconc::CancelledError);
    p.w2.write("second part END");
    EXPECT_EQ(co_await p.r1.readuntil("END"), "first part second part END");
  }());
}

TEST(Streams, WriteEofCloseAndWaitClosed) {
  run_test([]() -> aio::Task<> {
    Pair p = co_await socket_pair();
    EXPECT_TRUE(p.w1.can_write_eof());
    p.w1.writelines(std::vector<std::string>{"a", "b", "c"});
    p.w1.writelines({"d", "e"});
    p.w1.write_eof();
    EXPECT_THROW(p.w1.write("late"), pyconc::RuntimeError);
    EXPECT_EQ(co_await p.r2.read(), "abcde");
    EXPECT_TRUE(p.r2.at_eof());
    // Half-closed: the other direction still works.
    p.w2.write("reply");
    p.w2.close();
    EXPECT_TRUE(p.w2.is_closing());
    co_await p.w2.wait_closed();
    EXPECT_EQ(co_await p.r1.read(), "reply");
    // drain() on a closed writer: ConnectionResetError("Connection lost"), as Python.
    EXPECT_THROW(co_await p.w2.drain(), pyconc::ConnectionResetError);
    p.w2.write("dropped");  // silently dropped after close, as Python
  }());
}

TEST(Streams, ConcurrentReadersRaise) {
  run_test([]() -> aio::Task<> {
    Pair p = co_await socket_pair();
    auto first = aio::create_task(p.r1.read(10));
    co_await aio::sleep(0s);
    EXPECT_THROW(co_await p.r1.read(10), pyconc::RuntimeError);
    p.w2.write("x");
    EXPECT_EQ(co_await first, "x");
  }());
}

TEST(Streams, PeerResetRaisesConnectionError) {
  run_test([]() -> aio::Task<> {
    auto server = co_await aio::start_server(
        [](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
          (void)co_await r.read(1);
          w.close();
        },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    // Make our close a reset: the server's side then fails its sends.
    writer.write("x");
    co_await writer.drain();
    EXPECT_EQ(co_await reader.read(), "");  // the server closed
    // Writing to a closed peer: the kernel answers with RST; the second send fails.
    bool raised = false;
    try {
      for (int i = 0; i < 50 && !raised; ++i) {
        writer.write(std::string(1024, 'z'));
        co_await writer.drain();
        co_await aio::sleep(1ms);
      }
    } catch (const pyconc::ConnectionError&) {
      raised = true;
    }
    EXPECT_TRUE(raised);
    EXPECT_THROW(co_await writer.wait_closed(), pyconc::ConnectionError);
    server.close();
    co_await server.wait_closed();
  }());
}

TEST(Streams, ConnectionRefused) {
  const int fds_before = count_fds();
  // A bound socket that does not listen: connecting to it is refused.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  run_test([](int port) -> aio::Task<> {
    try {
      (void)co_await aio::open_connection("127.0.0.1", port);
      ADD_FAILURE() << "connected to a port nobody listens on";
    } catch (const pyconc::ConnectionRefusedError& e) {
      EXPECT_EQ(e.errno_(), ECONNREFUSED);
      EXPECT_NE(std::string(e.what()).find("127.0.0.1"), std::string::npos) << e.what();
    }
  }(port));
  ::close(fd);
  EXPECT_EQ(count_fds(), fds_before);
}

TEST(Streams, CancelWhileConnectingClosesTheSocket) {
  // A listener with a full accept queue: a further connect stays in progress (SYN dropped).
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(lfd, 0), 0);
  socklen_t len = sizeof a;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 3; ++i) {  // backlog 0 holds one; the rest hang in SYN_SENT
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fillers.push_back(c);
  }
  const int fds_before = count_fds();
  run_test([](int port) -> aio::Task<> {
    auto connecting = aio::create_task(aio::open_connection("127.0.0.1", port));
    co_await aio::sleep(20ms);
    if (connecting.done()) {
      GTEST_LOG_(INFO) << "the kernel accepted the connect at once; nothing to cancel";
      (void)connecting.exception();
      co_return;
    }
    connecting.cancel();
    EXPECT_THROW(co_await connecting, pyconc::CancelledError);
  }(ntohs(a.sin_port)));
  EXPECT_EQ(count_fds(), fds_before);
  for (int c : fillers) ::close(c);
  ::close(lfd);
}

TEST(Streams, ExtraInfo) {
  run_test([]() -> aio::Task<> {
    std::optional<aio::SocketAddress> server_peer;
    auto server = co_await aio::start_server(
        [&server_peer](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
          server_peer = w.get_extra_info("peername");
          w.write(co_await r.read(1));
        },
        "127.0.0.1", 0);
    auto [reader, writer] =
        co_await aio::open_connection("localhost", server.port(), {.family = AF_INET});
    writer.write("x");
    EXPECT_EQ(co_await reader.read(1), "x");
    auto peer = writer.get_extra_info("peername");
    auto local = writer.get_extra_info("sockname");
    EXPECT_TRUE(peer && local && server_peer);
    if (!peer || !local || !server_peer) co_return;
    EXPECT_EQ(peer->host, "127.0.0.1");
    EXPECT_EQ(peer->port, server.port());
    EXPECT_EQ(*server_peer, *local);
    EXPECT_EQ(peer->to_string(), "127.0.0.1:" + std::to_string(server.port()));
    EXPECT_FALSE(writer.get_extra_info("socket").has_value());
  }());
}

TEST(Streams, LocalAddr) {
  run_test([]() -> aio::Task<> {
    auto server = co_await aio::start_server(
        [](aio::StreamReader, aio::StreamWriter w) -> aio::Task<> {
          w.write(w.get_extra_info("peername")->host + "\n");
          co_return;
        },
        "127.0.0.1", 0);
    std::string local = "127.0.0.1";
    auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port(),
                                                {.local_addr = std::pair{local, 0}});
    EXPECT_EQ(co_await r.readline(), "127.0.0.1\n");
    EXPECT_EQ(w.get_extra_info("sockname")->host, "127.0.0.1");
  }());
}

TEST(Streams, ResolveErrors) {
  run_test([]() -> aio::Task<> {
    EXPECT_THROW(co_await aio::open_connection("127.0.0.1", 70000), pyconc::ValueError);
    EXPECT_THROW(co_await aio::open_connection("name.invalid", 80), pyconc::OSError);
  }());
}

// ------------------------------------------------------------------ server

TEST(Server, CallbackExceptionIsReportedAndServingGoesOn) {
  std::vector<std::string> reports;
  run_test([](std::vector<std::string>& reports) -> aio::Task<> {
    aio::get_running_loop().set_exception_handler(
        [&reports](aio::EventLoop&, const aio::ExceptionContext& ctx) {
          reports.push_back(ctx.message);
        });
    auto server = co_await aio::start_server(
        [](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
          std::string cmd = co_await r.readline();
          if (cmd == "boom\n") throw pyconc::ValueError("handler failed");
          w.write("ok\n");
        },
        "127.0.0.1", 0);
    {
      auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port());
      w.write("boom\n");
      EXPECT_EQ(co_await r.read(), "");  // the failed handler's connection is closed
    }
    auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port());
    w.write("hello\n");
    EXPECT_EQ(co_await r.readline(), "ok\n");
  }(reports));
  ASSERT_EQ(reports.size(), 1U);
  EXPECT_EQ(reports[0], "Unhandled exception in client_connected_cb");
}

TEST(Server, CloseWithLiveConnections) {
  const int fds_before = count_fds();
  run_test([]() -> aio::Task<> {
    int handlers_done = 0;
    auto server = co_await aio::start_server(
        [&handlers_done](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
          w.write("hi\n");
          (void)co_await r.read();  // until the client closes
          ++handlers_done;
        },
        "127.0.0.1", 0);
    const int port = server.port();
    std::vector<std::pair<aio::StreamReader, aio::StreamWriter>> clients;
    for (int i = 0; i < 3; ++i) {
      clients.push_back(co_await aio::open_connection("127.0.0.1", port));
      EXPECT_EQ(co_await clients.back().first.readline(), "hi\n");
    }
    EXPECT_EQ(server.active_connections(), 3U);
    server.close();
    EXPECT_FALSE(server.is_serving());
    EXPECT_TRUE(server.sockets().empty());
    EXPECT_THROW(co_await aio::open_connection("127.0.0.1", port), pyconc::ConnectionRefusedError);
    // wait_closed() waits for the live connections (Python 3.12).
    auto waiter = aio::create_task(server.wait_closed());
    co_await aio::sleep(5ms);
    EXPECT_FALSE(waiter.done());
    clients[0].second.close();
    EXPECT_TRUE(co_await wait_until([&] { return handlers_done == 1; }));
    EXPECT_FALSE(waiter.done());
    server.close_clients();  // Python 3.13: the rest are closed by the server
    co_await waiter;
    EXPECT_EQ(server.active_connections(), 0U);
    for (auto& c : clients) EXPECT_EQ(co_await c.first.read(), "");
    EXPECT_EQ(handlers_done, 3);
  }());
  EXPECT_EQ(count_fds(), fds_before);
}

TEST(Server, ServeForeverEndsWithCancelledErrorWhenClosed) {
  run_test([]() -> aio::Task<> {
    auto server = co_await aio::start_server(
        [](aio::StreamReader, aio::StreamWriter) -> aio::Task<> { co_return; }, "127.0.0.1", 0,
        {.start_serving = false});
    EXPECT_FALSE(server.is_serving());
    auto forever = aio::create_task(server.serve_forever());
    co_await aio::sleep(0s);
    EXPECT_TRUE(server.is_serving());
    EXPECT_THROW(co_await server.serve_forever(), pyconc::RuntimeError);  // one at a time
    server.close();
    EXPECT_THROW(co_await forever, pyconc::CancelledError);
    EXPECT_THROW(co_await server.serve_forever(), pyconc::RuntimeError);  // closed

    // Cancelling serve_forever() closes the server.
    auto second = co_await aio::start_server(
        [](aio::StreamReader, aio::StreamWriter) -> aio::Task<> { co_return; }, "127.0.0.1", 0);
    auto forever2 = aio::create_task(second.serve_forever());
    co_await aio::sleep(0s);
    forever2.cancel();
    EXPECT_THROW(co_await forever2, pyconc::CancelledError);
    EXPECT_FALSE(second.is_serving());
    co_await second.wait_closed();
  }());
}

TEST(Server, PlainCallbackAndReusePort) {
  run_test([]() -> aio::Task<> {
    int calls = 0;
    auto first = co_await aio::start_server(
        [&calls](aio::StreamReader, aio::StreamWriter w) {
          ++calls;
          w.write("plain\n");
        },
        "127.0.0.1", 0, {.reuse_port = true});
    // A second server on the same port (one loop per core would do this).
    auto second = co_await aio::start_server(
        [](aio::StreamReader, aio::StreamWriter w) { w.write("plain\n"); }, "127.0.0.1",
        first.port(), {.reuse_port = true});
    EXPECT_EQ(second.port(), first.port());
    auto [r, w] = co_await aio::open_connection("127.0.0.1", first.port());
    EXPECT_EQ(co_await r.readline(), "plain\n");
    // Without reuse_port the port is taken.
    EXPECT_THROW(co_await aio::start_server([](aio::StreamReader, aio::StreamWriter) {},
                                            "127.0.0.1", first.port()),
                 pyconc::OSError);
  }());
}

TEST(Streams, LargeTransferThroughEcho) {
  run_test([]() -> aio::Task<> {
    auto server = co_await aio::start_server(
        [](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
          while (true) {
            std::string chunk = co_await r.read(64 * 1024);
            if (chunk.empty()) break;
            w.write(chunk);
            co_await w.drain();
          }
          w.close();
        },
        "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
    std::string data(8 * 1024 * 1024, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 % 251);
    auto sender = aio::create_task([](aio::StreamWriter w, const std::string& data) -> aio::Task<> {
      for (std::size_t off = 0; off < data.size(); off += 100'000) {
        w.write(std::string_view(data).substr(off, 100'000));
        co_await w.drain();
      }
      w.write_eof();
    }(writer, data));
    std::string back = co_await reader.read();
    co_await sender;
    EXPECT_TRUE(back == data);
  }());
}

}  // namespace
