// mp::connection::Listener / Client / wait: TCP and Unix sockets, the authkey challenge (wrong
// key, garbage, silence: that connection is closed, the listener goes on), wait() readiness,
// and a peer process killed mid-conversation.
#include "pyconc/multiprocessing/listener.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <map>
#include <string>
#include <vector>

#include "mp_test_util.hpp"
#include "pyconc/multiprocessing/process.hpp"

using namespace std::chrono_literals;
namespace mp = pyconc::multiprocessing;
namespace conn = pyconc::multiprocessing::connection;
using mp_test::closed_by_peer;
using mp_test::MpTest;
using mp_test::raw_connect;

class ListenerTest : public MpTest {};

TEST_F(ListenerTest, TcpWithAuthkeySendsAndReceivesValues) {
  conn::Listener l({"127.0.0.1", 0}, {.authkey = "secret"});
  ASSERT_NE(l.address().port, 0);
  auto accepted = std::async(std::launch::async, [&] { return l.accept(); });
  auto c = conn::Client(l.address(), {.authkey = "secret"});
  auto s = accepted.get();
  c.send(std::map<std::string, int>{{"a", 1}});
  EXPECT_EQ((s.recv<std::map<std::string, int>>()), (std::map<std::string, int>{{"a", 1}}));
  s.send(std::string("pong"));
  EXPECT_EQ(c.recv<std::string>(), "pong");
  c.close();
  EXPECT_THROW(s.recv<int>(), pyconc::EOFError);
}

TEST_F(ListenerTest, WrongKeyGarbageAndSilenceAreRefusedAndTheListenerGoesOn) {
  conn::Listener l({"127.0.0.1", 0}, {.authkey = "secret", .handshake_timeout = 300ms});
  // A wrong key: both sides raise; that connection is closed.
  {
    auto accepted = std::async(std::launch::async, [&] { return l.accept(); });
    EXPECT_THROW(conn::Client(l.address(), {.authkey = "wrong"}), mp::AuthenticationError);
    EXPECT_THROW(accepted.get(), mp::AuthenticationError);
  }
  // A client without a key does not answer the challenge: refused.
  {
    auto accepted = std::async(std::launch::async, [&] { return l.accept(); });
    auto plain = conn::Client(l.address());
    plain.send(std::string("let me in"));
    EXPECT_THROW(accepted.get(), mp::AuthenticationError);
    EXPECT_TRUE(plain.recv_bytes().starts_with("#CHALLENGE#"));  // what it did not answer
    EXPECT_EQ(plain.recv_bytes(), "#FAILURE#");
    EXPECT_THROW(plain.recv_bytes(), pyconc::EOFError);  // then closed
  }
  // Garbage.
  {
    auto accepted = std::async(std::launch::async, [&] { return l.accept(); });
    const int raw = raw_connect(l.address().port);
    ASSERT_GE(raw, 0);
    const char junk[] = "\xff\xff\xff\x7fgarbage garbage";
    ASSERT_GT(::send(raw, junk, sizeof junk - 1, MSG_NOSIGNAL), 0);
    EXPECT_THROW(accepted.get(), mp::AuthenticationError);
    EXPECT_TRUE(closed_by_peer(raw));
    ::close(raw);
  }
  // Silence: bounded by handshake_timeout.
  {
    auto accepted = std::async(std::launch::async, [&] { return l.accept(); });
    const int raw = raw_connect(l.address().port);
    ASSERT_GE(raw, 0);
    EXPECT_THROW(accepted.get(), mp::AuthenticationError);
    ::close(raw);
  }
  // The listener still serves a good client.
  auto accepted = std::async(std::launch::async, [&] { return l.accept(); });
  auto c = conn::Client(l.address(), {.authkey = "secret"});
  auto s = accepted.get();
  c.send(42);
  EXPECT_EQ(s.recv<int>(), 42);
}

