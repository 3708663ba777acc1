// pyconc/asyncio/stream_errors.hpp -- the exceptions of streams: exact reads and TLS.
//
// Python: asyncio.IncompleteReadError and asyncio.LimitOverrunError.
//   try { auto hdr = co_await reader.readexactly(16); }
//   catch (const aio::IncompleteReadError& e) { e.partial; e.expected; }   // EOF came first
//   try { auto line = co_await reader.readuntil("\r\n"); }
//   catch (const aio::LimitOverrunError& e) { co_await reader.read(e.consumed); }  // skip it
// Differences: `expected` is std::nullopt where Python has None (readuntil's EOF). Both derive
// from pyconc::Error (Python: EOFError and Exception).
// Python: ssl.SSLError and ssl.SSLCertVerificationError -- a TLS stream failed.
//   try { co_await aio::open_connection(host, 443, {.ssl = true}); }
//   catch (const aio::SSLCertVerificationError& e) { e.verify_code(); e.verify_message(); }
//   catch (const aio::SSLError& e) { e.reason(); }    // an OSError, as in Python
// Thread safety: plain values.
#pragma once

#include <string>
#include <utility>

#include "pyconc/asyncio/exceptions.hpp"  // IncompleteReadError, LimitOverrunError live there
#include "pyconc/errors.hpp"

namespace pyconc::asyncio {

// Python: ssl.SSLError (an OSError) -- the TLS layer failed: a handshake error, a bad record,
// a certificate or key that cannot be loaded. `reason()` is OpenSSL's reason string
// (Python's e.reason), e.g. "WRONG_VERSION_NUMBER".
class SSLError : public OSError {
 public:
  SSLError(const std::string& message, std::string reason)
      : OSError(1, message, std::string()), reason_(std::move(reason)) {}
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string reason_;
};

// Python: ssl.SSLCertVerificationError -- the peer's certificate did not verify (unknown CA,
// expired, wrong host name). verify_code() is X509_V_ERR_* (Python's verify_code).
class SSLCertVerificationError : public SSLError {
 public:
  SSLCertVerificationError(const std::string& message, long code, std::string verify_message)
      : SSLError(message, "CERTIFICATE_VERIFY_FAILED"),
        code_(code),
        verify_message_(std::move(verify_message)) {}
  long verify_code() const noexcept { return code_; }
  const std::string& verify_message() const noexcept { return verify_message_; }

 private:
  long code_;
  std::string verify_message_;
};

}  // namespace pyconc::asyncio
