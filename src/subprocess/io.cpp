#include "io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <utility>

#include "pyconc/errors.hpp"

namespace pyconc::detail {

int poll_until(pollfd* fds, nfds_t n, const Clock::time_point* deadline) {
  for (;;) {
    timespec ts{};
    timespec* limit = nullptr;
    if (deadline != nullptr && *deadline != Clock::time_point::max()) {
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(remaining(*deadline));
      ts.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(left.count() % 1'000'000'000);
      limit = &ts;
    }
    const int r = ::ppoll(fds, n, limit, nullptr);
    if (r >= 0) return r;
    if (errno != EINTR) raise_os_error(errno);
  }
}

long read_append(int fd, std::string& out, std::size_t max) {
  char buf[64 * 1024];
  if (max > sizeof buf) max = sizeof buf;
  for (;;) {
    const ssize_t r = ::read(fd, buf, max);
    if (r >= 0) {
      out.append(buf, static_cast<std::size_t>(r));
      return r;
    }
    if (errno != EINTR) return -1;
  }
}

void ChunkedBuffer::append(std::string chunk) {
  if (chunk.empty()) return;
  size_ += chunk.size();
  chunks_.push_back(std::move(chunk));
}

long ChunkedBuffer::read_from(int fd) {
  std::string chunk;
  const long n = read_append(fd, chunk);
  if (n > 0) append(std::move(chunk));
  return n;
}

std::string ChunkedBuffer::peek(bool text) const {
  std::string all;
  if (text) {
    NewlineTranslator t;
    for (const auto& c : chunks_) t.feed(c, all);
    t.finish(all);
    return all;
  }
  all.reserve(size_);
  for (const auto& c : chunks_) all += c;
  return all;
}

std::string ChunkedBuffer::take(bool text) {
  std::string all = chunks_.size() == 1 && !text ? std::move(chunks_[0]) : peek(text);
  chunks_.clear();
  size_ = 0;
  return all;
}

void set_nonblocking(int fd, bool on) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) raise_os_error(errno);
  const int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) < 0) raise_os_error(errno);
}

void NewlineTranslator::feed(std::string_view chunk, std::string& out) {
  out.reserve(out.size() + chunk.size() + 1);
  for (const char c : chunk) {
    if (cr_pending_) {
      cr_pending_ = false;
      out += '\n';
      if (c == '\n') continue;  // "\r\n" -> "\n"
    }
    if (c == '\r') {
      cr_pending_ = true;
    } else {
      out += c;
    }
  }
}

void NewlineTranslator::finish(std::string& out) {
  if (cr_pending_) out += '\n';
  cr_pending_ = false;
}

}  // namespace pyconc::detail
