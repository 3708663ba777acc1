// ClientTransfer (one request on its libcurl easy handle: head, body, timeouts, completion)
// and TransferAwaiter.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "client_core.hpp"
#include "pyconc/aiohttp/detail/http_response.hpp"
#include "pyconc/detail/exception_info.hpp"
#include "pyconc/detail/trace.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/generator.hpp"

namespace pyconc::detail {

namespace {

// Without the whitespace around it, and the line end.
std::string_view trim_line(std::string_view s) {
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
// ClientTransfer
// ------------------------------------------------------------------------------------------

ClientTransfer::ClientTransfer(std::shared_ptr<ClientSessionCore> core, TransferLimits timeouts)
    : core_(std::move(core)), timeouts_(timeouts) {
  if (core_->closed()) throw RuntimeError("Session is closed");
  easy_ = core_->acquire_easy();
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
  slot_.reset();
  if (core_ != nullptr) {
    if (in_multi_) core_->remove(*this);
    in_multi_ = false;
    cancel_timer();
    core_->unlink(this);
    core_->release_easy(easy_);  // reset before reuse: nothing points into this transfer then
  } else if (easy_ != nullptr) {
    curl_easy_cleanup(easy_);
  }
  if (headers_ != nullptr) curl_slist_free_all(headers_);
  if (mime_ != nullptr) curl_mime_free(mime_);
  close_upload();
}

void ClientTransfer::close_upload() noexcept {
  if (upload_fd_ >= 0) ::close(upload_fd_);
  upload_fd_ = -1;
  upload_chunks_.reset();
  upload_pending_.clear();
  upload_pos_ = 0;
}

void ClientTransfer::set_reader(curl_off_t size) {
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDS, nullptr);
  curl_easy_setopt(easy_, CURLOPT_POST, 1L);
  curl_easy_setopt(easy_, CURLOPT_READFUNCTION, &ClientTransfer::read_callback);
  curl_easy_setopt(easy_, CURLOPT_READDATA, this);
  curl_easy_setopt(easy_, CURLOPT_SEEKFUNCTION, &ClientTransfer::seek_callback);
  curl_easy_setopt(easy_, CURLOPT_SEEKDATA, this);
  curl_easy_setopt(easy_, CURLOPT_POSTFIELDSIZE_LARGE, size);  // -1: chunked
}

void ClientTransfer::upload_file(const std::string& path) {
  close_upload();
  upload_fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (upload_fd_ < 0 || ::fstat(upload_fd_, &st) != 0) {
    const int err = errno;
    close_upload();
    throw OSError(err, "cannot read the request body from " + path + ": " + std::strerror(err),
                  path);
  }
  set_reader(S_ISREG(st.st_mode) ? static_cast<curl_off_t>(st.st_size) : -1);
}

void ClientTransfer::upload_stream(std::shared_ptr<aiohttp::StreamPayload::Chunks> chunks) {
  close_upload();
  upload_chunks_ = std::move(chunks);
  set_reader(-1);
}

std::size_t ClientTransfer::read_callback(char* out, std::size_t size, std::size_t n, void* self) {
  auto* t = static_cast<ClientTransfer*>(self);
  const std::size_t room = size * n;
  if (t->upload_fd_ >= 0) {
    for (;;) {
      const ssize_t got = ::read(t->upload_fd_, out, room);
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno == EINTR) continue;
      if (t->error_ == nullptr) {
        const int err = errno;
        t->error_ = std::make_exception_ptr(
            OSError(err, std::string("reading the request body: ") + std::strerror(err), ""));
        t->error_phase_ = t->phase_;
      }
      return CURL_READFUNC_ABORT;
    }
  }
  if (t->upload_chunks_ == nullptr) return 0;
  try {
    while (t->upload_pos_ == t->upload_pending_.size()) {
      t->upload_pending_ = std::move(t->upload_chunks_->next());
      t->upload_pos_ = 0;
    }
  } catch (const StopIteration&) {
    return 0;
  } catch (...) {
    if (t->error_ == nullptr) {
      t->error_ = std::current_exception();  // the generator's own exception fails the request
      t->error_phase_ = t->phase_;
    }
    return CURL_READFUNC_ABORT;
  }
  const std::size_t k = std::min(room, t->upload_pending_.size() - t->upload_pos_);
  std::memcpy(out, t->upload_pending_.data() + t->upload_pos_, k);
  t->upload_pos_ += k;
  return k;
}

int ClientTransfer::seek_callback(void* self, curl_off_t offset, int origin) {
  auto* t = static_cast<ClientTransfer*>(self);
  // libcurl rewinds to resend a body (a connection that died before the request went out):
  // possible for a file, not for a generator already consumed.
  if (t->upload_fd_ < 0) return CURL_SEEKFUNC_CANTSEEK;
  return ::lseek(t->upload_fd_, static_cast<off_t>(offset), origin) < 0 ? CURL_SEEKFUNC_FAIL
                                                                        : CURL_SEEKFUNC_OK;
}

void ClientTransfer::hold_slot(RequestSlot slot) noexcept {
  if (phase_ != TransferPhase::done) slot_ = std::move(slot);
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

void ClientTransfer::start(ClientResponseState* out, bool discard_redirect_body,
                           std::optional<Clock::time_point> since) {
  if (core_ == nullptr) throw aiohttp::ClientConnectionError("Session is closed");
  out_ = out;
  phase_ = TransferPhase::running;
  if (tracing()) [[unlikely]]
    trace_start_ns_ = trace_now_ns();
  error_ = nullptr;
  error_phase_ = TransferPhase::idle;
  expect_status_ = true;
  discard_redirect_body_ = discard_redirect_body;
  discard_body_ = false;
  paused_ = false;
  connected_ = false;
  field_open_ = false;
  uploaded_ = 0;
  received_ = 0;
  errbuf_[0] = '\0';
  const auto now = Clock::now();
  last_activity_ = now;
  connect_deadline_.reset();
  if (timeouts_.connect) connect_deadline_ = since.value_or(now) + *timeouts_.connect;
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
    std::string_view s = trim_line(line);
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
                                        : trim_line(rest.substr(code_end + 1));
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
    if (field_open_) field_value_.append(" ").append(trim_line(line));
    return;
  }
  flush_field();
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return;  // libcurl only passes well-formed fields
  field_name_.assign(trim_line(line.substr(0, colon)));
  field_value_.assign(trim_line(line.substr(colon + 1)));
  field_open_ = true;
}

void ClientTransfer::flush_field() {
  if (!field_open_) return;
  field_open_ = false;
  out_->headers.add(std::move(field_name_), std::move(field_value_));
  field_name_.clear();
  field_value_.clear();
}

// RFC 9112 §6.3: several Content-Length values that differ (in several fields, or a list in
// one) leave the body's end unknown: an unrecoverable error, not "the last one wins". Equal
// repeats ("5, 5") are allowed. A Content-Length above the body limit fails now.
void ClientTransfer::check_content_length() const {
  std::optional<std::string_view> first;
  for (const auto& [name, value] : out_->headers) {
    if (!iequals_ascii(name, "Content-Length")) continue;
    std::string_view rest = value;
    while (true) {
      const auto comma = rest.find(',');
      const std::string_view v = trim_line(rest.substr(0, comma));
      if (!first) {
        first = v;
      } else if (v != *first) {
        throw aiohttp::ClientPayloadError("the response has conflicting Content-Length values ('" +
                                          std::string(*first) + "' and '" + std::string(v) +
                                          "'): its body cannot be delimited");
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (first && timeouts_.max_body && !discard_body_) {
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(first->data(), first->data() + first->size(), n);
    if (ec == std::errc() && p == first->data() + first->size() && n > *timeouts_.max_body &&
        !out_->headers.contains("Content-Encoding")) {
      throw_too_large("announced by Content-Length: " + std::to_string(n) + " bytes");
    }
  }
}

void ClientTransfer::throw_too_large(const std::string& how) const {
  throw aiohttp::ClientResponseTooLarge("the response body is larger than max_response_size (" +
                                        std::to_string(*timeouts_.max_body) + " bytes; " + how +
                                        ")");
}

void ClientTransfer::on_head_complete() {
  phase_ = TransferPhase::head;
  if (discard_redirect_body_ && is_redirect_status(out_->status) &&
      (out_->headers.contains("Location") || out_->headers.contains("URI"))) {
    discard_body_ = true;  // a redirect about to be followed: its body is of no use
  }
  // A failure here is the body's (the head is complete): the response is returned, reading
  // its body raises, and the transfer stops now (header_callback returns 0).
  check_content_length();
  if (discard_body_) {
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
  const bool reader_waits = t->waiter_ != nullptr && t->waiter_->wants_data();
  if (!t->whole_body_ && !reader_waits && t->buffered() >= t->timeouts_.high_water) {
    // Nobody reads fast enough: stop reading the socket (the server sees TCP's window close);
    // libcurl hands this same data again once consumed() resumes the transfer.
    t->paused_ = true;
    t->arm_timer();  // no read deadline while paused: the reader, not the server, is slow
    return CURL_WRITEFUNC_PAUSE;
  }
  try {
    t->received_ += len;
    if (t->timeouts_.max_body && t->received_ > *t->timeouts_.max_body) {
      t->throw_too_large("stopped after " + std::to_string(t->received_) + " bytes");
    }
    t->out_->body.append(data, len);
    t->out_->total_bytes += len;
    if (reader_waits) t->notify();
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
  if (trace_start_ns_ != 0) [[unlikely]]
    trace_request();
  slot_.reset();  // the body is complete (or failed): the next waiting request may go
  notify();
}

// Tracing: one span per hop, "GET http://host/path", with its status (0: no response).
void ClientTransfer::trace_request() noexcept {
  try {
    TraceArgs a;
    a.k1 = "status";
    a.v1 = out_ != nullptr ? out_->status : 0;
    a.k2 = "bytes";
    a.v2 = out_ != nullptr ? static_cast<std::int64_t>(out_->total_bytes) : 0;
    if (error_ != nullptr) {
      a.skey = "error";
      const ExceptionInfo info = describe_exception(error_);
      a.sval = info.type + ": " + info.message;
    }
    std::string name =
        out_ != nullptr ? out_->request_info.method + " " + out_->url.str() : "request";
    trace_async_span("http.client", name, std::exchange(trace_start_ns_, 0), trace_now_ns(),
                     std::move(a));
  } catch (...) {
  }
}

void ClientTransfer::detach() noexcept {
  if (core_ == nullptr) return;
  abort(std::make_exception_ptr(aiohttp::ClientConnectionError("Session is closed")));
  slot_.reset();
  cancel_timer();
  curl_easy_cleanup(easy_);
  easy_ = nullptr;
  core_.reset();
}

void ClientTransfer::notify() noexcept {
  if (waiter_ == nullptr || !waiter_->satisfied()) return;
  TransferAwaiter* w = waiter_;
  waiter_ = nullptr;
  // A task of a loop that is gone is never resumed.
  if (core_ != nullptr && !core_->loop_usable()) {
    w->orphan();
    return;
  }
  w->wake(w->wants_data() ? nullptr : failure_for(w->target()));
}

void ClientTransfer::want_whole_body() noexcept {
  whole_body_ = true;
  if (paused_) resume_transfer();
}

void ClientTransfer::consumed() noexcept {
  if (paused_ && buffered() < timeouts_.high_water / 2) resume_transfer();
}

void ClientTransfer::resume_transfer() noexcept {
  paused_ = false;
  if (phase_ == TransferPhase::done || !in_multi_ || easy_ == nullptr) return;
  last_activity_ = Clock::now();
  arm_timer();
  // libcurl may deliver the data it held back right here (write_callback, which may pause
  // again); it then expires the transfer's timer so that the multi loop reads the socket.
  const CURLcode rc = curl_easy_pause(easy_, CURLPAUSE_CONT);
  if (rc != CURLE_OK && phase_ != TransferPhase::done) {
    abort(curl_failure(rc, errbuf_.data(), out_->url, true, 0));
  }
}

void ClientTransfer::arm_timer() noexcept {
  if (core_ == nullptr || !core_->loop_usable() || phase_ == TransferPhase::done) return;
  std::optional<Clock::time_point> when = timeouts_.total_deadline;
  auto earlier = [&](Clock::time_point t) {
    if (!when || t < *when) when = t;
  };
  if (!connected_ && connect_deadline_) earlier(*connect_deadline_);
  if (connected_ && timeouts_.sock_read && !paused_) {
    earlier(last_activity_ + *timeouts_.sock_read);
  }
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
  if (connected_ && timeouts_.sock_read && !paused_ &&
      now - last_activity_ >= *timeouts_.sock_read) {
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
