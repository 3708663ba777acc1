// pyconc/asyncio/detail/socket.hpp -- the small socket layer under streams: addresses, name
// resolution without blocking the loop, non-blocking TCP connect and listening sockets.
//
// Every socket is created SOCK_NONBLOCK | SOCK_CLOEXEC. Addresses are kept as sockaddr_storage
// (IPv4 and IPv6 alike). Name resolution:
//   - numeric hosts ("127.0.0.1", "::1", "fe80::1%eth0") are parsed in place (no thread, no
//     DNS): the fast path of open_connection/start_server;
//   - names go through getaddrinfo(), which blocks, so resolve() runs it on a worker thread;
//     the awaiting task stays cancellable (it unparks at once; the thread's answer is dropped).
// Connecting: connect_socket() starts a non-blocking connect, waits for writability on the
// socket's IoHandle (EINPROGRESS) and reads SO_ERROR, raising ConnectionError for a refusal.
//
// Thread safety: the free functions may be called from any thread; resolve() and
// connect_socket() are awaited in a task on a loop thread.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pyconc/asyncio/detail/io_handle.hpp"
#include "pyconc/asyncio/socket_address.hpp"
#include "pyconc/asyncio/task.hpp"
#include "pyconc/detail/unique_fd.hpp"

namespace pyconc::detail {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;

  int family() const noexcept { return storage.ss_family; }
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&storage); }
  asyncio::SocketAddress to_public() const;
  std::string to_string() const { return to_public().to_string(); }
};

// `host` parsed as a numeric IPv4 or IPv6 address (an IPv6 one may carry a %scope), or nullopt
// when it is a name. ValueError for a port outside 0..65535.
std::optional<SockAddr> parse_numeric_host(const std::string& host, int port);

// getaddrinfo() for TCP: the addresses of `host` (empty host: the wildcard addresses of every
// family when `passive`, else the loopback ones), in the resolver's order, duplicates removed.
// Blocks on DNS. `family` is AF_UNSPEC, AF_INET or AF_INET6. OSError (Python's socket.gaierror:
// errno_() is the negative EAI_* code, filename() the host) when the name does not resolve.
std::vector<SockAddr> getaddrinfo_tcp(const std::string& host, int port, int family, bool passive);

// The addresses of `host`:`port` without blocking the loop: numeric hosts at once, names with
// getaddrinfo_tcp() on a worker thread. Cancellable.
asyncio::Task<std::vector<SockAddr>> resolve(std::string host, int port, int family, bool passive);

// A new non-blocking, close-on-exec socket. OSError on failure.
UniqueFd open_socket(int family, int type = SOCK_STREAM);
// setsockopt(fd, level, name, int value). OSError on failure.
void set_socket_option(int fd, int level, int name, int value, const char* what);
// TCP_NODELAY (asyncio sets it on every TCP transport); ignored on a non-TCP socket.
void set_nodelay(int fd) noexcept;

// getsockname()/getpeername(); nullopt if the call fails (e.g. the peer is gone).
std::optional<SockAddr> local_address(int fd) noexcept;
std::optional<SockAddr> peer_address(int fd) noexcept;

// Connects the non-blocking socket behind `io` to `to`, awaiting writability when the connect
// is in progress. Raises the OSError of the failure (ConnectionError for ECONNREFUSED and the
// like) naming the address. Cancellable: the socket stays the caller's to close.
asyncio::Task<> connect_socket(IoHandle& io, SockAddr to);

// Options of a listening socket.
struct ListenOptions {
  int backlog = 100;
  bool reuse_address = true;  // SO_REUSEADDR (Python's default on POSIX)
  bool reuse_port = false;    // SO_REUSEPORT: several sockets (one loop each) share the port
  bool ipv6_only = false;     // IPV6_V6ONLY, set when IPv4 and IPv6 sockets share a port
};
// A socket bound to `at` and listening into `out`: 0, or the errno of the failed step (its
// name in `*failed_call`: "socket", "bind", ...).
int open_listener(const SockAddr& at, const ListenOptions& options, UniqueFd& out,
                  const char** failed_call) noexcept;

// accept4() of one pending connection, non-blocking and close-on-exec: the new socket's fd
// (and its peer in `peer`), or -errno (-EAGAIN when none is pending).
int accept_connection(int listen_fd, SockAddr& peer) noexcept;

}  // namespace pyconc::detail
