#include "pyconc/multiprocessing/connection.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "pyconc/errors.hpp"

namespace pyconc::multiprocessing {

struct Connection::Handle {
  Handle(int f, bool r, bool w) : fd(f), readable(r), writable(w) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { close(); }
  void close() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fd;
  bool readable;
  bool writable;
};

Connection::Connection(int fd, bool readable, bool writable) {
  if (fd < 0) throw ValueError("invalid file descriptor");
  if (!readable && !writable)
    throw ValueError("at least one of readable and writable must be true");
  h_ = std::make_shared<Handle>(fd, readable, writable);
}

Connection::Handle& Connection::open_handle(bool for_reading) const {
  if (!h_ || h_->fd < 0) throw OSError(EBADF, "handle is closed");
  if (for_reading && !h_->readable) throw OSError(EBADF, "connection is write-only");
  if (!for_reading && !h_->writable) throw OSError(EBADF, "connection is read-only");
  return *h_;
}

void Connection::send_bytes(std::string_view buf) {
  detail::write_frame(open_handle(false).fd, buf);
}

void Connection::send_bytes(std::string_view buf, std::size_t offset, std::size_t size) {
  if (offset > buf.size()) throw ValueError("offset is out of bounds");
  if (size == static_cast<std::size_t>(-1)) size = buf.size() - offset;
  if (size > buf.size() - offset) throw ValueError("buffer length < offset + size");
  send_bytes(buf.substr(offset, size));
}

std::string Connection::recv_bytes(std::size_t maxlength) {
  Handle& h = open_handle(true);
  std::string out;
  bool got = false;
  try {
    got = detail::read_frame(h.fd, out, maxlength);
  } catch (const OSError& e) {
    if (e.errno_value() == EMSGSIZE) h.close();  // the stream is out of step: unusable
    throw;
  }
  if (!got) throw EOFError("Connection.recv: the other end of the connection is closed");
  return out;
}

bool Connection::poll_ns(long long ns) {
  return detail::wait_readable_fd(open_handle(true).fd, ns);
}

void Connection::close() noexcept {
  if (h_) h_->close();
}

bool Connection::closed() const noexcept {
  return !h_ || h_->fd < 0;
}

bool Connection::readable() const noexcept {
  return h_ && h_->readable;
}

bool Connection::writable() const noexcept {
  return h_ && h_->writable;
}

int Connection::fileno() const {
  if (closed()) throw OSError(EBADF, "handle is closed");
  return h_->fd;
}

std::pair<Connection, Connection> Pipe(bool duplex) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    raise_os_error(errno, "socketpair");
  }
  if (duplex) return {Connection(fds[0]), Connection(fds[1])};
  ::shutdown(fds[0], SHUT_WR);
  ::shutdown(fds[1], SHUT_RD);
  return {Connection(fds[0], true, false), Connection(fds[1], false, true)};
}

}  // namespace pyconc::multiprocessing
