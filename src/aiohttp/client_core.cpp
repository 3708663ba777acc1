// ClientSessionCore (libcurl multi on the event loop) and ClientTransfer (one request).
#include "client_core.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <new>

#include "pyconc/aiohttp/detail/http_response.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {

namespace {

// libcurl's global state, initialised once before the first handle (curl_global_init is
// thread-safe in the libcurl Debian ships, CURL_VERSION_THREADSAFE; a static makes it once).
void global_init() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    throw RuntimeError(std::string("curl_global_init failed: ") + curl_easy_strerror(rc));
  }
}

void check_multi(CURLMcode rc, const char* what) {
  if (rc == CURLM_OUT_OF_MEMORY) throw std::bad_alloc();
  if (rc != CURLM_OK) {
    throw aiohttp::ClientError(std::string(what) + ": " + curl_multi_strerror(rc));
  }
}

long to_long_limit(std::size_t n, const char* name) {
  if (n > 1'000'000) throw ValueError(std::string(name) + " is too large: " + std::to_string(n));
  return static_cast<long>(n);
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_redirect_status(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

ClientResponseState::ClientResponseState() = default;
ClientResponseState::~ClientResponseState() = default;

// ------------------------------------------------------------------------------------------
// ClientSessionCore
// ------------------------------------------------------------------------------------------

ClientSessionCore::ClientSessionCore(aiohttp::ClientSessionOptions options)
    : options_(std::move(options)) {
  global_init();
  const long limit = to_long_limit(options_.limit, "limit");
  const long per_host = to_long_limit(options_.limit_per_host, "limit_per_host");
  if (!options_.base_url.empty()) {
    aiohttp::URL base;
    try {
      base = aiohttp::URL(options_.base_url);
    } catch (const ValueError& e) {
      throw aiohttp::InvalidURL(options_.base_url, e.what());
    }
    if (base.scheme() != "http" && base.scheme() != "https") {
      throw aiohttp::InvalidURL(options_.base_url, "base_url must be an absolute http(s) URL");
    }
    base_url_ = std::move(base);
  }
  multi_ = curl_multi_init();
  share_ = curl_share_init();
  cookie_easy_ = curl_easy_init();
  if (multi_ == nullptr || share_ == nullptr || cookie_easy_ == nullptr) {
    if (cookie_easy_ != nullptr) curl_easy_cleanup(cookie_easy_);
    if (share_ != nullptr) curl_share_cleanup(share_);
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
    throw std::bad_alloc();
  }
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &ClientSessionCore::socket_callback);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &ClientSessionCore::timer_callback);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, limit);
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, per_host);
  // The pool keeps as many idle connections as may be open at once.
  if (limit > 0) curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, limit);
  curl_multi_setopt(
      multi_, CURLMOPT_PIPELINING,
      options_.http2 ? static_cast<long>(CURLPIPE_MULTIPLEX) : static_cast<long>(CURLPIPE_NOTHING));
  // One thread uses the share (the loop's): no lock callbacks are needed.
  if (options_.cookie_jar) curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_easy_setopt(cookie_easy_, CURLOPT_SHARE, share_);
  if (options_.cookie_jar) curl_easy_setopt(cookie_easy_, CURLOPT_COOKIEFILE, "");
}

ClientSessionCore::~ClientSessionCore() {
  close();
}

asyncio::EventLoop& ClientSessionCore::bind() {
  if (closed_) throw RuntimeError("Session is closed");
  asyncio::EventLoop& loop = asyncio::get_running_loop();
  if (loop_ == nullptr) {
    loop_ = &loop;
    remote_ = loop.remote();
  } else if (remote_ != loop.remote()) {
    throw RuntimeError(
        "ClientSession is bound to another event loop (a session belongs to "
        "the loop of its first request)");
  }
  return loop;
}

bool ClientSessionCore::loop_usable() const {
  return loop_ != nullptr && remote_ != nullptr && !remote_->closed();
}

