#include "pyconc/multiprocessing/connection.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "mp_test_util.hpp"
#include "pyconc/multiprocessing/process.hpp"

using namespace std::chrono_literals;
namespace mp = pyconc::multiprocessing;
using mp_test::MpTest;

class ConnectionTest : public MpTest {};

TEST_F(ConnectionTest, SendAndRecvValuesBothWays) {
  auto [c1, c2] = mp::Pipe();
  c1.send(std::string("hi"));
  EXPECT_TRUE(c2.poll(1s));
  EXPECT_EQ(c2.recv<std::string>(), "hi");
  EXPECT_FALSE(c2.poll());
  c2.send(std::map<std::string, int>{{"a", 1}, {"b", 2}});
  c2.send(42);
  EXPECT_EQ((c1.recv<std::map<std::string, int>>()),
            (std::map<std::string, int>{{"a", 1}, {"b", 2}}));
  EXPECT_EQ(c1.recv<int>(), 42);
  EXPECT_TRUE(c1.readable() && c1.writable());
}

TEST_F(ConnectionTest, BetweenProcessesLikeTheSeed) {
  auto [conn1, conn2] = mp::Pipe();
  auto func = [](mp::Connection conn, std::string info) {
    conn.send(info);
    const auto got = conn.recv<std::string>();
    conn.send("got " + got);
  };
  mp::Process p1(func, conn1, std::string("Hello!"));
  mp::Process p2(func, conn2, std::string("你好!"));
  p1.start();
  p2.start();
  p1.join();
  p2.join();
  EXPECT_EQ(p1.exitcode(), 0);
  EXPECT_EQ(p2.exitcode(), 0);
  // Each sent its greeting, read the other's, and answered: the answers are left over.
  EXPECT_EQ(conn1.recv<std::string>(), "got Hello!");
  EXPECT_EQ(conn2.recv<std::string>(), "got 你好!");
}

TEST_F(ConnectionTest, LargeMessagesAndBytes) {
  auto [a, b] = mp::Pipe();
  const std::string big(8 << 20, 'x');
  mp::Process p([b, big]() mutable {
    b.send_bytes(big);
    b.send(std::vector<int>(100000, 7));
    b.send_bytes("");
    b.send_bytes("0123456789", 2, 3);
  });
  p.start();
  EXPECT_EQ(a.recv_bytes(), big);
  EXPECT_EQ(a.recv<std::vector<int>>(), std::vector<int>(100000, 7));
  EXPECT_EQ(a.recv_bytes(), "");
  EXPECT_EQ(a.recv_bytes(), "234");
  p.join();
  EXPECT_THROW(a.send_bytes("abc", 4), pyconc::ValueError);
  EXPECT_THROW(a.send_bytes("abc", 1, 3), pyconc::ValueError);
}

TEST_F(ConnectionTest, EndOfStreamIsEOFErrorAndBrokenPipe) {
  auto [a, b] = mp::Pipe();
  b.send(1);
  b.close();
  EXPECT_TRUE(b.closed());
  EXPECT_EQ(a.recv<int>(), 1);  // what was sent before the close is still delivered
  EXPECT_TRUE(a.poll(1s));      // readable: at the end
  EXPECT_THROW(a.recv<int>(), pyconc::EOFError);
  EXPECT_THROW(a.send(2), pyconc::BrokenPipeError);
  EXPECT_THROW(b.send(2), pyconc::OSError);
  EXPECT_THROW(b.fileno(), pyconc::OSError);
}

TEST_F(ConnectionTest, EOFOnceTheChildClosesItsEnd) {
  auto [a, b] = mp::Pipe();
  mp::Process p([b]() mutable { b.send(std::string("bye")); });
  p.start();
  b.close();  // our copy: the child holds the last one
  EXPECT_EQ(a.recv<std::string>(), "bye");
  EXPECT_THROW(a.recv<std::string>(), pyconc::EOFError);
  p.join();
}

TEST_F(ConnectionTest, OneWayPipe) {
  auto [r, w] = mp::Pipe(false);
  EXPECT_TRUE(r.readable());
  EXPECT_FALSE(r.writable());
  EXPECT_FALSE(w.readable());
  w.send(3.5);
  EXPECT_DOUBLE_EQ(r.recv<double>(), 3.5);
  EXPECT_THROW(r.send(1), pyconc::OSError);
  EXPECT_THROW(w.recv<int>(), pyconc::OSError);
  EXPECT_THROW(w.poll(), pyconc::OSError);
}

TEST_F(ConnectionTest, WrongTypeAndTooLongAreErrors) {
  auto [a, b] = mp::Pipe();
  b.send(std::string("text"));
  EXPECT_THROW(a.recv<int>(), pyconc::ValueError);
  b.send_bytes(std::string(100, 'z'));
  EXPECT_THROW(a.recv_bytes(10), pyconc::OSError);
  EXPECT_TRUE(a.closed());  // out of step: closed, as Python does
}

TEST_F(ConnectionTest, PollTimesOutAndFilenoWorksWithPoll) {
  auto [a, b] = mp::Pipe();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(a.poll(50ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 50ms);
  EXPECT_THROW(a.poll(-1ms), pyconc::ValueError);
  b.send(1);
  pollfd pf{a.fileno(), POLLIN, 0};
  EXPECT_EQ(::poll(&pf, 1, 1000), 1);
  EXPECT_EQ(a.recv<int>(), 1);
}

TEST_F(ConnectionTest, CopiesShareTheEnd) {
  auto [a, b] = mp::Pipe();
  mp::Connection a2 = a;
  b.send(5);
  EXPECT_EQ(a2.recv<int>(), 5);
  a2.close();
  EXPECT_TRUE(a.closed());
  mp::Connection none;
  EXPECT_TRUE(none.closed());
  EXPECT_THROW(none.send(1), pyconc::OSError);
}
