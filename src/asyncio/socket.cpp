// The socket layer under streams: addresses, resolution, connect, listen, accept.
#include "pyconc/asyncio/detail/socket.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "pyconc/asyncio/threads.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::asyncio {

std::string SocketAddress::to_string() const {
  if (family == AF_INET6) return "[" + host + "]:" + std::to_string(port);
  if (family == AF_UNIX) return host;
  return host + ":" + std::to_string(port);
}

}  // namespace pyconc::asyncio

namespace pyconc::detail {
namespace {

void check_port(int port) {
  if (port < 0 || port > 65535) {
    throw ValueError("port must be 0-65535, not " + std::to_string(port));
  }
}

SockAddr from_addrinfo(const addrinfo* ai) {
  SockAddr a;
  std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
  a.len = ai->ai_addrlen;
  return a;
}

[[noreturn]] void throw_gai_error(int rc, const std::string& host) {
  // Python's socket.gaierror: an OSError whose errno is the (negative) EAI_* code.
  throw OSError(rc, ::gai_strerror(rc), host.empty() ? std::string("None") : host);
}

}  // namespace

asyncio::SocketAddress SockAddr::to_public() const {
  asyncio::SocketAddress out;
  out.family = family();
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    out.host = text;
    out.port = ntohs(in->sin_port);
  } else if (family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    out.host = text;
    out.port = ntohs(in6->sin6_port);
    out.flowinfo = ntohl(in6->sin6_flowinfo);
    out.scope_id = in6->sin6_scope_id;
  } else if (family() == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&storage);
    const std::size_t max =
        len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    out.host.assign(un->sun_path, strnlen(un->sun_path, std::min(max, sizeof un->sun_path)));
  }
  return out;
}

std::optional<SockAddr> parse_numeric_host(const std::string& host, int port) {
  check_port(port);
  SockAddr a;
  auto* in = reinterpret_cast<sockaddr_in*>(&a.storage);
  if (::inet_pton(AF_INET, host.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<std::uint16_t>(port));
    a.len = sizeof(sockaddr_in);
    return a;
  }
  if (host.find(':') == std::string::npos) return std::nullopt;  // a name
  // IPv6, possibly with a %scope: getaddrinfo with AI_NUMERICHOST never touches the network.
  addrinfo hints{};
  hints.ai_family = AF_INET6;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &res) != 0 || res == nullptr) {
    return std::nullopt;
  }
  a = from_addrinfo(res);
  ::freeaddrinfo(res);
  return a;
}

std::vector<SockAddr> getaddrinfo_tcp(const std::string& host, int port, int family, bool passive) {
  check_port(port);
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0) | (passive ? 0 : AI_ADDRCONFIG);
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  const int rc =
      ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    if (rc == EAI_SYSTEM) throw_os_error(errno, "getaddrinfo(" + host + ")");
    throw_gai_error(rc, host);
  }
  std::vector<SockAddr> out;
  for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    SockAddr a = from_addrinfo(ai);
    const bool dup = std::any_of(out.begin(), out.end(), [&](const SockAddr& b) {
      return b.len == a.len && std::memcmp(&b.storage, &a.storage, a.len) == 0;
    });
    if (!dup) out.push_back(a);
  }
  ::freeaddrinfo(res);
  if (out.empty()) throw_gai_error(EAI_NONAME, host);
  return out;
}

UniqueFd open_socket(int family, int type) {
  const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_os_error(errno, "socket");
  return UniqueFd(fd);
}

void set_socket_option(int fd, int level, int name, int value, const char* what) {
  if (::setsockopt(fd, level, name, &value, sizeof value) != 0) throw_os_error(errno, what);
}

void set_nodelay(int fd) noexcept {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

std::optional<SockAddr> local_address(int fd) noexcept {
  SockAddr a;
  a.len = sizeof a.storage;
  if (::getsockname(fd, a.get(), &a.len) != 0) return std::nullopt;
  return a;
}

std::optional<SockAddr> peer_address(int fd) noexcept {
  SockAddr a;
  a.len = sizeof a.storage;
  if (::getpeername(fd, a.get(), &a.len) != 0) return std::nullopt;
  return a;
}

asyncio::Task<std::vector<SockAddr>> resolve(std::string host, int port, int family, bool passive) {
  if (!host.empty()) {
    if (auto a = parse_numeric_host(host, port)) {
      if (family != AF_UNSPEC && family != a->family()) throw_gai_error(EAI_ADDRFAMILY, host);
      co_return std::vector<SockAddr>{*a};
    }
  }
  // A name (or the wildcard): getaddrinfo may wait for DNS, so it runs on a worker thread.
  co_return co_await asyncio::to_thread(getaddrinfo_tcp, std::move(host), port, family, passive);
}

asyncio::Task<> connect_socket(IoHandle& io, SockAddr to) {
  int err = 0;
  if (::connect(io.fd(), to.get(), to.len) != 0) err = errno;
  if (err == EINPROGRESS || err == EINTR) {
    // The connect completes (or fails) in the background; the socket turns writable then.
    while (true) {
      co_await io.writable();
      if (!io.is_open()) {
        err = EBADF;
        break;
      }
      socklen_t len = sizeof err;
      if (::getsockopt(io.fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (err != 0) break;
      // Writable with no error: connected -- unless this was a spurious edge.
      if (peer_address(io.fd())) break;
      if (errno != ENOTCONN) {
        err = errno;
        break;
      }
    }
  }
  if (err != 0) throw_os_error(err, "connect(" + to.to_string() + ")");
}

int open_listener(const SockAddr& at, const ListenOptions& options, UniqueFd& out,
                  const char** failed_call) noexcept {
  const auto fail = [&](const char* call) {
    *failed_call = call;
    return errno;
  };
  UniqueFd fd(::socket(at.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fail("socket");
  const int one = 1;
  if (options.reuse_address &&
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    return fail("setsockopt(SO_REUSEADDR)");
  }
  if (options.reuse_port &&
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    return fail("setsockopt(SO_REUSEPORT)");
  }
  if (at.family() == AF_INET6 && options.ipv6_only &&
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) {
    return fail("setsockopt(IPV6_V6ONLY)");
  }
  if (::bind(fd.get(), at.get(), at.len) != 0) return fail("bind");
  if (::listen(fd.get(), options.backlog) != 0) return fail("listen");
  out = std::move(fd);
  return 0;
}

int accept_connection(int listen_fd, SockAddr& peer) noexcept {
  while (true) {
    peer.len = sizeof peer.storage;
    const int fd = ::accept4(listen_fd, peer.get(), &peer.len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno != EINTR) return -errno;
  }
}

}  // namespace pyconc::detail
