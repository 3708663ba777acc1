// pyconc/aiohttp/stream_reader.hpp -- StreamReader: a response body read as it arrives.
//
// Python: aiohttp.StreamReader (resp.content).
//   auto resp = co_await session.get(url);
//   auto content = resp.content();
//   for (auto chunk = co_await content.read(65536); !chunk.empty();
//        chunk = co_await content.read(65536)) { out.write(chunk); }   // constant memory
//   std::string line = co_await content.readline();      // "" at EOF
//   std::string hdr = co_await content.readexactly(16);  // IncompleteReadError at EOF
//   auto chunks = content.iter_chunked(1 << 20);          // async for chunk in iter_chunked(n)
//   while (auto chunk = co_await chunks.next()) { ... }
// The body arrives in the background into a buffer; past twice ClientSessionOptions::
// read_bufsize (64 KiB) of unread bytes the transfer pauses -- libcurl stops reading the
// socket, so a fast server is slowed by TCP's window -- and resumes once a reader drained it
// below half that mark. A 1 GiB download read chunk by chunk therefore holds ~128 KiB.
// Every read returns the bytes buffered before it raises: the transfer's failure
// (ClientPayloadError, TimeoutError, ...) is raised once the buffer is empty. read() (n < 0)
// and the response's read()/text()/json() want the rest of the body and stop the pausing.
// Differences: async iteration is `while (auto c = co_await it.next())` (C++ has no `async
// for`); readchunk() is not provided (libcurl decodes the chunked framing itself).
//
// A StreamReader is a handle on its response (copies share the buffer). Cancellation: a task
// cancelled while waiting for data aborts the transfer (as the response's read() does).
// Thread safety: loop-thread only; one task reads at a time (RuntimeError otherwise).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pyconc/asyncio/task.hpp"

namespace pyconc::detail {
struct ClientResponseState;
}

namespace pyconc::aiohttp {

class StreamReader;

// The async iterator of iter_chunked / iter_any / iter_line: next() gives the next piece, or
// nullopt at the end of the body (Python's StopAsyncIteration).
class StreamChunks {
 public:
  asyncio::Task<std::optional<std::string>> next();

 private:
  friend class StreamReader;
  enum class Mode : std::uint8_t { chunked, any, line };
  StreamChunks(std::shared_ptr<detail::ClientResponseState> s, Mode mode, std::size_t n)
      : s_(std::move(s)), mode_(mode), n_(n) {}
  std::shared_ptr<detail::ClientResponseState> s_;
  Mode mode_;
  std::size_t n_;
};

class StreamReader {
 public:
  explicit StreamReader(std::shared_ptr<detail::ClientResponseState> s) noexcept
      : s_(std::move(s)) {}

  // Up to n bytes, waiting until at least one is there; "" at the end of the body. n < 0:
  // everything up to the end. n == 0: "" at once.
  asyncio::Task<std::string> read(std::ptrdiff_t n = -1) const;
  // Whatever is buffered (waiting until something is); "" at the end.
  asyncio::Task<std::string> readany() const;
  // Exactly n bytes; asyncio::IncompleteReadError (with the partial bytes) if the body ends
  // first. ValueError for n < 0.
  asyncio::Task<std::string> readexactly(std::ptrdiff_t n) const;
  // A line, "\n" included; the rest at the end of the body, "" after it. ValueError("Line is
  // too long") when no "\n" comes within twice read_bufsize bytes.
  asyncio::Task<std::string> readline() const;
  // As readline(), up to and including `separator` (ValueError if empty).
  asyncio::Task<std::string> readuntil(std::string separator = "\n") const;

  // Python: iter_chunked(n) (pieces of n bytes, the last shorter), iter_any() (what arrives),
  // iter_line() -- lines, as readline(). ValueError for n == 0.
  StreamChunks iter_chunked(std::size_t n) const;
  StreamChunks iter_any() const;
  StreamChunks iter_line() const;

  // The body is complete and every byte was read.
  bool at_eof() const;
  // The body is complete (bytes may still be buffered). Python: is_eof().
  bool is_eof() const;
  // The transfer's failure, null if none (yet).
  std::exception_ptr exception() const;
  // Body bytes received so far (decoded). Python: total_bytes.
  std::uint64_t total_bytes() const;

 private:
  std::shared_ptr<detail::ClientResponseState> s_;
};

}  // namespace pyconc::aiohttp
