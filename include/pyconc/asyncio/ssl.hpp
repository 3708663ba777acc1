// pyconc/asyncio/ssl.hpp -- TLS for streams: SSLContext, and the option that turns it on.
//
// Python: ssl.SSLContext as asyncio's streams use it.
//   auto [r, w] = co_await aio::open_connection("example.org", 443, {.ssl = aio::SSLContext::client()});
//   auto ctx = aio::SSLContext::client();  ctx.load_verify_locations("ca.pem");   // a private CA
//   auto server = co_await aio::start_server(handle, "0.0.0.0", 8443,
//                                            {.ssl = aio::SSLContext::server("cert.pem", "key.pem")});
// SSLContext::client() is ssl.create_default_context(): it verifies the peer's certificate
// against the system's CA store (OpenSSL's default paths) and checks the host name (or IP
// address) given as server_hostname, which defaults to open_connection's host; TLS 1.2 at
// least. For a test against a self-signed peer: set_check_hostname(false) and then
// set_verify_mode(VerifyMode::CERT_NONE), in that order (Python raises ValueError otherwise).
// SSLContext::server(certfile, keyfile) is a server context with its certificate chain loaded.
// A failed verification raises SSLCertVerificationError (an SSLError, itself an OSError, as in
// Python); other TLS failures raise SSLError. Renegotiation is refused.
//
// Over TLS the StreamReader/StreamWriter API is unchanged; write_eof() raises RuntimeError
// (Python: NotImplementedError, "SSL doesn't support half-closes") and can_write_eof() is false.
// close() sends the TLS close_notify before closing. OpenSSL is an implementation detail: no
// public header includes it.
//
// Thread safety: an SSLContext is a handle; copies share one context. Configure it before
// the first connection uses it; after that it may serve connections on any number of loops
// and threads at once (new connections only read it).
#pragma once

#include <memory>
#include <string>

#include "pyconc/asyncio/stream_errors.hpp"

namespace pyconc::detail {
class SslContextState;
}

namespace pyconc::asyncio {

// Python: ssl.VerifyMode.
enum class VerifyMode { CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED };

class SSLContext {
 public:
  // Python: ssl.create_default_context(ssl.Purpose.SERVER_AUTH) -- a client context that
  // verifies the server with the system's CAs and checks its host name.
  static SSLContext client();
  // A server context presenting `certfile` (PEM, the certificate chain) with `keyfile` (PEM;
  // empty: the key is in certfile). Python: create_default_context(Purpose.CLIENT_AUTH) plus
  // load_cert_chain.
  static SSLContext server(const std::string& certfile, const std::string& keyfile = {});

  // Python: ctx.load_verify_locations(cafile): trust the CA certificates of `cafile` (PEM).
  // FileNotFoundError if it does not exist, SSLError if it holds no usable certificate.
  void load_verify_locations(const std::string& cafile);
  // Python: ctx.load_cert_chain(certfile, keyfile). SSLError if the key does not match.
  void load_cert_chain(const std::string& certfile, const std::string& keyfile = {});
  // Python: ctx.load_default_certs() / set_default_verify_paths(): the system's CA store.
  void load_default_certs();

  // Python: ctx.check_hostname. Enabling it turns CERT_NONE into CERT_REQUIRED (as Python).
  bool check_hostname() const noexcept;
  void set_check_hostname(bool check);
  // Python: ctx.verify_mode. ValueError for CERT_NONE while check_hostname is enabled.
  VerifyMode verify_mode() const noexcept;
  void set_verify_mode(VerifyMode mode);

  bool is_server() const noexcept;
  detail::SslContextState& state() const noexcept { return *state_; }

 private:
  explicit SSLContext(std::shared_ptr<detail::SslContextState> s) : state_(std::move(s)) {}
  std::shared_ptr<detail::SslContextState> state_;
};

// The `ssl` member of the stream options: an SSLContext (taken by reference -- the options
// are copied when open_connection/start_server is called, and the context with them), `true`
// for SSLContext::client() (Python's ssl=True), or nothing for plain TCP. Trivially
// destructible, as the option structs must be (see OpenConnectionOptions).
class SSLOption {
 public:
  SSLOption() noexcept = default;
  SSLOption(const SSLContext& ctx) noexcept : ctx_(&ctx) {}        // NOLINT: implicit on purpose
  SSLOption(bool use_default) noexcept : default_(use_default) {}  // NOLINT
  explicit operator bool() const noexcept { return ctx_ != nullptr || default_; }
  // The context to use (a new default client context for `true`).
  SSLContext get() const { return ctx_ != nullptr ? *ctx_ : SSLContext::client(); }

 private:
  const SSLContext* ctx_ = nullptr;
  bool default_ = false;
};

}  // namespace pyconc::asyncio
