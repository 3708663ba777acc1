// ClientSessionCore, ClientTransfer and TransferAwaiter: the libcurl side of ClientSession
// (client_session_core.cpp: the multi handle on the event loop; client_transfer.cpp: one
// request).
//
// ClientSessionCore owns one libcurl multi handle and drives it from the event loop:
//   - libcurl's socket callback (CURLMOPT_SOCKETFUNCTION) says which sockets to watch for
//     what; each gets a SocketWatcher registered level-triggered with the loop's reactor;
//   - libcurl's timer callback (CURLMOPT_TIMERFUNCTION) arms one loop timer;
//   - readiness (SocketWatcher::on_io, called inside the reactor's poll) is only queued and a
//     "pump" callback scheduled with call_soon; the pump, in the loop's run phase, hands the
//     queued events (and an expired timer) to curl_multi_socket_action, then reads
//     curl_multi_info_read and completes the finished transfers. Nothing runs inside the
//     poll, so a watcher that libcurl removes while events are being dispatched is never
//     touched after it is freed.
// ClientTransfer is one request (one easy handle, reused across its redirect hops): it parses
// the response head from libcurl's header callback, appends the body from the write callback,
// enforces ClientTimeout with one loop timer, and wakes the one task waiting on it (a
// TransferAwaiter, which follows SuspendPoint's contract: cancelling it aborts the transfer).
//
// Loop lifetime: the session may outlive its loop. Loop state (reactor registrations, timer
// and call_soon handles) is touched only while the loop is not closed -- checked through the
// loop's LoopRemote, which outlives it. Timers are call_at handles rather than TimerEntry
// objects in our memory, so a loop that closes with one armed releases it itself.
//
// Thread safety: loop-thread only.
#pragma once

#include <curl/curl.h>

#include <array>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pyconc/aiohttp/client_options.hpp"
#include "pyconc/aiohttp/client_response.hpp"
#include "pyconc/aiohttp/exceptions.hpp"
#include "pyconc/aiohttp/form_data.hpp"
#include "pyconc/aiohttp/multidict.hpp"
#include "pyconc/aiohttp/url.hpp"
#include "pyconc/asyncio/detail/reactor.hpp"
#include "pyconc/asyncio/detail/task_core.hpp"
#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/detail/deadline.hpp"

namespace pyconc::detail {

class ClientTransfer;

// One response (one hop of a request).
struct ClientResponseState {
  int status = 0;
  std::string reason;
  aiohttp::CIMultiDict headers;
  aiohttp::HttpVersion version;
  aiohttp::URL url;
  aiohttp::URL real_url;
  aiohttp::RequestInfo request_info;
  std::vector<aiohttp::ClientResponse> history;
  std::string body;
  // Bytes at the front of `body` already consumed through content() (compacted lazily).
  std::size_t body_offset = 0;
  // Decoded body bytes received, consumed or not (StreamReader::total_bytes).
  std::uint64_t total_bytes = 0;
  // The transfer still producing this response's body; null once released (or for a
  // redirect response in history).
  std::unique_ptr<ClientTransfer> transfer;
  bool released = false;

  ClientResponseState();
  ~ClientResponseState();
};

enum class TransferPhase : std::uint8_t { idle, running, head, done };

// The timeouts of one request, resolved against its start.
// What bounds one request: its deadlines and the size of its response body.
struct TransferLimits {
  std::optional<Clock::time_point> total_deadline;
  std::optional<Clock::duration> connect;
  std::optional<Clock::duration> sock_read;
  std::optional<std::uint64_t> max_body;  // decoded bytes (ClientSessionOptions::max_response_size)
  // Backpressure: past this many unread body bytes the transfer pauses (stops reading its
  // socket) until a content() reader consumes them, unless the whole body is wanted.
  std::size_t high_water = std::size_t{128} << 10;
};

class TransferAwaiter;
class SlotAwaiter;
class ClientSessionCore;

// A request's right to be in flight (ClientSessionCore's limit / limit_per_host). Released
// when destroyed or reset(); moved into the transfer once its final response arrived, which
// releases it when the body is complete.
class RequestSlot {
 public:
  RequestSlot() = default;
  RequestSlot(ClientSessionCore* core, std::string origin) noexcept
      : core_(core), origin_(std::move(origin)) {}
  RequestSlot(RequestSlot&& o) noexcept
      : core_(std::exchange(o.core_, nullptr)), origin_(std::move(o.origin_)) {}
  RequestSlot& operator=(RequestSlot&& o) noexcept {
    if (this != &o) {
      reset();
      core_ = std::exchange(o.core_, nullptr);
      origin_ = std::move(o.origin_);
    }
    return *this;
  }
  ~RequestSlot() { reset(); }
  void reset() noexcept;
  explicit operator bool() const noexcept { return core_ != nullptr; }

