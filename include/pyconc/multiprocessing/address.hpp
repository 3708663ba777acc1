// pyconc/multiprocessing/address.hpp -- Address: where a Listener listens, a Client or a
// Manager connects.
//
// Python: multiprocessing.connection's addresses -- a (host, port) tuple for AF_INET, a path
// string for AF_UNIX (a leading '\0' names Linux's abstract namespace: no file on disk).
//
//   mp::Address tcp{"127.0.0.1", 6000};          // ("127.0.0.1", 6000)
//   mp::Address any{"127.0.0.1", 0};             // the system picks the port; ask address()
//   auto unix_sock = mp::Address::unix_path("/tmp/s.sock");   // "/tmp/s.sock"
//
// An Address is Serializable, so it can be sent to another process (as a proxy's token does).
// Thread safety: a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "pyconc/errors.hpp"

namespace pyconc::multiprocessing {

struct Address {
  // No address (a Manager then picks a private one).
  Address() = default;
  // TCP: a host name or numeric address ("127.0.0.1", "::1", ""), and a port (0: the system
  // picks one; the Listener's / Manager's address() tells which).
  // ValueError if the port is outside 0..65535.
  Address(std::string host_, int port_) : host(std::move(host_)), port(checked_port(port_)) {}
  // A Unix socket: a file path, or '\0' + name (Linux's abstract namespace).
  static Address unix_path(std::string path) {
    Address a;
    a.path = std::move(path);
    return a;
  }

  std::string host;
  std::uint16_t port = 0;
  std::string path;  // a Unix socket when set

  bool is_unix() const noexcept { return !path.empty(); }
  // "host:port", or the path (an abstract name shows as "@name"), for messages.
  std::string str() const;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(host, port, path);
  }
  friend bool operator==(const Address&, const Address&) = default;

 private:
  static std::uint16_t checked_port(int p) {
    if (p < 0 || p > 65535) {
      throw ValueError("port must be 0-65535, not " + std::to_string(p));
    }
    return static_cast<std::uint16_t>(p);
  }
};

}  // namespace pyconc::multiprocessing
