#include "pyconc/subprocess/file.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "io.hpp"
#include "pyconc/detail/spawn.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::subprocess {

namespace {

// Waits until `fd` is ready for `events` (after EAGAIN on a non-blocking descriptor).
void wait_ready(int fd, short events) {
  pollfd p{fd, events, 0};
  detail::poll_until(&p, 1, nullptr);
}

}  // namespace

File::File(detail::UniqueFd fd, bool text) noexcept : fd_(std::move(fd)), text_(text) {}

void File::close() noexcept {
  fd_.reset();
  buf_.clear();
  pos_ = 0;
}

void File::check_open() const {
  if (!fd_) throw ValueError("I/O operation on closed file.");
}

std::size_t File::write(std::string_view data) {
  check_open();
  detail::SigpipeBlock block;
  std::size_t done = 0;
  while (done < data.size()) {
    const long n = block.write(fd_.get(), data.data() + done, data.size() - done);
    if (n >= 0) {
      done += static_cast<std::size_t>(n);
    } else if (errno == EAGAIN) {
      wait_ready(fd_.get(), POLLOUT);
    } else {
      raise_os_error(errno);
    }
  }
  return done;
}

void File::flush() const {
  check_open();
}

bool File::fill() {
  if (eof_) return false;
  if (pos_ != 0) {  // drop what was returned already before growing the buffer
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  for (;;) {
    std::string chunk;
    const long n = detail::read_append(fd_.get(), chunk);
    if (n > 0) {
      if (!text_) {
        buf_ += chunk;
        return true;
      }
      // Text mode: translate here, holding back a final "\r" (it may start a "\r\n").
      detail::NewlineTranslator t;
      std::string out;
      if (cr_pending_) t.feed("\r", out);
      t.feed(chunk, out);
      cr_pending_ = !chunk.empty() && chunk.back() == '\r';
      buf_ += out;
      if (!out.empty()) return true;
      continue;  // only a held-back "\r": read on
    }
    if (n == 0) {
      eof_ = true;
      if (cr_pending_) buf_ += '\n';
      cr_pending_ = false;
      return buffered() != 0;
    }
    if (errno == EAGAIN) {
      wait_ready(fd_.get(), POLLIN);
    } else {
      raise_os_error(errno);
    }
  }
}

std::string File::take(std::size_t n) {
  n = std::min(n, buffered());
  std::string out = buf_.substr(pos_, n);
  pos_ += n;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return out;
}

std::string File::read() {
  check_open();
  while (fill()) {
  }
  return take(buffered());
}

std::string File::read(std::size_t n) {
  check_open();
  while (buffered() < n && fill()) {
  }
  return take(n);
}

std::string File::read1(std::size_t n) {
  check_open();
  if (buffered() == 0) fill();
  return take(n);
}

std::string File::readline() {
  check_open();
  std::size_t scanned = 0;
  for (;;) {
    const std::size_t nl = buf_.find('\n', pos_ + scanned);
    if (nl != std::string::npos) return take(nl - pos_ + 1);
    scanned = buffered();
    if (!fill()) return take(buffered());
    // fill() may have compacted the buffer: positions are relative to pos_.
  }
}

std::vector<std::string> File::readlines() {
  std::vector<std::string> lines;
  for (std::string line = readline(); !line.empty(); line = readline()) {
    lines.push_back(std::move(line));
  }
  return lines;
}

File::LineIterator& File::LineIterator::operator++() {
  line_ = file_->readline();
  if (line_.empty()) file_ = nullptr;
  return *this;
}

std::string File::take_buffered() {
  return take(buffered());
}

}  // namespace pyconc::subprocess
