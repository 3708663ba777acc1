// pyconc/asyncio/stream_reader.hpp -- StreamReader: awaitable reads from a connection or pipe.
//
// Python: asyncio.StreamReader.
//   auto [reader, writer] = co_await aio::open_connection("127.0.0.1", 8888);
//   std::string line = co_await reader.readline();        // "" at EOF
//   std::string hdr  = co_await reader.readexactly(4);    // IncompleteReadError at EOF
//   std::string msg  = co_await reader.readuntil("\r\n"); // LimitOverrunError past the limit
//   std::string some = co_await reader.read(100);         // up to 100 bytes; "" at EOF
//   std::string all  = co_await reader.read();            // everything until EOF
//   reader.at_eof();
// Bytes are std::string (Python's bytes). The reader buffers what it read from the fd; `limit`
// (default 64 KiB, as Python) bounds readline/readuntil. A StreamReader constructed on its own
// has no fd: it is fed with feed_data()/feed_eof() (Python's StreamReader(), used by protocols
// and tests).
// Differences: the fd is read when a read operation needs more bytes than buffered (Python
// reads whenever data arrives): the peer is held back by TCP flow control instead of by pausing
// at 2 x limit, and at_eof() peeks at the fd (without blocking) when the buffer is empty.
// readline() raises ValueError past the limit, as Python (after dropping the line).
// A copy of a StreamReader names the same stream (Python objects are references).
//
// Cancellation: every read is cancellable; a cancelled read loses nothing -- bytes already
// read from the fd stay buffered for the next read. Errors: the connection's error
// (ConnectionError for a reset) is raised by every later read.
// Thread safety: loop-thread only; one read at a time per stream (RuntimeError otherwise).
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "pyconc/asyncio/detail/stream_transport.hpp"
#include "pyconc/asyncio/stream_errors.hpp"
#include "pyconc/asyncio/task.hpp"

namespace pyconc::asyncio {

class StreamReader {
 public:
  static constexpr std::size_t default_limit = detail::StreamTransport::default_limit;

  // Python: StreamReader(limit=2**16): a reader without fd, fed by feed_data()/feed_eof().
  // ValueError if limit is 0.
  explicit StreamReader(std::size_t limit = default_limit);
  // The reading side of a transport (open_connection, start_server, subprocess pipes).
  explicit StreamReader(std::shared_ptr<detail::StreamTransport> transport) noexcept
      : t_(std::move(transport)) {}

  // Up to `n` bytes (at least one unless EOF: then ""). n < 0: everything until EOF.
  Task<std::string> read(std::ptrdiff_t n = -1);
  // One line including its "\n"; the rest of the stream if EOF comes first ("" at EOF).
  // ValueError if the line is longer than the limit (the line is dropped).
  Task<std::string> readline();
  // Exactly `n` bytes; IncompleteReadError (with the partial bytes) if EOF comes first.
  // ValueError if n < 0.
  Task<std::string> readexactly(std::ptrdiff_t n);
  // Bytes up to and including `separator`. IncompleteReadError (with all bytes left) if EOF
  // comes first; LimitOverrunError (the bytes stay buffered) if the separator is not within
  // the limit. ValueError for an empty separator.
  Task<std::string> readuntil(std::string separator = "\n");

  // EOF seen and nothing left in the buffer.
  bool at_eof() { return t_->at_eof(); }
  std::size_t limit() const noexcept { return t_->limit(); }

  // For readers without fd (and protocols): append bytes / signal EOF / fail later reads.
  void feed_data(std::string_view data) { t_->feed_data(data); }
  void feed_eof() noexcept { t_->feed_eof(); }
  void set_exception(std::exception_ptr e) noexcept { t_->set_exception(std::move(e)); }
  // The error that ended the stream, if any (null otherwise).
  std::exception_ptr exception() const noexcept { return t_->error(); }

  friend bool operator==(const StreamReader& a, const StreamReader& b) noexcept {
    return a.t_ == b.t_;
  }
  const std::shared_ptr<detail::StreamTransport>& transport() const noexcept { return t_; }

 private:
  std::shared_ptr<detail::StreamTransport> t_;
};

}  // namespace pyconc::asyncio
