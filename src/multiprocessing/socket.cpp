// Stream sockets for Listener/Client and the Manager, and the HMAC authkey challenge.
#include "pyconc/multiprocessing/detail/socket.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/detail/framing.hpp"
#include "pyconc/multiprocessing/exceptions.hpp"

namespace pyconc::multiprocessing {

std::string Address::str() const {
  if (is_unix()) return path[0] == '\0' ? "@" + path.substr(1) : path;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace pyconc::multiprocessing

namespace pyconc::detail {
namespace {

using multiprocessing::Address;
using multiprocessing::AuthenticationError;

sockaddr_un unix_address(const std::string& path, socklen_t& len) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    throw ValueError("Unix socket path is too long (" + std::to_string(path.size()) +
                     " bytes, at most " + std::to_string(sizeof addr.sun_path - 1) + ")");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  // An abstract name is exactly its bytes; a file path ends at its NUL.
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                               (path[0] == '\0' ? 0 : 1));
  return addr;
}

struct AddrInfoFree {
  void operator()(addrinfo* p) const noexcept { ::freeaddrinfo(p); }
};

std::unique_ptr<addrinfo, AddrInfoFree> resolve(const Address& a, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* res = nullptr;
  const std::string port = std::to_string(a.port);
  const int rc =
      ::getaddrinfo(a.host.empty() ? nullptr : a.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    throw OSError(EINVAL, "cannot resolve '" + a.str() + "': " + ::gai_strerror(rc));
  }
  return std::unique_ptr<addrinfo, AddrInfoFree>(res);
}

void set_nodelay(int fd) noexcept {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Reads exactly n bytes before `deadline`; false if the stream ended first.
bool read_until(int fd, char* buf, std::size_t n, Clock::time_point deadline) {
  std::size_t got = 0;
  while (got < n) {
    if (!wait_readable(fd, deadline)) throw TimeoutError("authentication: the peer is silent");
    const ssize_t r = ::recv(fd, buf + got, n - got, MSG_DONTWAIT);
    if (r > 0) {
      got += static_cast<std::size_t>(r);
    } else if (r == 0) {
      return false;
    } else if (errno != EINTR && errno != EAGAIN) {
      raise_os_error(errno, "recv");
    }
  }
  return true;
}

// One handshake message: a short frame, read with a deadline.
std::string read_message(int fd, Clock::time_point deadline) {
  constexpr std::uint32_t kMax = 256;
  std::uint32_t n = 0;
  if (!read_until(fd, reinterpret_cast<char*>(&n), sizeof n, deadline)) {
    throw EOFError("authentication: the peer closed the connection");
  }
  if (n > kMax) {
    throw AuthenticationError("authentication: the peer sent a " + std::to_string(n) +
                              "-byte message (at most " + std::to_string(kMax) +
                              "): it does not speak the protocol");
  }
  std::string out(n, '\0');
  if (!read_until(fd, out.data(), n, deadline)) {
    throw EOFError("authentication: the peer closed the connection mid-message");
  }
  return out;
}

constexpr std::string_view kChallenge = "#CHALLENGE#";
constexpr std::string_view kWelcome = "#WELCOME#";
constexpr std::string_view kFailure = "#FAILURE#";
constexpr std::string_view kDigestTag = "{sha256}";
constexpr std::size_t kChallengeBytes = 40;

std::string digest(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (::HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), out,
             &len) == nullptr) {
    throw RuntimeError("HMAC-SHA256 failed");
  }
  return std::string(kDigestTag) + std::string(reinterpret_cast<const char*>(out), len);
}

void random_bytes(char* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::getrandom(out + got, n - got, 0);
    if (r > 0) {
      got += static_cast<std::size_t>(r);
    } else if (errno != EINTR) {
      raise_os_error(errno, "getrandom");
    }
  }
}

}  // namespace

std::string random_authkey() {
  std::string key(32, '\0');
  random_bytes(key.data(), key.size());
  return key;
}

UniqueFd listen_on(Address& address, int backlog) {
  if (address.is_unix()) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) raise_os_error(errno, "socket");
    socklen_t len = 0;
    const sockaddr_un addr = unix_address(address.path, len);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
      raise_os_error(errno, "bind '" + address.str() + "'");
    }
    if (::listen(fd.get(), backlog) != 0) raise_os_error(errno, "listen '" + address.str() + "'");
    return fd;
  }
  const auto res = resolve(address, true);
  int err = EADDRNOTAVAIL;
  for (const addrinfo* ai = res.get(); ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) {
      err = errno;
      continue;
    }
    const int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd.get(), backlog) != 0) {
      err = errno;
      continue;
    }
    sockaddr_storage ss{};
    socklen_t sl = sizeof ss;
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &sl) == 0) {
      address.port =
          ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port
                                         : reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
    }
    return fd;
  }
  raise_os_error(err, "bind/listen '" + address.str() + "'");
}

UniqueFd connect_to(const Address& address) {
  if (address.is_unix()) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) raise_os_error(errno, "socket");
    socklen_t len = 0;
    const sockaddr_un addr = unix_address(address.path, len);
    while (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
      if (errno != EINTR) raise_os_error(errno, "connect to '" + address.str() + "'");
    }
    return fd;
  }
  const auto res = resolve(address, false);
  int err = ECONNREFUSED;
  for (const addrinfo* ai = res.get(); ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) {
      err = errno;
      continue;
    }
    if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      continue;
    }
    set_nodelay(fd.get());
    return fd;
  }
  raise_os_error(err, "connect to '" + address.str() + "'");
}

UniqueFd accept_on(int listener) {
  for (;;) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      set_nodelay(fd);  // fails harmlessly on a Unix socket
      return UniqueFd(fd);
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
    // The connection died before we took it: not the listener's failure.
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
    raise_os_error(errno, "accept");
  }
}

void deliver_challenge(int fd, std::string_view authkey, Clock::time_point deadline) {
  std::string message(kDigestTag);
  message.resize(kDigestTag.size() + kChallengeBytes);
  random_bytes(message.data() + kDigestTag.size(), kChallengeBytes);
  write_frame(fd, std::string(kChallenge) + message);
  const std::string answer = read_message(fd, deadline);
  const std::string expected = digest(authkey, message);
  if (answer.size() != expected.size() ||
      CRYPTO_memcmp(answer.data(), expected.data(), expected.size()) != 0) {
    try {
      write_frame(fd, kFailure);
    } catch (const Error&) {  // the peer may be gone already; the failure is the news
    }
    throw AuthenticationError("digest received was wrong (the peer has another authkey)");
  }
  write_frame(fd, kWelcome);
}

void answer_challenge(int fd, std::string_view authkey, Clock::time_point deadline) {
  const std::string message = read_message(fd, deadline);
  if (!message.starts_with(kChallenge) ||
      message.size() != kChallenge.size() + kDigestTag.size() + kChallengeBytes ||
      message.compare(kChallenge.size(), kDigestTag.size(), kDigestTag) != 0) {
    throw AuthenticationError("Protocol error: expected an authentication challenge");
  }
  write_frame(fd, digest(authkey, std::string_view(message).substr(kChallenge.size())));
  const std::string response = read_message(fd, deadline);
  if (response != kWelcome) {
    throw AuthenticationError("digest sent was rejected (the peer has another authkey)");
  }
}

}  // namespace pyconc::detail
