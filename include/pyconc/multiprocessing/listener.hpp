// pyconc/multiprocessing/listener.hpp -- Listener, Client and wait: Connections between
// processes that did not start each other (TCP or Unix sockets), with an authkey.
//
// Python: multiprocessing.connection.Listener / Client / wait.
//
//   namespace conn = mp::connection;
//   conn::Listener l({"127.0.0.1", 6000}, {.authkey = "secret"});   // port 0: any free port
//   auto c = l.accept();                       // an mp::Connection: send/recv Serializable values
//   auto d = conn::Client(l.address(), {.authkey = "secret"});       // in another process
//   auto ready = conn::wait({&c1, &c2}, 1s);   // the connections with something to read
//
// With an authkey, each new connection runs Python's challenge both ways (HMAC-SHA256 over 40
// random bytes, detail/socket.hpp) before anything else: a client with a wrong key, or one
// that sends garbage, closes the connection, or stays silent past handshake_timeout, makes
// accept() raise AuthenticationError after closing that connection -- the Listener stays open
// and the next accept() serves the next client. Client() raises AuthenticationError when the
// listener refuses its key (or has none while the client has one). Without an authkey there is
// no challenge (Python: authkey=None). A Unix socket file is removed by close().
// Errors: OSError subclasses for socket failures (ConnectionRefusedError: nobody listens;
// OSError("listener is closed")), ValueError for a bad timeout or a too-long socket path.
// Thread safety: any thread may call accept(); each accepted Connection then follows
// Connection's rules (one thread at a time per direction). close() must not race accept().
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/unique_fd.hpp"
#include "pyconc/multiprocessing/address.hpp"
#include "pyconc/multiprocessing/connection.hpp"
#include "pyconc/multiprocessing/exceptions.hpp"

namespace pyconc::multiprocessing::connection {

using multiprocessing::Address;
using multiprocessing::AuthenticationError;
using multiprocessing::Connection;
using multiprocessing::Pipe;

// Listener's keyword arguments.
struct ListenerOptions {
  std::string authkey{};  // empty: no challenge
  int backlog = 16;       // Python's default is 1
  // How long a new client may take to answer the challenge.
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(20);
};

// Python: multiprocessing.connection.Listener.
class Listener {
 public:
  // Binds and listens now. OSError (e.g. address in use) if it cannot; ValueError for an empty
  // address.
  explicit Listener(Address address, ListenerOptions options = {});
  Listener(Listener&&) noexcept = default;
  Listener& operator=(Listener&&) noexcept;
  // close().
  ~Listener();

  // The next client's connection, after the challenge (see the header comment). Blocks.
  Connection accept();
  // Stops listening (and removes a Unix socket file). Idempotent.
  void close() noexcept;
  // The address listened on: a TCP port 0 has become the real port. What Client() takes.
  const Address& address() const noexcept { return address_; }
  bool closed() const noexcept { return !fd_; }
  // The listening descriptor (for poll/epoll). OSError if closed.
  int fileno() const;

 private:
  detail::UniqueFd fd_;
  Address address_;
  ListenerOptions options_;
};

// Client's keyword arguments.
struct ClientOptions {
  std::string authkey{};  // empty: no challenge
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(20);
};

// Python: multiprocessing.connection.Client(address, authkey=...) -- a Connection to a
// Listener. ConnectionRefusedError/FileNotFoundError when nobody listens; AuthenticationError
// when the key is refused.
Connection Client(const Address& address, ClientOptions options = {});

// Python: multiprocessing.connection.wait(object_list, timeout) -- the connections of `conns`
// that have a message waiting or whose other end closed (so recv() will not block), in their
// order; empty when `timeout` passes first. Without a timeout: waits until one is ready.
// OSError if one of them is closed; ValueError for a negative timeout.
std::vector<Connection*> wait(const std::vector<Connection*>& conns);
template <class Rep, class Period>
std::vector<Connection*> wait(const std::vector<Connection*>& conns,
                              std::chrono::duration<Rep, Period> timeout);

namespace detail_wait {
std::vector<Connection*> wait_until(const std::vector<Connection*>& conns,
                                    pyconc::detail::Clock::time_point deadline);
}

template <class Rep, class Period>
std::vector<Connection*> wait(const std::vector<Connection*>& conns,
                              std::chrono::duration<Rep, Period> timeout) {
  return detail_wait::wait_until(conns, pyconc::detail::deadline_after(timeout));
}

}  // namespace pyconc::multiprocessing::connection
