#include "pyconc/multiprocessing/detail/framing.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>

#include "pyconc/errors.hpp"

namespace pyconc::detail {
namespace {

constexpr std::uint32_t kLongFrame = 0xFFFFFFFFU;

// Writes all of iov (advancing through partial writes).
void write_all(int fd, iovec* iov, int iovcnt) {
  bool socket = true;
  while (iovcnt > 0) {
    ssize_t n = -1;
    if (socket) {
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<std::size_t>(iovcnt);
      n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
      if (n < 0 && errno == ENOTSOCK) {
        socket = false;
        continue;
      }
    } else {
      n = ::writev(fd, iov, iovcnt);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {  // a non-blocking fd: wait until it drains
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, -1);
        continue;
      }
      raise_os_error(errno, "send");
    }
    auto left = static_cast<std::size_t>(n);
    while (iovcnt > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --iovcnt;
    }
    if (iovcnt > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
}

// Reads exactly n bytes; returns how many were read before the end of the stream.
std::size_t read_exact(int fd, char* buf, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, buf + got, n - got);
    if (r > 0) {
      got += static_cast<std::size_t>(r);
    } else if (r == 0) {
      break;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN) {
      wait_readable(fd, Clock::time_point::max());
    } else {
      raise_os_error(errno, "recv");
    }
  }
  return got;
}

}  // namespace

void write_frame(int fd, std::string_view payload) {
  char header[12];
  std::size_t header_len = 4;
  if (payload.size() < kLongFrame) {
    const auto n = static_cast<std::uint32_t>(payload.size());
    std::memcpy(header, &n, 4);
  } else {
    const std::uint64_t n = payload.size();
    std::memcpy(header, &kLongFrame, 4);
    std::memcpy(header + 4, &n, 8);
    header_len = 12;
  }
  iovec iov[2] = {{header, header_len}, {const_cast<char*>(payload.data()), payload.size()}};
  write_all(fd, iov, payload.empty() ? 1 : 2);
}

bool read_frame(int fd, std::string& out, std::size_t maxlength) {
  std::uint32_t n32 = 0;
  const std::size_t got = read_exact(fd, reinterpret_cast<char*>(&n32), 4);
  if (got == 0) return false;
  if (got < 4) throw EOFError("connection closed in the middle of a message (truncated header)");
  std::uint64_t n = n32;
  if (n32 == kLongFrame) {
    if (read_exact(fd, reinterpret_cast<char*>(&n), 8) < 8) {
      throw EOFError("connection closed in the middle of a message (truncated header)");
    }
  }
  if (n > maxlength) throw OSError(EMSGSIZE, "bad message length");
  out.resize(static_cast<std::size_t>(n));
  if (read_exact(fd, out.data(), out.size()) < out.size()) {
    throw EOFError("connection closed in the middle of a message (truncated payload)");
  }
  return true;
}

bool wait_readable(int fd, Clock::time_point deadline) {
  const bool forever = deadline == Clock::time_point::max();
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    timespec ts{};
    if (!forever) {
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(remaining(deadline));
      ts.tv_sec = static_cast<time_t>(left.count() / 1000000000LL);
      ts.tv_nsec = static_cast<long>(left.count() % 1000000000LL);
    }
    const int rc = ::ppoll(&p, 1, forever ? nullptr : &ts, nullptr);
    if (rc > 0) return true;
    if (rc == 0 && Clock::now() >= deadline) return false;
    if (rc < 0 && errno != EINTR) raise_os_error(errno, "poll");
  }
}

}  // namespace pyconc::detail
