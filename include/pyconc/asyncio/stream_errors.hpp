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

#include "pyconc/asyncio/exceptions.hpp"  // IncompleteReadError, LimitOverrunError live there
