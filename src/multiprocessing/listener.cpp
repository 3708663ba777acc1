// Listener, Client and wait: sockets plus the authkey challenge, handing out Connections.
#include "pyconc/multiprocessing/listener.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <utility>

#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/detail/socket.hpp"

namespace pyconc::multiprocessing::connection {

Listener::Listener(Address address, ListenerOptions options)
    : address_(std::move(address)), options_(std::move(options)) {
  if (address_ == Address{}) throw ValueError("Listener: an address is required");
  if (options_.backlog < 1) options_.backlog = 1;
  fd_ = pyconc::detail::listen_on(address_, options_.backlog);
}

Listener& Listener::operator=(Listener&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::move(other.fd_);
    address_ = std::move(other.address_);
    options_ = std::move(other.options_);
  }
  return *this;
}

Listener::~Listener() {
  close();
}

void Listener::close() noexcept {
  if (!fd_) return;
  fd_.reset();
  if (address_.is_unix() && address_.path[0] != '\0') ::unlink(address_.path.c_str());
}

int Listener::fileno() const {
  if (!fd_) throw OSError(EBADF, "listener is closed");
  return fd_.get();
}

Connection Listener::accept() {
  pyconc::detail::UniqueFd c;
  while (!c) {
    c = pyconc::detail::accept_on(fileno());
    if (!c) pyconc::detail::wait_readable(fileno(), pyconc::detail::Clock::time_point::max());
  }
  if (!options_.authkey.empty()) {
    try {
      pyconc::detail::server_handshake(
          c.get(), options_.authkey,
          pyconc::detail::deadline_after(options_.handshake_timeout, "handshake_timeout"));
    } catch (const AuthenticationError&) {
      throw;                    // `c` closes: nothing is served to that client
    } catch (const Error& e) {  // silent, gone, or not speaking the protocol
      throw AuthenticationError(std::string("Listener.accept: the client failed the challenge (") +
                                e.what() + ")");
    }
  }
  return Connection(c.release());
}

Connection Client(const Address& address, ClientOptions options) {
  pyconc::detail::UniqueFd fd = pyconc::detail::connect_to(address);
  if (!options.authkey.empty()) {
    try {
      pyconc::detail::client_handshake(
          fd.get(), options.authkey,
          pyconc::detail::deadline_after(options.handshake_timeout, "handshake_timeout"));
    } catch (const EOFError&) {
      throw AuthenticationError("Client: the listener at '" + address.str() +
                                "' closed the connection during the challenge");
    }
  }
  return Connection(fd.release());
}

namespace detail_wait {

std::vector<Connection*> wait_until(const std::vector<Connection*>& conns,
                                    pyconc::detail::Clock::time_point deadline) {
  std::vector<pollfd> fds;
  fds.reserve(conns.size());
  for (Connection* c : conns) {
    if (c == nullptr) throw ValueError("wait: null connection");
    fds.push_back({c->fileno(), POLLIN, 0});
  }
  const bool forever = deadline == pyconc::detail::Clock::time_point::max();
  for (;;) {
    timespec ts{};
    if (!forever) {
      const auto left =
          std::chrono::duration_cast<std::chrono::nanoseconds>(pyconc::detail::remaining(deadline));
      const auto ns = left.count() < 0 ? 0 : left.count();
      ts.tv_sec = static_cast<time_t>(ns / 1000000000LL);
      ts.tv_nsec = static_cast<long>(ns % 1000000000LL);
    }
    const int rc = ::ppoll(fds.data(), fds.size(), forever ? nullptr : &ts, nullptr);
    if (rc < 0) {
      if (errno == EINTR) continue;
      raise_os_error(errno, "poll");
    }
    std::vector<Connection*> ready;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents != 0) ready.push_back(conns[i]);
    }
    if (!ready.empty() || (!forever && pyconc::detail::Clock::now() >= deadline)) return ready;
  }
}

}  // namespace detail_wait

std::vector<Connection*> wait(const std::vector<Connection*>& conns) {
  return detail_wait::wait_until(conns, pyconc::detail::Clock::time_point::max());
}

}  // namespace pyconc::multiprocessing::connection
