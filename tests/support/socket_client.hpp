// tests/support/socket_client.hpp -- a blocking loopback TCP client for the server tests:
// connect (every send/receive bounded by a timeout, so a server bug fails a test instead of
// hanging it), send everything, read until the server closes.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace test_support {

// A socket connected to 127.0.0.1:`port`, or -1. Reads and writes time out after
// `timeout_s` seconds.
inline int connect_to(int port, long timeout_s = 5) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Everything until the server closes (or the receive timeout passes).
inline std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// Connects, sends `request`, returns everything until the server closes ("<connect failed>"
// when nothing listens).
inline std::string exchange(int port, std::string_view request, long timeout_s = 10) {
  const int fd = connect_to(port, timeout_s);
  if (fd < 0) return "<connect failed>";
  send_all(fd, request);
  std::string out = read_all(fd);
  ::close(fd);
  return out;
}

}  // namespace test_support