void ClientSessionCore::setup_easy(CURL* e) {
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_SHARE, share_);
  if (options_.cookie_jar) curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
  if (options_.auto_decompress) {
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // every coding libcurl can decode
  } else {
    curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
  }
  // The path is sent as the URL class formed it (libcurl would squash "/../" itself).
  curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                   options_.http2 ? static_cast<long>(CURL_HTTP_VERSION_2TLS)
                                  : static_cast<long>(CURL_HTTP_VERSION_1_1));
  if (!options_.ssl_cafile.empty())
    curl_easy_setopt(e, CURLOPT_CAINFO, options_.ssl_cafile.c_str());
  // Python's aiohttp ignores proxy variables unless trust_env=True; an empty CURLOPT_PROXY
  // makes libcurl ignore them too.
  if (!options_.trust_env) curl_easy_setopt(e, CURLOPT_PROXY, "");
  curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  curl_easy_setopt(
      e, CURLOPT_MAXAGE_CONN,
      static_cast<long>(std::max<std::int64_t>(1, options_.keepalive_timeout.count())));
  if (options_.force_close) curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
}

void ClientSessionCore::add(ClientTransfer& t) {
  if (closed_) throw aiohttp::ClientConnectionError("Session is closed");
  check_multi(curl_multi_add_handle(multi_, t.easy()), "curl_multi_add_handle");
}

void ClientSessionCore::remove(ClientTransfer& t) noexcept {
  curl_multi_remove_handle(multi_, t.easy());
}

void ClientSessionCore::link(ClientTransfer* t) noexcept {
  try {
    transfers_.push_back(t);
  } catch (...) {
    std::terminate();  // a few bytes; the library cannot track the transfer otherwise
  }
}

void ClientSessionCore::unlink(ClientTransfer* t) noexcept {
  auto it = std::find(transfers_.begin(), transfers_.end(), t);
  if (it == transfers_.end()) return;
  *it = transfers_.back();
  transfers_.pop_back();
}

void ClientSessionCore::close() noexcept {
  if (closed_) return;
  closed_ = true;
  // Transfers first: their easy handles must leave the multi handle and the share.
  std::vector<ClientTransfer*> live;
  live.swap(transfers_);
  for (ClientTransfer* t : live) t->detach();
  const bool usable = loop_usable();
  if (usable) {
    pump_handle_.cancel();
    timer_handle_.cancel();
  }
  pump_handle_ = {};
  timer_handle_ = {};
  curl_multi_cleanup(multi_);  // closes the pooled connections (socket callbacks: REMOVE)
  multi_ = nullptr;
  for (auto& [fd, w] : sockets_) {
    if (usable) loop_->reactor().remove(fd);
  }
  sockets_.clear();
  pending_.clear();
  curl_easy_cleanup(cookie_easy_);
  cookie_easy_ = nullptr;
  curl_share_cleanup(share_);
  share_ = nullptr;
}

int ClientSessionCore::socket_callback(CURL*, curl_socket_t s, int what, void* userp, void*) {
  return static_cast<ClientSessionCore*>(userp)->on_socket(s, what);
}

int ClientSessionCore::timer_callback(CURLM*, long timeout_ms, void* userp) {
  static_cast<ClientSessionCore*>(userp)->on_timer(timeout_ms);
  return 0;
}

int ClientSessionCore::on_socket(curl_socket_t s, int what) noexcept {
  // After the loop closed there is nothing to register with (libcurl still reports the
  // sockets it closes during cleanup).
  if (!loop_usable()) return 0;
  if (what == CURL_POLL_REMOVE) {
    unwatch(s);
    return 0;
  }
  std::uint32_t interest = 0;
  if ((what & CURL_POLL_IN) != 0) interest |= io_read;
  if ((what & CURL_POLL_OUT) != 0) interest |= io_write;
  try {
    watch(s, interest);
  } catch (...) {
    return -1;  // libcurl fails the transfers of this socket
  }
  return 0;
}