TEST_F(ListenerTest, UnixSocketWithoutAuthkeyAndItsFileIsRemoved) {
  char dir[] = "/tmp/pyconc-listener-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/s.sock";
  {
    conn::Listener l(mp::Address::unix_path(path));
    EXPECT_EQ(::access(path.c_str(), F_OK), 0);
    auto accepted = std::async(std::launch::async, [&] { return l.accept(); });
    auto c = conn::Client(l.address());
    auto s = accepted.get();
    s.send(std::vector<int>{1, 2, 3});
    EXPECT_EQ(c.recv<std::vector<int>>(), (std::vector<int>{1, 2, 3}));
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
  ::rmdir(dir);
  EXPECT_THROW(conn::Client(mp::Address::unix_path(path)), pyconc::FileNotFoundError);
  EXPECT_THROW(conn::Listener(mp::Address{}), pyconc::ValueError);
}

TEST_F(ListenerTest, NobodyListening) {
  std::uint16_t port = 0;
  {
    conn::Listener l({"127.0.0.1", 0});
    port = l.address().port;
  }
  EXPECT_THROW(conn::Client({"127.0.0.1", port}), pyconc::ConnectionRefusedError);
  EXPECT_THROW(conn::Listener({"no-such-host.invalid", 1}), pyconc::OSError);
  EXPECT_THROW(mp::Address("127.0.0.1", 70000), pyconc::ValueError);
}

TEST_F(ListenerTest, WaitReturnsTheReadyConnections) {
  auto [a1, a2] = mp::Pipe();
  auto [b1, b2] = mp::Pipe();
  EXPECT_TRUE(conn::wait({&a1, &b1}, 0s).empty());
  EXPECT_TRUE(conn::wait({&a1, &b1}, 20ms).empty());
  b2.send(1);
  EXPECT_EQ(conn::wait({&a1, &b1}, 1s), (std::vector<mp::Connection*>{&b1}));
  a2.send(2);
  EXPECT_EQ(conn::wait({&a1, &b1}), (std::vector<mp::Connection*>{&a1, &b1}));
  EXPECT_EQ(b1.recv<int>(), 1);
  EXPECT_EQ(a1.recv<int>(), 2);
  a2.close();  // end of stream counts as ready: recv() will not block
  EXPECT_EQ(conn::wait({&a1, &b1}, 1s), (std::vector<mp::Connection*>{&a1}));
  EXPECT_THROW(conn::wait({&a1}, -1s), pyconc::ValueError);
  b1.close();
  EXPECT_THROW(conn::wait({&b1}, 0s), pyconc::OSError);
}

// A client process killed mid-conversation: the server side sees EOFError, never hangs.
TEST_F(ListenerTest, AClientProcessKilledMidConversation) {
  conn::Listener l({"127.0.0.1", 0}, {.authkey = "k"});
  mp::Process p(
      [](mp::Address a) {
        auto c = conn::Client(a, {.authkey = "k"});
        c.send(std::string("hello"));
        for (;;) ::pause();
      },
      l.address());
  p.start();
  auto s = l.accept();
  EXPECT_EQ(s.recv<std::string>(), "hello");
  p.kill();
  EXPECT_TRUE(s.poll(20s));
  EXPECT_THROW(s.recv<std::string>(), pyconc::Error);
  p.join();
  l.close();
  EXPECT_TRUE(l.closed());
}

// AuthenticationError is one of the types the serialization layer rebuilds by name.
TEST_F(ListenerTest, AuthenticationErrorCrossesProcessesWithItsType) {
  const std::string bytes =
      mp::dumps_exception(std::make_exception_ptr(mp::AuthenticationError("digest was wrong")));
  try {
    mp::rethrow_exception_bytes(bytes);
    FAIL() << "nothing thrown";
  } catch (const mp::AuthenticationError& e) {
    EXPECT_STREQ(e.what(), "digest was wrong");
  }
  EXPECT_THROW(mp::rethrow_exception_bytes(
                   mp::dumps_exception(std::make_exception_ptr(mp::ProcessError("x")))),
               mp::ProcessError);
}
