// pyconc/asyncio/socket_address.hpp -- an address of a TCP endpoint, as streams report it.
//
// Python: the tuples socket.getpeername()/getsockname() return -- ("127.0.0.1", 8888) for IPv4,
// ("::1", 8888, flowinfo, scope_id) for IPv6 -- seen through
// writer.get_extra_info("peername"/"sockname") and server.sockets()[0].getsockname().
//   auto peer = writer.get_extra_info("peername");   // std::optional<aio::SocketAddress>
//   print(peer->host, peer->port, peer->to_string());  // 127.0.0.1 51334 127.0.0.1:51334
// Difference: one struct for both families (flowinfo/scope_id are 0 for IPv4).
// Thread safety: a plain value.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace pyconc::asyncio {

struct SocketAddress {
  std::string host{};  // numeric: "127.0.0.1", "::1" (a Unix socket: its path)
  int port = 0;
  int family = 0;  // AF_INET, AF_INET6 (or AF_UNIX)
  std::uint32_t flowinfo = 0;
  std::uint32_t scope_id = 0;

  // "127.0.0.1:8888", "[::1]:8888" (a Unix socket: its path).
  std::string to_string() const;
  friend bool operator==(const SocketAddress&, const SocketAddress&) = default;
  friend std::ostream& operator<<(std::ostream& os, const SocketAddress& a) {
    return os << a.to_string();
  }
};

}  // namespace pyconc::asyncio