 private:
  ClientSessionCore* core_ = nullptr;
  std::string origin_;
};

class ClientSessionCore {
 public:
  explicit ClientSessionCore(aiohttp::ClientSessionOptions options);
  ~ClientSessionCore();
  ClientSessionCore(const ClientSessionCore&) = delete;
  ClientSessionCore& operator=(const ClientSessionCore&) = delete;

  const aiohttp::ClientSessionOptions& options() const noexcept { return options_; }
  const std::optional<aiohttp::URL>& base_url() const noexcept { return base_url_; }
  bool closed() const noexcept { return closed_; }
  void close() noexcept;

  // Binds the session to the running loop on first use; RuntimeError if closed, outside a
  // loop, or on another loop than the one it is bound to.
  asyncio::EventLoop& bind();
  // The bound loop is still open (its state may be touched).
  bool loop_usable() const;
  asyncio::EventLoop& loop() noexcept { return *loop_; }

  // Options every easy handle of this session gets (`fresh`: a new handle, not a reset one).
  void setup_easy(CURL* easy, bool fresh = true);
  // An easy handle with the session's options: a reset one from the pool, else a new one.
  // Reusing handles spares libcurl's per-handle allocations (its struct and buffers).
  CURL* acquire_easy();
  // Back to the pool (or freed when the pool is full or the session closed). Not in the multi.
  void release_easy(CURL* easy) noexcept;

  // Request slots (Python: TCPConnector(limit, limit_per_host)): at most options().limit
  // requests in flight (0: unlimited) and limit_per_host per origin; the others wait in FIFO
  // order in SlotAwaiters, before any easy handle exists, and are handed a slot as one frees.
  bool try_take_slot(const std::string& origin);
  void release_slot(const std::string& origin) noexcept;
  void enqueue(SlotAwaiter* w);
  void dequeue(SlotAwaiter* w) noexcept;
  // Adds/removes a transfer's easy handle to/from the multi handle.
  void add(ClientTransfer& t);
  void remove(ClientTransfer& t) noexcept;
  void link(ClientTransfer* t) noexcept;
  void unlink(ClientTransfer* t) noexcept;

  // The cookie engine's handle (an easy handle on the share, never transferring).
  CURL* cookie_handle() const noexcept { return cookie_easy_; }

 private:
  struct SocketWatcher final : IoWatcher {
    ClientSessionCore* core = nullptr;
    int fd = -1;
    std::uint32_t interest = 0;
    void on_io(std::uint32_t events) noexcept override;
  };

  static int socket_callback(CURL* easy, curl_socket_t s, int what, void* userp, void* socketp);
  static int timer_callback(CURLM* multi, long timeout_ms, void* userp);
  int on_socket(curl_socket_t s, int what) noexcept;
  void on_timer(long timeout_ms) noexcept;
  void watch(int fd, std::uint32_t interest);
  void unwatch(int fd) noexcept;
  void schedule_pump();
  void pump() noexcept;
  void read_done() noexcept;

  aiohttp::ClientSessionOptions options_;
  std::optional<aiohttp::URL> base_url_;
  CURLM* multi_ = nullptr;
  CURLSH* share_ = nullptr;
  CURL* cookie_easy_ = nullptr;
  asyncio::EventLoop* loop_ = nullptr;
  std::shared_ptr<LoopRemote> remote_;
  std::unordered_map<int, std::unique_ptr<SocketWatcher>> sockets_;
  std::vector<std::pair<int, std::uint32_t>> pending_;  // (fd, IoEvent bits) since the pump
  std::vector<std::pair<int, std::uint32_t>> pumping_;
  asyncio::Handle pump_handle_;
  asyncio::Handle timer_handle_;
  std::vector<ClientTransfer*> transfers_;  // live transfers (aborted by close())
  std::vector<CURL*> idle_easies_;          // reset handles for reuse
  std::size_t in_flight_ = 0;               // slots taken
  std::unordered_map<std::string, std::size_t> in_flight_per_origin_;
  std::deque<SlotAwaiter*> slot_waiters_;  // FIFO
  bool pump_scheduled_ = false;
  bool timeout_due_ = false;
  bool closed_ = false;
};

class ClientTransfer {
 public:
  ClientTransfer(std::shared_ptr<ClientSessionCore> core, TransferLimits timeouts);
  ~ClientTransfer();
  ClientTransfer(const ClientTransfer&) = delete;
  ClientTransfer& operator=(const ClientTransfer&) = delete;

