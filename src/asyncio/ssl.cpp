// SSLContext and TlsSession: OpenSSL behind the StreamTransport, on memory BIOs.
#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <mutex>
#include <string>

#include "pyconc/asyncio/detail/tls.hpp"
#include "pyconc/asyncio/ssl.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {

class SslContextState {
 public:
  SslContextState(SSL_CTX* ctx, bool server) : ctx_(ctx), server_(server) {}
  SslContextState(const SslContextState&) = delete;
  SslContextState& operator=(const SslContextState&) = delete;
  ~SslContextState() { SSL_CTX_free(ctx_); }

  SSL_CTX* ctx_;
  bool server_;
  bool check_hostname_ = false;
  asyncio::VerifyMode verify_ = asyncio::VerifyMode::CERT_NONE;
};

namespace {

// OpenSSL's error queue as Python words it: "[SSL: REASON] reason text (lib)"; clears it.
std::string ssl_reason(unsigned long code) {
  const char* r = ERR_reason_error_string(code);
  std::string reason = r != nullptr ? r : "UNKNOWN";
  for (char& c : reason) c = c == ' ' ? '_' : static_cast<char>(std::toupper(c));
  return reason;
}

[[noreturn]] void raise_ssl_error(const std::string& what) {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) throw asyncio::SSLError("[SSL] " + what, "UNKNOWN");
  const std::string reason = ssl_reason(code);
  const char* text = ERR_reason_error_string(code);
  throw asyncio::SSLError(
      "[SSL: " + reason + "] " + (text != nullptr ? text : "") + " (" + what + ")", reason);
}

void require_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw_os_error(errno, path);
}

int verify_flag(asyncio::VerifyMode m) {
  switch (m) {
    case asyncio::VerifyMode::CERT_NONE:
      return SSL_VERIFY_NONE;
    case asyncio::VerifyMode::CERT_OPTIONAL:
      return SSL_VERIFY_PEER;
    case asyncio::VerifyMode::CERT_REQUIRED:
      return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  return SSL_VERIFY_NONE;
}

std::shared_ptr<SslContextState> new_state(bool server) {
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (ctx == nullptr) raise_ssl_error("SSL_CTX_new");
  auto s = std::make_shared<SslContextState>(ctx, server);
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // Partial writes never happen on memory BIOs, but the records of one write may be moved.
  SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
  return s;
}

}  // namespace

// ------------------------------------------------------------------ TlsSession

class TlsSession {
 public:
  explicit TlsSession(SSL* ssl) : ssl_(ssl) {}
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;
  ~TlsSession() { SSL_free(ssl_); }  // frees both BIOs

  SSL* ssl_;
  BIO* in_ = nullptr;   // ciphertext from the peer (we write, SSL reads)
  BIO* out_ = nullptr;  // ciphertext to the peer (SSL writes, we read)
  bool handshake_done_ = false;
  bool shutdown_sent_ = false;
};

void TlsSessionDeleter::operator()(TlsSession* s) const noexcept {
  delete s;
}

TlsSessionPtr make_tls_session(const asyncio::SSLContext& ctx, bool server_side,
                               const std::string& server_hostname) {
  SslContextState& st = ctx.state();
  if (server_side && !st.server_) {
    throw ValueError("a client SSLContext cannot serve connections: use SSLContext::server()");
  }
  if (!server_side && st.server_) {
    throw ValueError("a server SSLContext cannot open connections: use SSLContext::client()");
  }
  SSL* ssl = SSL_new(st.ctx_);
  if (ssl == nullptr) raise_ssl_error("SSL_new");
  TlsSessionPtr s(new TlsSession(ssl));
  s->in_ = BIO_new(BIO_s_mem());
  s->out_ = BIO_new(BIO_s_mem());
  if (s->in_ == nullptr || s->out_ == nullptr) {
    BIO_free(s->in_);
    BIO_free(s->out_);
    raise_ssl_error("BIO_new");
  }
  BIO_set_mem_eof_return(s->in_, -1);  // an empty input BIO means "retry", not EOF
  SSL_set_bio(ssl, s->in_, s->out_);
  if (server_side) {
    SSL_set_accept_state(ssl);
    return s;
  }
  SSL_set_connect_state(ssl);
  if (!server_hostname.empty()) {
    unsigned char addr[16];
    const bool is_ip = ::inet_pton(AF_INET, server_hostname.c_str(), addr) == 1 ||
                       ::inet_pton(AF_INET6, server_hostname.c_str(), addr) == 1;
    if (!is_ip && SSL_set_tlsext_host_name(ssl, server_hostname.c_str()) != 1) {
      raise_ssl_error("server_hostname");
    }
    if (st.check_hostname_) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      const int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, server_hostname.c_str())
                           : X509_VERIFY_PARAM_set1_host(param, server_hostname.c_str(), 0);
      if (ok != 1) raise_ssl_error("server_hostname");
    }
  } else if (st.check_hostname_) {
    throw ValueError("check_hostname requires server_hostname");
  }
  return s;
}

