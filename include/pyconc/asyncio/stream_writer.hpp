// pyconc/asyncio/stream_writer.hpp -- StreamWriter: buffered writes with real back-pressure.
//
// Python: asyncio.StreamWriter.
//   writer.write("ping\n");  co_await writer.drain();
//   writer.writelines(std::vector<std::string>{"a", "b"});
//   auto peer = writer.get_extra_info("peername");        // std::optional<aio::SocketAddress>
//   writer.write_eof();  writer.close();  co_await writer.wait_closed();
// write() never blocks: it sends at once what the kernel takes and queues the rest, which is
// sent in the background as the peer reads. drain() is the back-pressure: it returns at once
// while at most the high-water mark (64 KiB) is queued, and otherwise parks until the queue
// falls to the low-water mark (16 KiB) -- so a writer that awaits drain() after each write
// never queues much more than the high-water mark however slow the peer is.
// Errors: a failed send (peer reset, broken pipe) is not raised by write() (as Python); it
// closes the connection and is raised by drain(), by wait_closed() and by the reader. After
// the connection is closed, drain() raises ConnectionResetError("Connection lost") and write()
// drops its bytes, as Python.
// Differences: get_extra_info() knows "peername" and "sockname" and returns a typed optional;
// the transport's write-buffer methods are on the writer (get_write_buffer_size,
// set_write_buffer_limits, abort). A copy names the same stream. When the reader, the writer
// and their copies are all gone, the queue is still flushed, then the connection is closed.
//
// Cancellation: drain() and wait_closed() are cancellable (the queued bytes stay queued).
// Thread safety: loop-thread only.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pyconc/asyncio/detail/stream_transport.hpp"
#include "pyconc/asyncio/socket_address.hpp"
#include "pyconc/detail/ranges.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::asyncio {

class StreamWriter {
 public:
  // An empty writer (valid() is false; using it raises RuntimeError).
  StreamWriter() noexcept = default;
  explicit StreamWriter(std::shared_ptr<detail::StreamTransport> transport) noexcept
      : t_(std::move(transport)) {}

  bool valid() const noexcept { return t_ != nullptr; }

  void write(std::string_view data) { t().write(data); }
  // Python: writelines(iterable): the items written in order, as one write.
  template <std::ranges::input_range R>
  requires std::convertible_to<std::ranges::range_reference_t<R>, std::string_view>
  void writelines(const R& lines) {
    std::vector<std::string_view> parts;
    if constexpr (std::ranges::sized_range<R>) parts.reserve(std::ranges::size(lines));
    for (auto&& l : lines) parts.emplace_back(l);
    t().write_many(parts);
  }
  void writelines(std::initializer_list<std::string_view> lines) {
    t().write_many({lines.begin(), lines.size()});
  }

  // co_await writer.drain(): see the header comment.
  [[nodiscard]] detail::StreamTransport::DrainAwaiter drain() { return t().drain(); }

  bool can_write_eof() const { return t().can_write_eof(); }
  // Shuts down the sending side once the queue is sent (the peer reads EOF); a pipe is closed.
  void write_eof() { t().write_eof(); }

  // Closes the stream once the queue is sent (both directions: the reader sees EOF).
  void close() { t().close(); }
  bool is_closing() const { return t().is_closing(); }
  // Parks until the connection is closed; raises the error it was lost with, if any.
  [[nodiscard]] detail::StreamTransport::ClosedAwaiter wait_closed() { return t().wait_closed(); }
  // Python: transport.abort(): closes at once, dropping what is queued.
  void abort() { t().abort(); }

  // Python: get_extra_info("peername" / "sockname"); nullopt for other names and for pipes.
  std::optional<SocketAddress> get_extra_info(std::string_view name) const;

  // Python: transport.get_write_buffer_size() / set_write_buffer_limits(high, low).
  std::size_t get_write_buffer_size() const { return t().write_buffer_size(); }
  void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                               std::optional<std::size_t> low = std::nullopt) {
    t().set_write_buffer_limits(high, low);
  }

  friend bool operator==(const StreamWriter& a, const StreamWriter& b) noexcept {
    return a.t_ == b.t_;
  }
  const std::shared_ptr<detail::StreamTransport>& transport() const noexcept { return t_; }

 private:
  detail::StreamTransport& t() const {
    if (!t_) throw RuntimeError("StreamWriter is not connected");
    return *t_;
  }
  std::shared_ptr<detail::StreamTransport> t_;
};

}  // namespace pyconc::asyncio