  CURL* easy() const noexcept { return easy_; }
  ClientSessionCore* core() const noexcept { return core_.get(); }
  TransferPhase phase() const noexcept { return phase_; }
  bool failed() const noexcept { return error_ != nullptr; }

  // Per-hop request data the easy handle points into (kept alive here).
  void set_headers(curl_slist* list) noexcept;
  void set_mime(curl_mime* mime) noexcept;
  std::string& request_body() noexcept { return request_body_; }
  // The body read from a file (opened now: OSError) / pulled from a generator as libcurl
  // sends it (POST semantics; the caller sets the method).
  void upload_file(const std::string& path);
  void upload_stream(std::shared_ptr<aiohttp::StreamPayload::Chunks> chunks);
  std::string& cookie_header() noexcept { return cookie_; }

  // Starts a hop whose response goes to `out` (the easy handle is configured already).
  // `discard_redirect_body`: the body of a redirect response that will be followed is dropped.
  // The connect timeout counts from `since` (the request's wait for a slot is part of it, as
  // aiohttp's connect timeout includes waiting for a connection from the pool).
  void start(ClientResponseState* out, bool discard_redirect_body,
             std::optional<Clock::time_point> since = std::nullopt);
  // The request's slot, released when the body is complete (at once if it already is).
  void hold_slot(RequestSlot slot) noexcept;
  // The failure of the transfer, if any, for a task that waited for `target`: a failure
  // after the head arrived is not the head's (it surfaces when the body is read).
  std::exception_ptr failure_for(TransferPhase target) const noexcept;
  TransferAwaiter wait(TransferPhase target) noexcept;
  // Waits until more than `have` unread body bytes are buffered or the transfer is done; never
  // throws the transfer's failure (the reader takes the buffered bytes first). A paused
  // transfer resumes: the reader needs more than the buffer holds.
  TransferAwaiter wait_data(std::size_t have = 0) noexcept;

  // Backpressure (content() streaming). Unread bytes of the body buffer:
  std::size_t buffered() const noexcept {
    return out_ == nullptr ? 0 : out_->body.size() - out_->body_offset;
  }
  // The whole body is wanted (read()/text()/json()): no more pausing.
  void want_whole_body() noexcept;
  // A reader consumed bytes: resume a paused transfer once the buffer is below half the
  // high-water mark.
  void consumed() noexcept;
  bool paused() const noexcept { return paused_; }
  void trace_request() noexcept;
  const TransferLimits& limits() const noexcept { return timeouts_; }
  void resume_transfer() noexcept;

  // From the session core.
  void on_done(CURLcode code) noexcept;
  // Stops the transfer (removing it from libcurl, which closes its connection if it was
  // mid-response) and fails it with `error`. No-op once done.
  void abort(std::exception_ptr error) noexcept;
  // The session is closing: abort, free the easy handle, forget the session.
  void detach() noexcept;

 private:
  friend class TransferAwaiter;
  static std::size_t header_callback(char* data, std::size_t size, std::size_t n, void* self);
  static std::size_t write_callback(char* data, std::size_t size, std::size_t n, void* self);
  static int prereq_callback(void* self, char*, char*, int, int);
  static std::size_t read_callback(char* out, std::size_t size, std::size_t n, void* self);
  static int seek_callback(void* self, curl_off_t offset, int origin);
  void set_reader(curl_off_t size);
  void close_upload() noexcept;
  void on_header(std::string_view line);
  void flush_field();
  void on_head_complete();
  void check_content_length() const;
  [[noreturn]] void throw_too_large(const std::string& how) const;
  void finish(std::exception_ptr error) noexcept;
  void notify() noexcept;
  void arm_timer() noexcept;
  void cancel_timer() noexcept;
  void on_timer() noexcept;

