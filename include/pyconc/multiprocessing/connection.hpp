// pyconc/multiprocessing/connection.hpp -- Pipe and Connection: messages between two processes.
//
// Python: multiprocessing.Pipe(duplex=True) and multiprocessing.connection.Connection.
//
//   auto [c1, c2] = mp::Pipe();                 // duplex: both ends send and receive
//   c1.send(std::string("hi"));                 // any Serializable value (serialize.hpp)
//   auto s = c2.recv<std::string>();            // blocks until a message arrives
//   c2.poll(1s);                                // is a message waiting? (waits at most 1 s)
//   c1.send_bytes("raw"); c2.recv_bytes();      // bytes as they are
//   auto [r, w] = mp::Pipe(false);              // one way: r receives, w sends
//
// A Connection is a handle to one end: copies -- and a forked child's copies, e.g. bound into
// a Process's arguments -- use the same end (as Python's objects do). Messages are framed
// (detail/framing.hpp), so each recv() returns exactly one send(), of any size. When every
// copy of the other end is closed (in every process), recv() raises EOFError once the
// messages already sent are read, and send() raises BrokenPipeError (never SIGPIPE). As in
// Python, a child that does not use an end should close its copy, or the other side never
// sees the end of the stream. Both ends are one Unix socket pair (also for duplex=false).
// Errors (Python's): OSError("handle is closed"), OSError("connection is write-only" /
// "read-only"), EOFError, BrokenPipeError, ValueError from recv<T>() when the message is not a
// T (see loads()).
// Thread safety: like Python's, a Connection is for one thread at a time per direction; two
// threads (or processes) sending on one end at once must hold a lock (a frame is written by
// one call, but a large one may be split by the kernel).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include "pyconc/detail/chrono.hpp"

#include "pyconc/detail/deadline.hpp"
#include "pyconc/multiprocessing/detail/framing.hpp"
#include "pyconc/multiprocessing/serialize.hpp"

namespace pyconc::multiprocessing {

class Connection {
 public:
  // A closed connection.
  Connection() = default;
  // Takes ownership of `fd` (a socket or pipe end).
  explicit Connection(int fd, bool readable = true, bool writable = true);

  // Sends `obj` as one message.
  template <class T>
  void send(const T& obj) {
    send_bytes(dumps(obj));
  }
  // The next message, as the T that was sent. Blocks until one arrives. EOFError when the
  // other end is closed and nothing is left.
  template <class T>
  T recv() {
    std::string bytes = recv_bytes();
    return loads<T>(bytes);
  }

  // Python: send_bytes(buf, offset=0, size=None). ValueError if offset/size are out of range.
  void send_bytes(std::string_view buf);
  void send_bytes(std::string_view buf, std::size_t offset,
                  std::size_t size = static_cast<std::size_t>(-1));
  // Python: recv_bytes(maxlength=None). OSError("bad message length") -- and the connection is
  // closed -- when the message is longer than `maxlength`.
  std::string recv_bytes(std::size_t maxlength = static_cast<std::size_t>(-1));

  // Whether a message (or the end of the stream) is waiting; poll() does not wait,
  // poll(timeout) waits at most `timeout`. ValueError for a negative timeout.
  bool poll() { return poll_until(detail::Clock::now()); }
  template <class Rep, class Period>
  bool poll(std::chrono::duration<Rep, Period> timeout) {
    return poll_until(detail::deadline_after(timeout));
  }

  // Closes this end in this process (every copy here sees it closed). Idempotent.
  void close() noexcept;
  bool closed() const noexcept;
  bool readable() const noexcept;
  bool writable() const noexcept;
  // The file descriptor (for select/poll/epoll). OSError if closed.
  int fileno() const;

 private:
  struct Handle;
  bool poll_until(detail::Clock::time_point deadline);
  Handle& open_handle(bool for_reading) const;

  std::shared_ptr<Handle> h_;
};

// Python: multiprocessing.Pipe(duplex=True): a connected pair. With duplex=false the first
// end only receives and the second only sends.
std::pair<Connection, Connection> Pipe(bool duplex = true);

}  // namespace pyconc::multiprocessing
