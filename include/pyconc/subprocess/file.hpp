// pyconc/subprocess/file.hpp -- File, the parent's end of a pipe to a child (Popen::stdin_(),
// stdout_(), stderr_()).
//
// Python: the file objects Popen puts in p.stdin / p.stdout / p.stderr (io.BufferedWriter /
// BufferedReader, or TextIOWrapper with text=True).
//   sp::Popen p({"sort"}, {.stdin_ = sp::PIPE, .stdout_ = sp::PIPE});
//   p.stdin_().write("b\na\n"); p.stdin_().close();
//   for (const std::string& line : p.stdout_()) print(line);   // "a\n", "b\n"
// read() reads to end of file; read(n) up to n bytes (fewer only at end of file); read1(n) what
// one read(2) brings (at least one byte unless at end of file); readline() through the next
// "\n" (kept), "" at end of file; iterating yields the lines. write() writes everything, so
// flush() has nothing to do (it exists for code written against Python's buffered writer).
// Text mode (Popen's text=true): "\r\n" and "\r" read become "\n" (Python's universal
// newlines); bytes are otherwise passed through (no decoding: std::string holds UTF-8 as is).
// Errors: ValueError("I/O operation on closed file.") on a closed File (also the File of a
// stream that is not a PIPE); BrokenPipeError when writing to a child that closed its end (the
// SIGPIPE this raises is consumed, never delivered); other failures as OSError.
// Differences: no seek/tell, no encoding; a File that is not a pipe is closed rather than None.
// Works on blocking and non-blocking descriptors alike (it waits with poll() when needed).
//
// Thread safety: one thread at a time per File; the Files of one Popen may be used by
// different threads at once (a writer thread feeding stdin while another reads stdout).
#pragma once

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "pyconc/detail/unique_fd.hpp"

namespace pyconc::subprocess {

class File {
 public:
  // A closed file.
  File() noexcept = default;
  // Owns `fd`; `text`: translate newlines on reading.
  explicit File(detail::UniqueFd fd, bool text = false) noexcept;
  File(File&&) noexcept = default;
  File& operator=(File&&) noexcept = default;

  // The descriptor (-1 once closed).
  int fileno() const noexcept { return fd_.get(); }
  bool closed() const noexcept { return !fd_; }
  // Closes the descriptor (a reader child then sees end of file). Idempotent.
  void close() noexcept;

  // Writes all of `data`; returns data.size().
  std::size_t write(std::string_view data);
  void flush() const;

  std::string read();
  std::string read(std::size_t n);
  std::string read1(std::size_t n = 64 * 1024);
  std::string readline();
  std::vector<std::string> readlines();

  // Input iterator over the lines (readline() until it returns "").
  class LineIterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = std::string;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string*;
    using reference = const std::string&;

    LineIterator() = default;
    explicit LineIterator(File* file) : file_(file) { ++*this; }
    reference operator*() const noexcept { return line_; }
    pointer operator->() const noexcept { return &line_; }
    LineIterator& operator++();
    void operator++(int) { ++*this; }
    friend bool operator==(const LineIterator& it, std::default_sentinel_t) noexcept {
      return it.file_ == nullptr;
    }

   private:
    File* file_ = nullptr;
    std::string line_;
  };
  LineIterator begin() { return LineIterator(this); }
  std::default_sentinel_t end() const noexcept { return {}; }

  // Removes and returns what was read ahead but not yet returned (Popen::communicate takes it
  // before reading the descriptor itself).
  std::string take_buffered();

 private:
  void check_open() const;
  // Reads more into buf_ (waiting if needed). False at end of file.
  bool fill();
  std::size_t buffered() const noexcept { return buf_.size() - pos_; }
  std::string take(std::size_t n);

  detail::UniqueFd fd_;
  std::string buf_;  // buf_[pos_..] is read but not yet returned (already translated)
  std::size_t pos_ = 0;
  bool text_ = false;
  bool eof_ = false;
  bool cr_pending_ = false;  // text mode: a "\r" ended the last chunk
};

}  // namespace pyconc::subprocess