void ClientSessionCore::watch(int fd, std::uint32_t interest) {
  auto [it, fresh] = sockets_.try_emplace(fd);
  Reactor& r = loop_->reactor();
  if (fresh) {
    try {
      it->second = std::make_unique<SocketWatcher>();
    } catch (...) {
      sockets_.erase(it);
      throw;
    }
  }
  SocketWatcher& w = *it->second;
  w.core = this;
  w.fd = fd;
  // Level-triggered: libcurl reads and writes what it wants per call, not until EAGAIN, and
  // expects to be told again while the socket stays ready. A descriptor number reused by a
  // new socket (libcurl closed the old one without a REMOVE) or an old registration the
  // kernel dropped on close is repaired by switching between add and modify.
  try {
    if (fresh) {
      try {
        r.add(fd, interest, false, &w);
      } catch (const OSError& e) {
        if (e.errno_value() != EEXIST) throw;
        r.modify(fd, interest, false, &w);
      }
    } else if (w.interest != interest) {
      try {
        r.modify(fd, interest, false, &w);
      } catch (const OSError& e) {
        if (e.errno_value() != ENOENT) throw;
        r.add(fd, interest, false, &w);
      }
    }
  } catch (...) {
    if (fresh) sockets_.erase(fd);
    throw;
  }
  w.interest = interest;
}

void ClientSessionCore::unwatch(int fd) noexcept {
  auto it = sockets_.find(fd);
  if (it == sockets_.end()) return;
  loop_->reactor().remove(fd);
  sockets_.erase(it);
  // Readiness queued for the old socket must not reach a new one with the same number.
  std::erase_if(pending_, [fd](const auto& p) { return p.first == fd; });
  for (auto& p : pumping_) {
    if (p.first == fd) p.first = -1;
  }
}

void ClientSessionCore::SocketWatcher::on_io(std::uint32_t events) noexcept {
  // Inside the reactor's poll: only queue (see the file comment).
  try {
    core->pending_.emplace_back(fd, events);
    core->schedule_pump();
  } catch (...) {
    std::terminate();
  }
}

void ClientSessionCore::on_timer(long timeout_ms) noexcept {
  if (closed_ || !loop_usable()) return;
  try {
    timer_handle_.cancel();
    timer_handle_ = {};
    if (timeout_ms < 0) return;
    if (timeout_ms == 0) {
      timeout_due_ = true;
      schedule_pump();
      return;
    }
    timer_handle_ = loop_->call_later(std::chrono::milliseconds(timeout_ms), [this] {
      timer_handle_ = {};
      timeout_due_ = true;
      pump();
    });
  } catch (...) {
    std::terminate();
  }
}

void ClientSessionCore::schedule_pump() {
  if (pump_scheduled_) return;
  pump_handle_ = loop_->call_soon([this] { pump(); });
  pump_scheduled_ = true;
}

// One round of libcurl work: the readiness queued since the last round, an expired timer,
// then the transfers that finished.
void ClientSessionCore::pump() noexcept {
  pump_scheduled_ = false;
  pump_handle_ = {};
  if (closed_) return;
  pumping_.swap(pending_);
  int running = 0;
  for (std::size_t i = 0; i < pumping_.size(); ++i) {
    const auto [fd, ev] = pumping_[i];
    if (fd < 0) continue;  // unwatched meanwhile
    int flags = 0;
    if ((ev & (io_read | io_hangup)) != 0U) flags |= CURL_CSELECT_IN;
    if ((ev & io_write) != 0U) flags |= CURL_CSELECT_OUT;
    if ((ev & io_error) != 0U) flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(multi_, fd, flags, &running);
  }
  pumping_.clear();
  if (timeout_due_) {
    timeout_due_ = false;
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
  }
  read_done();
}

void ClientSessionCore::read_done() noexcept {
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
    if (m->msg != CURLMSG_DONE) continue;
    const CURLcode code = m->data.result;  // `m` is invalid once the handle is removed
    void* p = nullptr;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
    if (p != nullptr) static_cast<ClientTransfer*>(p)->on_done(code);
  }
}

// ------------------------------------------------------------------------------------------
// ClientTransfer
// ------------------------------------------------------------------------------------------

