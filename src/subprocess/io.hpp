// src/subprocess/io.hpp -- private helpers of the subprocess module: descriptor I/O with
// EINTR/EAGAIN handling, poll with a deadline, Python's universal-newline translation.
// Thread safety: pure functions / per-object state.
#pragma once

#include <poll.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "pyconc/detail/deadline.hpp"

namespace pyconc::detail {

// poll() until one of `fds` is ready or `deadline` passes (null: no limit); EINTR is retried
// with the time left. Returns the number of ready descriptors, 0 on timeout. OSError on failure.
int poll_until(pollfd* fds, nfds_t n, const Clock::time_point* deadline);

// Appends what one read(2) returns (at most `max` bytes) to `out`. Returns the byte count,
// 0 at end of file, or -1 with errno set (EAGAIN on an empty non-blocking pipe; EINTR retried).
long read_append(int fd, std::string& out, std::size_t max = 64 * 1024);

// What communicate() reads from one pipe: a list of chunks of at most 64 KiB, joined once at
// the end (as Python does). Growing one string instead would allocate, copy and -- above
// malloc's mmap threshold -- page-fault its way through twice the final size.
class ChunkedBuffer {
 public:
  void append(std::string chunk);
  // Appends what one read(2) of `fd` returns; as read_append.
  long read_from(int fd);
  std::size_t size() const noexcept { return size_; }
  // Everything, joined (text: with universal newlines); take() also empties the buffer.
  std::string peek(bool text) const;
  std::string take(bool text);

 private:
  std::vector<std::string> chunks_;
  std::size_t size_ = 0;
};

// Sets or clears O_NONBLOCK. OSError on failure.
void set_nonblocking(int fd, bool on);

// Python's universal newlines (text mode): "\r\n" and a lone "\r" become "\n". Streaming: a
// "\r" at the end of a chunk is held back until the next chunk (or finish()) shows whether a
// "\n" follows it.
class NewlineTranslator {
 public:
  void feed(std::string_view chunk, std::string& out);
  void finish(std::string& out);

 private:
  bool cr_pending_ = false;
};

}  // namespace pyconc::detail
