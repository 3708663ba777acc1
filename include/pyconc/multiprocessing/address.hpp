// pyconc/multiprocessing/address.hpp -- Address: where a Listener listens, a Client or a
// Manager connects.
//
// Python: multiprocessing.connection's addresses -- a (host, port) tuple for AF_INET, a path
// string for AF_UNIX (a leading '\0' names Linux's abstract namespace: no file on disk).
//
//   mp::Address tcp{"127.0.0.1", 6000};          // ("127.0.0.1", 6000)
//   mp::Address any{"127.0.0.1", 0};             // the system picks the port; ask address()
//   mp::Address unix_sock{.path = "/tmp/s.sock"}; // "/tmp/s.sock"
//
// An Address is Serializable, so it can be sent to another process (as a proxy's token does).
// Thread safety: a plain value.
#pragma once

#include <cstdint>
#include <string>

namespace pyconc::multiprocessing {

struct Address {
  std::string host;        // TCP: a host name or numeric address ("127.0.0.1", "::1", "")
  std::uint16_t port = 0;  // TCP: 0 lets the system pick (the Listener's address() tells)
  std::string path;        // Unix socket: a file path, or '\0' + name (abstract). Wins if set.

  bool is_unix() const noexcept { return !path.empty(); }
  // "host:port", or the path (an abstract name shows as "@name"), for messages.
  std::string str() const;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(host, port, path);
  }
  friend bool operator==(const Address&, const Address&) = default;
};

}  // namespace pyconc::multiprocessing
