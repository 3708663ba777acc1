// pyconc/asyncio/detail/tls.hpp -- one TLS connection's state machine, without OpenSSL types.
//
// A TlsSession wraps an OpenSSL SSL object on two memory BIOs (the approach of Python's
// asyncio sslproto): the socket I/O stays the transport's own -- ciphertext read from the fd
// is fed in, ciphertext to send is taken out and written through the transport's ordinary
// write queue and flusher -- so SSL never touches the fd and never reports WANT_WRITE, and
// WANT_READ always means "feed more ciphertext when the fd is readable". The reactor's
// readiness drives both directions exactly as for plain TCP.
//
// Thread safety: loop-thread only (owned by one StreamTransport).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "pyconc/asyncio/detail/byte_buffer.hpp"

namespace pyconc::asyncio {
class SSLContext;
}

namespace pyconc::detail {

class TlsSession;

struct TlsSessionDeleter {
  void operator()(TlsSession* s) const noexcept;
};
using TlsSessionPtr = std::unique_ptr<TlsSession, TlsSessionDeleter>;

// A client session verifying `server_hostname` (an IP address is matched as one; empty: no
// SNI and no host check), or a server session.
TlsSessionPtr make_tls_session(const asyncio::SSLContext& ctx, bool server_side,
                               const std::string& server_hostname);

enum class TlsStep { done, want_read };
enum class TlsRead { data, want_read, eof };

// Ciphertext read from the peer.
void tls_feed(TlsSession& s, const char* data, std::size_t size);
// One round of the handshake (SSLError / SSLCertVerificationError on failure).
TlsStep tls_handshake(TlsSession& s);
bool tls_handshake_done(const TlsSession& s) noexcept;
// Decrypts everything the fed ciphertext holds into `out`: data when bytes were appended,
// eof on the peer's close_notify, want_read when more ciphertext is needed. SSLError.
TlsRead tls_read(TlsSession& s, ByteBuffer& out);
// Encrypts `plain` (all of it; SSLError on failure); the records wait in the output.
void tls_write(TlsSession& s, std::string_view plain);
// Queues close_notify (once; no-op before the handshake completed).
void tls_shutdown(TlsSession& s) noexcept;
// Takes the ciphertext waiting to be sent (empty if none).
std::string tls_take_output(TlsSession& s);
// The session's description when the peer's stream ended without close_notify mid-handshake.
[[noreturn]] void tls_raise_eof_in_handshake();

}  // namespace pyconc::detail