ClientTransfer::ClientTransfer(std::shared_ptr<ClientSessionCore> core, TransferTimeouts timeouts)
    : core_(std::move(core)), timeouts_(timeouts) {
  if (core_->closed()) throw RuntimeError("Session is closed");
  easy_ = curl_easy_init();
  if (easy_ == nullptr) throw std::bad_alloc();
  core_->setup_easy(easy_);
  curl_easy_setopt(easy_, CURLOPT_PRIVATE, this);
  curl_easy_setopt(easy_, CURLOPT_HEADERFUNCTION, &ClientTransfer::header_callback);
  curl_easy_setopt(easy_, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &ClientTransfer::write_callback);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_PREREQFUNCTION, &ClientTransfer::prereq_callback);
  curl_easy_setopt(easy_, CURLOPT_PREREQDATA, this);
  curl_easy_setopt(easy_, CURLOPT_ERRORBUFFER, errbuf_.data());
  core_->link(this);
}

ClientTransfer::~ClientTransfer() {
  if (core_ != nullptr) {
    if (in_multi_) core_->remove(*this);
    in_multi_ = false;
    cancel_timer();
    core_->unlink(this);
  }
  if (easy_ != nullptr) curl_easy_cleanup(easy_);
  if (headers_ != nullptr) curl_slist_free_all(headers_);
  if (mime_ != nullptr) curl_mime_free(mime_);
}

void ClientTransfer::set_headers(curl_slist* list) noexcept {
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, list);
  if (headers_ != nullptr) curl_slist_free_all(headers_);
  headers_ = list;
}

void ClientTransfer::set_mime(curl_mime* mime) noexcept {
  if (mime == nullptr && mime_ == nullptr) return;
  curl_easy_setopt(easy_, CURLOPT_MIMEPOST, mime);
  if (mime_ != nullptr) curl_mime_free(mime_);
  mime_ = mime;
}

void ClientTransfer::start(ClientResponseState* out, bool discard_redirect_body) {
  if (core_ == nullptr) throw aiohttp::ClientConnectionError("Session is closed");
  out_ = out;
  phase_ = TransferPhase::running;
  error_ = nullptr;
  error_phase_ = TransferPhase::idle;
  expect_status_ = true;
  discard_redirect_body_ = discard_redirect_body;
  discard_body_ = false;
  connected_ = false;
  field_open_ = false;
  uploaded_ = 0;
  errbuf_[0] = '\0';
  const auto now = Clock::now();
  last_activity_ = now;
  connect_deadline_.reset();
  if (timeouts_.connect) connect_deadline_ = now + *timeouts_.connect;
  core_->add(*this);
  in_multi_ = true;
  arm_timer();
}

std::exception_ptr ClientTransfer::failure_for(TransferPhase target) const noexcept {
  if (target == TransferPhase::head && error_phase_ >= TransferPhase::head) return nullptr;
  return error_;
}

std::size_t ClientTransfer::header_callback(char* data, std::size_t size, std::size_t n,
                                            void* self) {
  auto* t = static_cast<ClientTransfer*>(self);
  try {
    t->on_header(std::string_view(data, size * n));
  } catch (...) {
    if (t->error_ == nullptr) {
      t->error_ = std::current_exception();
      t->error_phase_ = t->phase_;
    }
    return 0;  // libcurl fails the transfer (CURLE_WRITE_ERROR); on_done reports error_
  }
  return size * n;
}

