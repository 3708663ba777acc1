// ClientSessionCore: the session's libcurl multi handle, driven by the event loop (sockets
// and timer from libcurl's callbacks, pump of finished transfers).
#include <algorithm>
#include <cerrno>
#include <new>

#include "client_core.hpp"
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

}  // namespace

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

void ClientSessionCore::setup_easy(CURL* e, bool fresh) {
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_SHARE, share_);
  // The cookie engine is switched on once per handle: curl_easy_reset keeps it (and the
  // share), and setting CURLOPT_COOKIEFILE again after a reset leaks libcurl's list of cookie
  // files (LeakSanitizer, libcurl 7.88).
  if (options_.cookie_jar && fresh) curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
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

CURL* ClientSessionCore::acquire_easy() {
  CURL* e = nullptr;
  bool fresh = false;
  if (!idle_easies_.empty()) {
    e = idle_easies_.back();
    idle_easies_.pop_back();
    // curl_easy_reset forgets the list of cookie files CURLOPT_COOKIEFILE made without freeing
    // it (libcurl 7.88: LeakSanitizer, a fresh handle reset once); a NULL file frees it first.
    // The cookies stay in the share, and setup_easy's CURLOPT_SHARE turns the engine back on.
    if (options_.cookie_jar) curl_easy_setopt(e, CURLOPT_COOKIEFILE, nullptr);
    curl_easy_reset(e);  // every option back to its default; connections and caches stay
  } else {
    e = curl_easy_init();
    if (e == nullptr) throw std::bad_alloc();
    fresh = true;
  }
  setup_easy(e, fresh);
  return e;
}

void ClientSessionCore::release_easy(CURL* e) noexcept {
  if (e == nullptr) return;
  // As many as may be in flight at once (32 when unlimited), so a steady load allocates none.
  const std::size_t keep = options_.limit > 0 ? options_.limit : 32;
  if (!closed_ && idle_easies_.size() < keep) {
    try {
      idle_easies_.push_back(e);
      return;
    } catch (...) {
    }
  }
  curl_easy_cleanup(e);
}

bool ClientSessionCore::try_take_slot(const std::string& origin) {
  if (closed_) throw aiohttp::ClientConnectionError("Session is closed");
  const std::size_t limit = options_.limit;
  const std::size_t per_origin = options_.limit_per_host;
  if (limit == 0 && per_origin == 0) return true;
  if (limit > 0 && in_flight_ >= limit) return false;
  if (per_origin > 0) {
    std::size_t& n = in_flight_per_origin_[origin];
    if (n >= per_origin) return false;
    ++n;
  }
  ++in_flight_;
  return true;
}

void ClientSessionCore::release_slot(const std::string& origin) noexcept {
  if (closed_ || (options_.limit == 0 && options_.limit_per_host == 0)) return;
  --in_flight_;
  if (options_.limit_per_host > 0) {
    auto it = in_flight_per_origin_.find(origin);
    if (it != in_flight_per_origin_.end() && --it->second == 0) in_flight_per_origin_.erase(it);
  }
  if (!loop_usable()) return;
  // Hand the freed capacity to the first waiters that can use it (a waiter whose origin is
  // at its own limit keeps its place for that origin's next free slot).
  for (auto it = slot_waiters_.begin(); it != slot_waiters_.end();) {
    if (options_.limit > 0 && in_flight_ >= options_.limit) break;
    SlotAwaiter* w = *it;
    bool taken = false;
    try {
      taken = try_take_slot(w->origin());
    } catch (...) {
    }
    if (!taken) {
      ++it;
      continue;
    }
    it = slot_waiters_.erase(it);
    w->grant();
  }
}

void ClientSessionCore::enqueue(SlotAwaiter* w) {
  slot_waiters_.push_back(w);
}

void ClientSessionCore::dequeue(SlotAwaiter* w) noexcept {
  auto it = std::find(slot_waiters_.begin(), slot_waiters_.end(), w);
  if (it != slot_waiters_.end()) slot_waiters_.erase(it);
}

void RequestSlot::reset() noexcept {
  if (core_ == nullptr) return;
  ClientSessionCore* core = std::exchange(core_, nullptr);
  core->release_slot(origin_);
}

SlotAwaiter::~SlotAwaiter() {
  if (queued_) core_->dequeue(this);
  stop_timer();
  if (granted_) core_->release_slot(origin_);  // taken but never handed out
}

void SlotAwaiter::await_suspend(std::coroutine_handle<> h) {
  park(h);
  parked_ = true;
  core_->enqueue(this);
  queued_ = true;
  if (deadline_) {
    timer_ = core_->loop().call_at(*deadline_, [this] {
      timer_armed_ = false;
      timer_ = {};
      if (!queued_) return;
      core_->dequeue(this);
      queued_ = false;
      std::exception_ptr e;
      try {
        e = std::make_exception_ptr(
            TimeoutError("Connection timeout to host " + origin_ +
                         " (waiting for a free connection: the session's limit is reached)"));
      } catch (...) {
        e = std::current_exception();
      }
      fail(std::move(e));
    });
    timer_armed_ = true;
  }
}

RequestSlot SlotAwaiter::await_resume() {
  if (parked_) {
    try {
      resume_check();
    } catch (...) {
      if (granted_) core_->release_slot(origin_);
      granted_ = false;
      throw;
    }
  }
  if (error_) std::rethrow_exception(error_);
  granted_ = false;
  return RequestSlot(core_, origin_);
}

bool SlotAwaiter::cancel() noexcept {
  if (!cancellable()) return false;
  if (queued_) core_->dequeue(this);
  queued_ = false;
  stop_timer();
  return cancelled_now();
}

void SlotAwaiter::grant() noexcept {
  queued_ = false;
  granted_ = true;
  stop_timer();
  complete();
}

void SlotAwaiter::fail(std::exception_ptr e) noexcept {
  queued_ = false;
  error_ = std::move(e);
  stop_timer();
  complete();
}

void SlotAwaiter::stop_timer() noexcept {
  if (!timer_armed_) return;
  if (core_->loop_usable()) timer_.cancel();
  timer_ = {};
  timer_armed_ = false;
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
  // Requests still waiting for a slot fail as the live ones did.
  std::deque<SlotAwaiter*> waiting;
  waiting.swap(slot_waiters_);
  for (SlotAwaiter* w : waiting) {
    std::exception_ptr e;
    try {
      e = std::make_exception_ptr(aiohttp::ClientConnectionError("Session is closed"));
    } catch (...) {
      e = std::current_exception();
    }
    if (loop_usable()) w->fail(std::move(e));
  }
  for (CURL* e : idle_easies_) curl_easy_cleanup(e);
  idle_easies_.clear();
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

}  // namespace pyconc::detail
