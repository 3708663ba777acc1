#include <arpa/inet.h>
#include <dirent.h>
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

int count_fds() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d) != nullptr) ++n;
    ::closedir(d);
  }
  return n;
}

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

}  // namespace