void ClientTransfer::on_header(std::string_view line) {
  if (phase_ >= TransferPhase::head) return;  // trailers of a chunked body
  if (timeouts_.sock_read) last_activity_ = Clock::now();
  if (expect_status_) {
    // "HTTP/1.1 200 OK", "HTTP/2 200": a new response head (after 1xx ones too).
    std::string_view s = trim_ows(line);
    if (!s.starts_with("HTTP/")) return;
    s.remove_prefix(5);
    const auto sp = s.find(' ');
    const std::string_view version = s.substr(0, sp);
    std::string_view rest = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
    aiohttp::HttpVersion v{0, 9};
    const auto dot = version.find('.');
    std::from_chars(version.data(),
                    version.data() + (dot == std::string_view::npos ? version.size() : dot),
                    v.major);
    v.minor = 0;
    if (dot != std::string_view::npos) {
      std::from_chars(version.data() + dot + 1, version.data() + version.size(), v.minor);
    }
    int status = 0;
    const auto code_end = rest.find(' ');
    const std::string_view code = rest.substr(0, code_end);
    std::from_chars(code.data(), code.data() + code.size(), status);
    const std::string_view reason = code_end == std::string_view::npos
                                        ? std::string_view()
                                        : trim_ows(rest.substr(code_end + 1));
    out_->version = v;
    out_->status = status;
    out_->reason = reason.empty() ? std::string(http_reason_phrase(status)) : std::string(reason);
    out_->headers.clear();
    field_open_ = false;
    expect_status_ = false;
    return;
  }
  if (line == "\r\n" || line == "\n") {
    flush_field();
    if (out_->status >= 100 && out_->status < 200) {
      expect_status_ = true;  // 100 Continue, 103 Early Hints: the real head follows
      return;
    }
    on_head_complete();
    return;
  }
  if (line.front() == ' ' || line.front() == '\t') {
    // Obsolete line folding: the value continues (RFC 9112 §5.2 lets a client replace the
    // fold by a space).
    if (field_open_) field_value_.append(" ").append(trim_ows(line));
    return;
  }
  flush_field();
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return;  // libcurl only passes well-formed fields
  field_name_.assign(trim_ows(line.substr(0, colon)));
  field_value_.assign(trim_ows(line.substr(colon + 1)));
  field_open_ = true;
}

void ClientTransfer::flush_field() {
  if (!field_open_) return;
  field_open_ = false;
  out_->headers.add(std::move(field_name_), std::move(field_value_));
  field_name_.clear();
  field_value_.clear();
}

void ClientTransfer::on_head_complete() {
  phase_ = TransferPhase::head;
  if (discard_redirect_body_ && is_redirect_status(out_->status) &&
      (out_->headers.contains("Location") || out_->headers.contains("URI"))) {
    discard_body_ = true;  // a redirect about to be followed: its body is of no use
  } else if (auto cl = out_->headers.get("Content-Length");
             cl && !out_->headers.contains("Content-Encoding")) {
    // Reserve the announced size (capped: the server may lie), so a large body is not copied
    // log2(size) times while it grows.
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
    if (ec == std::errc() && p == cl->data() + cl->size()) {
      out_->body.reserve(
          static_cast<std::size_t>(std::min<std::uint64_t>(n, std::uint64_t{64} << 20)));
    }
  }
  notify();
}

std::size_t ClientTransfer::write_callback(char* data, std::size_t size, std::size_t n,
                                           void* self) {
  auto* t = static_cast<ClientTransfer*>(self);
  const std::size_t len = size * n;
  if (t->timeouts_.sock_read) t->last_activity_ = Clock::now();
  if (t->discard_body_) return len;
  try {
    t->out_->body.append(data, len);
  } catch (...) {
    if (t->error_ == nullptr) {
      t->error_ = std::current_exception();
      t->error_phase_ = t->phase_;
    }
    return CURL_WRITEFUNC_ERROR;
  }
  return len;
}

int ClientTransfer::prereq_callback(void* self, char*, char*, int, int) {
  auto* t = static_cast<ClientTransfer*>(self);
  // A connection is ready (new or reused) and the request is about to be sent: the connect
  // timeout is over, the read timeout starts.
  t->connected_ = true;
  t->last_activity_ = Clock::now();
  t->arm_timer();
  return CURL_PREREQFUNC_OK;
}

void ClientTransfer::on_done(CURLcode code) noexcept {
  if (in_multi_ && core_ != nullptr) core_->remove(*this);
  in_multi_ = false;
  std::exception_ptr err = error_;  // a failure inside one of our callbacks comes first
  if (err == nullptr && code != CURLE_OK) {
    long os_errno = 0;
    curl_easy_getinfo(easy_, CURLINFO_OS_ERRNO, &os_errno);
    err = curl_failure(code, errbuf_.data(), out_->url, phase_ >= TransferPhase::head, os_errno);
  }
  if (err == nullptr && phase_ < TransferPhase::head) {
    err = std::make_exception_ptr(aiohttp::ServerDisconnectedError());
  }
  finish(err);
}