void tls_feed(TlsSession& s, const char* data, std::size_t size) {
  while (size > 0) {
    const int chunk = static_cast<int>(std::min<std::size_t>(size, INT_MAX));
    const int n = BIO_write(s.in_, data, chunk);
    if (n <= 0) raise_ssl_error("BIO_write");
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

namespace {

// A failed SSL_* call: raises what Python would, or returns the "want" it reported.
int check(TlsSession& s, int ret, const char* op) {
  const int err = SSL_get_error(s.ssl_, ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:  // not with memory BIOs; treated as "need more input"
      return err;
    case SSL_ERROR_ZERO_RETURN:
      return err;
    default:
      break;
  }
  const long verify = SSL_get_verify_result(s.ssl_);
  if (!s.handshake_done_ && verify != X509_V_OK) {
    ERR_clear_error();
    const std::string text = X509_verify_cert_error_string(verify);
    throw asyncio::SSLCertVerificationError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: " + text, verify, text);
  }
  if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    throw asyncio::SSLError(
        "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of "
        "protocol (" +
            std::string(op) + ")",
        "UNEXPECTED_EOF_WHILE_READING");
  }
  raise_ssl_error(op);
}

}  // namespace

TlsStep tls_handshake(TlsSession& s) {
  if (s.handshake_done_) return TlsStep::done;
  const int r = SSL_do_handshake(s.ssl_);
  if (r == 1) {
    s.handshake_done_ = true;
    return TlsStep::done;
  }
  const int err = check(s, r, "do_handshake");
  if (err == SSL_ERROR_ZERO_RETURN) tls_raise_eof_in_handshake();
  return TlsStep::want_read;
}

bool tls_handshake_done(const TlsSession& s) noexcept {
  return s.handshake_done_;
}

TlsRead tls_read(TlsSession& s, ByteBuffer& out) {
  bool got = false;
  while (true) {
    char* room = out.prepare(16 * 1024);
    const int want = static_cast<int>(std::min<std::size_t>(out.room(), INT_MAX));
    const int n = SSL_read(s.ssl_, room, want);
    if (n > 0) {
      out.commit(static_cast<std::size_t>(n));
      got = true;
      continue;
    }
    const int err = check(s, n, "read");
    if (err == SSL_ERROR_ZERO_RETURN) return got ? TlsRead::data : TlsRead::eof;
    return got ? TlsRead::data : TlsRead::want_read;
  }
}

void tls_write(TlsSession& s, std::string_view plain) {
  while (!plain.empty()) {
    const int chunk = static_cast<int>(std::min<std::size_t>(plain.size(), INT_MAX));
    const int n = SSL_write(s.ssl_, plain.data(), chunk);
    if (n <= 0) {
      check(s, n, "write");
      // WANT_READ/WANT_WRITE cannot come from memory BIOs without renegotiation (refused).
      throw asyncio::SSLError("[SSL] write could not proceed", "WANT_READ");
    }
    plain.remove_prefix(static_cast<std::size_t>(n));
  }
}

void tls_shutdown(TlsSession& s) noexcept {
  if (!s.handshake_done_ || s.shutdown_sent_) return;
  s.shutdown_sent_ = true;
  SSL_shutdown(s.ssl_);  // queues close_notify; we do not wait for the peer's
  ERR_clear_error();
}

std::string tls_take_output(TlsSession& s) {
  std::string out;
  const std::size_t pending = BIO_ctrl_pending(s.out_);
  if (pending == 0) return out;
  out.resize(pending);
  const int n = BIO_read(s.out_, out.data(), static_cast<int>(pending));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

void tls_raise_eof_in_handshake() {
  throw asyncio::SSLError(
      "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol (handshake)",
      "UNEXPECTED_EOF_WHILE_READING");
}

}  // namespace pyconc::detail

namespace pyconc::asyncio {

SSLContext SSLContext::client() {
  SSLContext c(detail::new_state(false));
  c.set_verify_mode(VerifyMode::CERT_REQUIRED);
  c.set_check_hostname(true);
  c.load_default_certs();
  return c;
}

SSLContext SSLContext::server(const std::string& certfile, const std::string& keyfile) {
  SSLContext c(detail::new_state(true));
  c.load_cert_chain(certfile, keyfile);
  return c;
}

void SSLContext::load_verify_locations(const std::string& cafile) {
  detail::require_file(cafile);
  if (SSL_CTX_load_verify_locations(state_->ctx_, cafile.c_str(), nullptr) != 1) {
    detail::raise_ssl_error("load_verify_locations " + cafile);
  }
}

void SSLContext::load_cert_chain(const std::string& certfile, const std::string& keyfile) {
  const std::string& key = keyfile.empty() ? certfile : keyfile;
  detail::require_file(certfile);
  detail::require_file(key);
  if (SSL_CTX_use_certificate_chain_file(state_->ctx_, certfile.c_str()) != 1) {
    detail::raise_ssl_error("load_cert_chain " + certfile);
  }
  if (SSL_CTX_use_PrivateKey_file(state_->ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    detail::raise_ssl_error("load_cert_chain " + key);
  }
  if (SSL_CTX_check_private_key(state_->ctx_) != 1) {
    detail::raise_ssl_error("load_cert_chain: the key does not match the certificate");
  }
}

void SSLContext::load_default_certs() {
  if (SSL_CTX_set_default_verify_paths(state_->ctx_) != 1) {
    detail::raise_ssl_error("load_default_certs");
  }
}

bool SSLContext::check_hostname() const noexcept {
  return state_->check_hostname_;
}

void SSLContext::set_check_hostname(bool check) {
  if (check && state_->verify_ == VerifyMode::CERT_NONE) {
    set_verify_mode(VerifyMode::CERT_REQUIRED);  // Python does the same
  }
  state_->check_hostname_ = check;
}

VerifyMode SSLContext::verify_mode() const noexcept {
  return state_->verify_;
}

void SSLContext::set_verify_mode(VerifyMode mode) {
  if (mode == VerifyMode::CERT_NONE && state_->check_hostname_) {
    throw ValueError("Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
  }
  state_->verify_ = mode;
  SSL_CTX_set_verify(state_->ctx_, detail::verify_flag(mode), nullptr);
}

bool SSLContext::is_server() const noexcept {
  return state_->server_;
}

}  // namespace pyconc::asyncio