  std::shared_ptr<ClientSessionCore> core_;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  curl_mime* mime_ = nullptr;
  std::string request_body_;
  int upload_fd_ = -1;                                             // FilePayload
  std::shared_ptr<aiohttp::StreamPayload::Chunks> upload_chunks_;  // StreamPayload
  std::string upload_pending_;                                     // the chunk being sent
  std::size_t upload_pos_ = 0;
  std::string cookie_;
  ClientResponseState* out_ = nullptr;
  TransferAwaiter* waiter_ = nullptr;
  std::exception_ptr error_;
  TransferPhase error_phase_ = TransferPhase::idle;  // the phase the failure happened in
  TransferPhase phase_ = TransferPhase::idle;
  std::int64_t trace_start_ns_ = 0;  // tracing: this hop started
  TransferLimits timeouts_;
  std::optional<Clock::time_point> connect_deadline_;
  Clock::time_point last_activity_{};
  std::uint64_t received_ = 0;  // decoded body bytes of this hop
  curl_off_t uploaded_ = 0;     // request body bytes sent when the read deadline was last checked
  std::string field_name_;      // the header field being received (it may continue on the
  std::string field_value_;     // next line: obsolete folding)
  bool field_open_ = false;
  asyncio::Handle timer_;
  Clock::time_point timer_when_{};
  bool timer_armed_ = false;
  bool in_multi_ = false;
  bool connected_ = false;
  bool expect_status_ = true;
  bool discard_redirect_body_ = false;
  bool discard_body_ = false;
  RequestSlot slot_;
  bool paused_ = false;      // the write callback returned CURL_WRITEFUNC_PAUSE
  bool whole_body_ = false;  // read()/text()/json(): accumulate without pausing
  std::array<char, CURL_ERROR_SIZE> errbuf_{};
};

// Waits until a transfer reaches a phase (the response head, or done). SuspendPoint's
// contract: cancel() aborts the transfer at once and throws CancelledError in the waiter. Once
// woken, the awaiter no longer touches the transfer (which its owner may free before the
// waiting task resumes): the outcome is copied into it by wake().
class TransferAwaiter final : public SuspendPoint {
 public:
  TransferAwaiter(ClientTransfer* t, TransferPhase target, bool data = false,
                  std::size_t have = 0) noexcept
      : t_(t), target_(target), data_(data), have_(have) {}
  TransferAwaiter(TransferAwaiter&& o) noexcept
      : t_(o.t_), target_(o.target_), data_(o.data_), have_(o.have_) {}
  ~TransferAwaiter() { leave_slot(); }

  bool await_ready() const noexcept { return satisfied(); }
  void await_suspend(std::coroutine_handle<> h);
  void await_resume() {
    if (!parked_) {
      if (data_) return;
      if (auto e = t_->failure_for(target_)) std::rethrow_exception(e);
      return;
    }
    resume_check();
    if (error_) std::rethrow_exception(error_);
  }
  bool cancel() noexcept override;
  TransferPhase target() const noexcept { return target_; }
  // Whether what this awaiter waits for has happened.
  bool satisfied() const noexcept {
    return t_->phase_ >= target_ || (data_ && t_->buffered() > have_);
  }
  bool wants_data() const noexcept { return data_; }

  // From the transfer, which has already cleared its waiter slot.
  void wake(std::exception_ptr error) noexcept {
    attached_ = false;
    error_ = std::move(error);
    complete();
  }
  void orphan() noexcept { attached_ = false; }

 private:
  void leave_slot() noexcept {
    if (attached_ && t_->waiter_ == this) t_->waiter_ = nullptr;
    attached_ = false;
  }
  ClientTransfer* t_;
  TransferPhase target_;
  bool data_;
  std::size_t have_;
  std::exception_ptr error_;
  bool parked_ = false;
  bool attached_ = false;
};

inline TransferAwaiter ClientTransfer::wait(TransferPhase target) noexcept {
  return TransferAwaiter(this, target);
}
inline TransferAwaiter ClientTransfer::wait_data(std::size_t have) noexcept {
  if (paused_) resume_transfer();
  return TransferAwaiter(this, TransferPhase::done, true, have);
}

// Waits for a request slot (see ClientSessionCore). SuspendPoint's contract: cancelling it
// leaves the queue at once. A deadline (the request's total / connect timeout) fails it with
// TimeoutError. co_await gives the RequestSlot.
class SlotAwaiter final : public SuspendPoint {
 public:
  SlotAwaiter(ClientSessionCore* core, const std::string& origin,
              std::optional<Clock::time_point> deadline)
      : core_(core), origin_(origin), deadline_(deadline) {}
  ~SlotAwaiter();

  bool await_ready() {
    granted_ = core_->try_take_slot(origin_);
    return granted_;
  }
  void await_suspend(std::coroutine_handle<> h);
  RequestSlot await_resume();
  bool cancel() noexcept override;

  const std::string& origin() const noexcept { return origin_; }
  // From the session core, which already took the slot for it / removed it from the queue.
  void grant() noexcept;
  void fail(std::exception_ptr e) noexcept;

 private:
  void stop_timer() noexcept;
  ClientSessionCore* core_;
  std::string origin_;
  std::optional<Clock::time_point> deadline_;
  std::exception_ptr error_;
  asyncio::Handle timer_;
  bool timer_armed_ = false;
  bool queued_ = false;
  bool granted_ = false;
  bool parked_ = false;
};

// The exception for a libcurl failure of a transfer of `url`; `head` tells whether the
// response head had arrived (a failure mid-body is a ClientPayloadError).
std::exception_ptr curl_failure(CURLcode code, const char* errbuf, const aiohttp::URL& url,
                                bool head, long os_errno);

}  // namespace pyconc::detail
