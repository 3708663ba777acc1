// pyconc/asyncio/detail/byte_buffer.hpp -- the growable byte FIFO behind stream buffers.
//
// Bytes are appended at the end (directly by read(2) into prepare()'d room, or by append()) and
// consumed from the front by moving an offset, so consuming never copies; the live bytes move
// to the front only when room is needed and the dead prefix is large enough to hold it. The
// storage is not zero-filled (reading 64 KiB costs no memset). An emptied buffer starts again
// at offset 0, and gives its memory back when it had grown beyond `keep_capacity`.
//
// Thread safety: a plain value.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace pyconc::detail {

class ByteBuffer {
 public:
  static constexpr std::size_t keep_capacity = 256 * 1024;

  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return end_ == begin_; }
  const char* data() const noexcept { return buf_.get() + begin_; }
  std::string_view view() const noexcept { return {data(), size()}; }

  // Drops the first `n` bytes (n <= size()).
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) reset_empty();
  }
  // Moves the first `n` bytes (n <= size()) out as a string.
  std::string take(std::size_t n) {
    std::string out(data(), n);
    consume(n);
    return out;
  }
  void clear() noexcept {
    begin_ = end_;
    reset_empty();
  }

  // At least `n` writable bytes after the data; commit() what was written there.
  char* prepare(std::size_t n) {
    if (cap_ - end_ < n) make_room(n);
    return buf_.get() + end_;
  }
  std::size_t room() const noexcept { return cap_ - end_; }
  void commit(std::size_t n) noexcept { end_ += n; }

  void append(std::string_view s) {
    if (s.empty()) return;
    std::memcpy(prepare(s.size()), s.data(), s.size());
    commit(s.size());
  }

 private:
  void reset_empty() noexcept {
    begin_ = end_ = 0;
    if (cap_ > keep_capacity) {
      buf_.reset();
      cap_ = 0;
    }
  }
  void make_room(std::size_t n) {
    const std::size_t live = size();
    if (begin_ >= live && cap_ - live >= n) {  // slide down: the copy does not overlap much
      std::memmove(buf_.get(), data(), live);
    } else {
      std::size_t cap = cap_ * 2 > live + n ? cap_ * 2 : live + n;
      if (cap < 4096) cap = 4096;
      auto bigger = std::make_unique_for_overwrite<char[]>(cap);
      if (live != 0) std::memcpy(bigger.get(), data(), live);
      buf_ = std::move(bigger);
      cap_ = cap;
    }
    begin_ = 0;
    end_ = live;
  }

  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace pyconc::detail
