// pyconc/asyncio/stream_errors.hpp -- the exceptions of StreamReader's exact reads.
//
// Python: asyncio.IncompleteReadError and asyncio.LimitOverrunError.
//   try { auto hdr = co_await reader.readexactly(16); }
//   catch (const aio::IncompleteReadError& e) { e.partial; e.expected; }   // EOF came first
//   try { auto line = co_await reader.readuntil("\r\n"); }
//   catch (const aio::LimitOverrunError& e) { co_await reader.read(e.consumed); }  // skip it
// Differences: `expected` is std::nullopt where Python has None (readuntil's EOF). Both derive
// from pyconc::Error (Python: EOFError and Exception).
// Thread safety: plain values.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "pyconc/errors.hpp"

namespace pyconc::asyncio {

// EOF arrived before the requested bytes (readexactly) or the separator (readuntil). `partial`
// holds what was read before EOF; it is no longer in the reader's buffer.
class IncompleteReadError : public Error {
 public:
  IncompleteReadError(std::string partial_bytes, std::optional<std::size_t> expected_bytes)
      : Error(message(partial_bytes.size(), expected_bytes)),
        partial(std::move(partial_bytes)),
        expected(expected_bytes) {}

  std::string partial;
  std::optional<std::size_t> expected;

 private:
  static std::string message(std::size_t got, std::optional<std::size_t> want) {
    return std::to_string(got) + " bytes read on a total of " +
           (want ? std::to_string(*want) : std::string("undefined")) + " expected bytes";
  }
};

// readuntil() found no separator within the reader's limit (or found it beyond the limit).
// The data stays in the buffer: `consumed` bytes can be dropped with read(consumed).
class LimitOverrunError : public Error {
 public:
  LimitOverrunError(const std::string& message, std::size_t consumed_bytes)
      : Error(message), consumed(consumed_bytes) {}

  std::size_t consumed;
};

}  // namespace pyconc::asyncio