void ClientTransfer::abort(std::exception_ptr error) noexcept {
  if (phase_ == TransferPhase::done) return;
  if (in_multi_ && core_ != nullptr) core_->remove(*this);
  in_multi_ = false;
  finish(std::move(error));
}

void ClientTransfer::finish(std::exception_ptr error) noexcept {
  cancel_timer();
  if (error != nullptr && error_ == nullptr) {
    error_ = std::move(error);
    error_phase_ = phase_;
  }
  phase_ = TransferPhase::done;
  notify();
}

void ClientTransfer::detach() noexcept {
  if (core_ == nullptr) return;
  abort(std::make_exception_ptr(aiohttp::ClientConnectionError("Session is closed")));
  cancel_timer();
  curl_easy_cleanup(easy_);
  easy_ = nullptr;
  core_.reset();
}

void ClientTransfer::notify() noexcept {
  if (waiter_ == nullptr || phase_ < waiter_->target()) return;
  TransferAwaiter* w = waiter_;
  waiter_ = nullptr;
  // A task of a loop that is gone is never resumed.
  if (core_ != nullptr && !core_->loop_usable()) {
    w->orphan();
    return;
  }
  w->wake(failure_for(w->target()));
}

void ClientTransfer::arm_timer() noexcept {
  if (core_ == nullptr || !core_->loop_usable() || phase_ == TransferPhase::done) return;
  std::optional<Clock::time_point> when = timeouts_.total_deadline;
  auto earlier = [&](Clock::time_point t) {
    if (!when || t < *when) when = t;
  };
  if (!connected_ && connect_deadline_) earlier(*connect_deadline_);
  if (connected_ && timeouts_.sock_read) earlier(last_activity_ + *timeouts_.sock_read);
  if (!when) {
    cancel_timer();
    return;
  }
  if (timer_armed_ && timer_when_ == *when) return;
  cancel_timer();
  try {
    timer_ = core_->loop().call_at(*when, [this] {
      timer_armed_ = false;
      timer_ = {};
      on_timer();
    });
  } catch (...) {
    std::terminate();
  }
  timer_armed_ = true;
  timer_when_ = *when;
}

void ClientTransfer::cancel_timer() noexcept {
  if (!timer_armed_) return;
  if (core_ != nullptr && core_->loop_usable()) timer_.cancel();
  timer_ = {};
  timer_armed_ = false;
}

void ClientTransfer::on_timer() noexcept {
  if (phase_ == TransferPhase::done) return;
  const auto now = Clock::now();
  auto fail = [this](std::string message) {
    std::exception_ptr e;
    try {
      e = std::make_exception_ptr(TimeoutError(std::move(message)));
    } catch (...) {
      e = std::current_exception();
    }
    abort(std::move(e));
  };
  if (timeouts_.total_deadline && now >= *timeouts_.total_deadline) {
    fail("Timeout: the request to " + out_->url.str() + " exceeded its total timeout");
    return;
  }
  if (!connected_ && connect_deadline_ && now >= *connect_deadline_) {
    fail("Connection timeout to host " + out_->url.origin().str());
    return;
  }
  if (connected_ && timeouts_.sock_read && now - last_activity_ >= *timeouts_.sock_read) {
    // Still sending a large body counts as activity too (libcurl sends it by itself).
    curl_off_t sent = 0;
    curl_easy_getinfo(easy_, CURLINFO_SIZE_UPLOAD_T, &sent);
    if (sent == uploaded_) {
      fail("Timeout on reading data from socket");
      return;
    }
    uploaded_ = sent;
    last_activity_ = now;
  }
  arm_timer();  // data arrived meanwhile: the read deadline moved
}

void TransferAwaiter::await_suspend(std::coroutine_handle<> h) {
  if (t_->waiter_ != nullptr) {
    throw RuntimeError("another task is already waiting for this response");
  }
  park(h);
  t_->waiter_ = this;
  parked_ = true;
  attached_ = true;
}

bool TransferAwaiter::cancel() noexcept {
  if (!cancellable()) return false;
  leave_slot();
  t_->abort(std::make_exception_ptr(aiohttp::ClientConnectionError("the request was cancelled")));
  return cancelled_now();
}

}  // namespace pyconc::detail
