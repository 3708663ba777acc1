// WebSocketProtocol (see websocket_protocol.hpp).
#include "websocket_protocol.hpp"

#include <utility>

#include "pyconc/asyncio/timeout.hpp"
#include "pyconc/detail/deadline.hpp"

namespace pyconc::detail {

namespace aio = pyconc::asyncio;
namespace http = aiohttp::http;

namespace {
constexpr unsigned kClose = 0x8, kPing = 0x9, kPong = 0xa;
// After this many receive() calls on a closed WebSocket, receive() raises instead of
// returning CLOSED again (aiohttp's THRESHOLD_CONNLOST_ACCESS): a loop that ignores CLOSED
// would spin forever.
constexpr int kClosedReadsLimit = 5;

http::WSMessage message_of(http::WSMsgType type) {
  http::WSMessage m;
  m.type = type;
  return m;
}

http::WSMessage error_message(std::exception_ptr e) {
  http::WSMessage m;
  m.type = http::WSMsgType::ERROR;
  m.exception = e;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    m.data = x.what();
  } catch (...) {
    m.data = "unknown error";
  }
  return m;
}
}  // namespace

WebSocketProtocol::WebSocketProtocol(WebSocketTransport& transport,
                                     WebSocketProtocolOptions options, std::string_view initial)
    : t_(&transport),
      opt_(options),
      parser_({.masked = !options.client, .max_msg_size = options.max_msg_size}) {
  if (!initial.empty()) parser_.feed(initial);
  if (opt_.heartbeat && opt_.heartbeat->count() > 0) {
    loop_ = &aio::get_running_loop();
    last_rx_ = Clock::now();
    arm_heartbeat();
  }
}

WebSocketProtocol::~WebSocketProtocol() {
  ping_timer_.cancel();
  pong_timer_.cancel();
}

void WebSocketProtocol::detach() noexcept {
  ping_timer_.cancel();
  pong_timer_.cancel();
  if (!close_code_) close_code_ = http::ABNORMAL_CLOSURE;
  closed_ = true;
  t_ = nullptr;
}

void WebSocketProtocol::abort() noexcept {
  ping_timer_.cancel();
  pong_timer_.cancel();
  closed_ = true;
  if (t_ != nullptr) t_->close();
}

void WebSocketProtocol::send_now(unsigned opcode, std::string_view payload) {
  if (t_ == nullptr) throw ConnectionResetError(ECONNRESET, "Cannot write to closing transport");
  frame_.clear();
  append_websocket_frame(frame_, opcode, payload, opt_.client);
  t_->write(frame_);
}

aio::Task<> WebSocketProtocol::send_frame(unsigned opcode, std::string_view payload) {
  // Not a coroutine: the frame is queued now, while `payload` is surely alive (a caller may
  // await the returned task after its argument is gone); the task only drains.
  if (closed_) throw ConnectionResetError(ECONNRESET, "Cannot write to closing transport");
  if ((opcode & 0x8) != 0 && payload.size() > 125) {
    throw ValueError("WebSocket: a control frame's payload is at most 125 bytes, got " +
                     std::to_string(payload.size()));
  }
  send_now(opcode, payload);
  return drain();
}

aio::Task<> WebSocketProtocol::drain() {
  if (t_ != nullptr && t_->needs_drain()) co_await t_->drain();
}

aio::Task<bool> WebSocketProtocol::read_more(std::optional<std::chrono::milliseconds> timeout) {
  if (t_ == nullptr) co_return false;
  std::size_t n = 0;
  if (timeout) {
    n = co_await aio::timeout(*timeout, t_->read(rbuf_));
  } else {
    n = co_await t_->read(rbuf_);
  }
  if (n == 0) co_return false;
  parser_.feed(rbuf_);
  rbuf_.clear();
  last_rx_ = Clock::now();
  pong_wait_ = false;
  co_return true;
}

aio::Task<http::WSMessage> WebSocketProtocol::receive(
    std::optional<std::chrono::milliseconds> timeout) {
  if (reading_) {
    // close() in another task is reading the peer's answer: for us the WebSocket is closed.
    if (closed_) co_return message_of(http::WSMsgType::CLOSED);
    throw RuntimeError("Concurrent call to receive() is not allowed");
  }
  for (;;) {
    http::WSMessage msg;
    // A message already parsed comes first, even after our close frame went out: close()
    // waiting in another task needs this receive to see the peer's CLOSE.
    if (!parser_.next(msg)) {
      if (closed_ && (t_ == nullptr || closing_ || parser_.failed())) {
        if (++closed_reads_ > kClosedReadsLimit) {
          throw RuntimeError("WebSocket connection is closed.");
        }
        co_return message_of(http::WSMsgType::CLOSED);
      }
      if (closing_) co_return message_of(http::WSMsgType::CLOSING);
      if (parser_.failed()) {
        // The peer broke the protocol: answer with the code and end the connection.
        const int code = parser_.error_code();
        auto err = std::make_exception_ptr(http::WebSocketError(code, parser_.error_message()));
        close_code_ = code;
        exception_ = err;
        if (!closed_) {
          closed_ = true;
          try {
            send_now(kClose, websocket_close_payload(code, parser_.error_message()));
          } catch (const Error&) {
          }
        }
        abort();
        co_return error_message(err);
      }
      reading_ = true;
      bool more = false;
      try {
        more = co_await read_more(timeout ? timeout : opt_.receive_timeout);
      } catch (const CancelledError&) {
        reading_ = false;
        read_done_.set();
        throw;
      } catch (const TimeoutError&) {
        reading_ = false;
        read_done_.set();
        throw;
      } catch (const Error&) {
        reading_ = false;
        read_done_.set();
        exception_ = std::current_exception();
        if (!close_code_) close_code_ = http::ABNORMAL_CLOSURE;
        abort();
        co_return error_message(exception_);
      }
      reading_ = false;
      read_done_.set();
      if (!more) {
        // EOF without a close frame (or the heartbeat gave up): the connection is over.
        if (!close_code_) close_code_ = http::ABNORMAL_CLOSURE;
        closing_ = true;
        abort();
        co_return message_of(http::WSMsgType::CLOSED);
      }
      continue;
    }
    switch (msg.type) {
      case http::WSMsgType::CLOSE:
        closing_ = true;
        close_code_ = msg.code;
        if (!closed_ && opt_.autoclose) {
          // Echo the code (RFC 6455 §5.5.1), or 1000 when the peer sent none.
          const int code = msg.code == http::NO_STATUS_RECEIVED ? http::OK : msg.code;
          closed_ = true;
          try {
            send_now(kClose, websocket_close_payload(code, {}));
            if (t_ != nullptr && t_->needs_drain()) co_await t_->drain();
          } catch (const Error&) {
          }
          abort();
        } else if (closed_) {
          abort();  // the answer to our own close frame: the handshake is complete
        }
        co_return msg;
      case http::WSMsgType::PING:
        if (opt_.autoping) {
          if (!closed_) {
            send_now(kPong, msg.data);
            if (t_ != nullptr && t_->needs_drain()) co_await t_->drain();
          }
          continue;
        }
        co_return msg;
      case http::WSMsgType::PONG:
        if (opt_.autoping) continue;
        co_return msg;
      default:
        co_return msg;
    }
  }
}

aio::Task<bool> WebSocketProtocol::close(int code, std::string_view message) {
  if (closed_) co_return false;
  if (code != 0 && !is_valid_close_code(code)) {
    throw ValueError("WebSocket: invalid close code " + std::to_string(code));
  }
  ping_timer_.cancel();
  pong_timer_.cancel();
  closed_ = true;
  try {
    send_now(kClose, websocket_close_payload(code, message));
    if (t_ != nullptr && t_->needs_drain()) co_await t_->drain();
  } catch (const Error&) {
    exception_ = std::current_exception();
    close_code_ = http::ABNORMAL_CLOSURE;
    abort();
    co_return true;
  }
  if (closing_) {  // the peer closed first: our frame was the answer
    abort();
    co_return true;
  }
  const auto deadline = Clock::now() + opt_.timeout;
  try {
    // A receive() in another task reads first; it returns the next message to its caller.
    while (reading_) {
      read_done_.clear();
      co_await aio::timeout_at(deadline, read_done_.wait());
    }
    // Then wait for the peer's close frame, discarding data that was already on its way.
    while (!closing_) {
      http::WSMessage msg;
      if (parser_.next(msg)) {
        if (msg.type == http::WSMsgType::CLOSE) {
          closing_ = true;
          close_code_ = msg.code;
        }
        continue;
      }
      if (parser_.failed() || t_ == nullptr) break;
      reading_ = true;
      bool more = false;
      try {
        more = co_await aio::timeout_at(deadline, read_more(std::nullopt));
      } catch (...) {
        reading_ = false;
        read_done_.set();
        throw;
      }
      reading_ = false;
      read_done_.set();
      if (!more) break;
    }
    if (!closing_ && !close_code_) close_code_ = http::ABNORMAL_CLOSURE;
  } catch (const TimeoutError&) {
    close_code_ = http::ABNORMAL_CLOSURE;
    exception_ = std::current_exception();
  } catch (const CancelledError&) {
    close_code_ = http::ABNORMAL_CLOSURE;
    abort();
    throw;
  } catch (const Error&) {
    close_code_ = http::ABNORMAL_CLOSURE;
    exception_ = std::current_exception();
  }
  abort();
  co_return true;
}

// --- heartbeat ---

void WebSocketProtocol::arm_heartbeat() {
  ping_timer_ = loop_->call_at(last_rx_ + *opt_.heartbeat, [this] { on_ping_timer(); });
}

void WebSocketProtocol::on_ping_timer() {
  if (closed_ || t_ == nullptr) return;
  const auto due = last_rx_ + *opt_.heartbeat;
  if (Clock::now() < due) {  // a frame arrived since: wait the rest
    arm_heartbeat();
    return;
  }
  try {
    send_now(kPing, {});
  } catch (const Error&) {
    return;
  }
  pong_wait_ = true;
  pong_timer_ = loop_->call_later(*opt_.heartbeat / 2, [this] { on_pong_timer(); });
}

void WebSocketProtocol::on_pong_timer() {
  if (closed_ || t_ == nullptr) return;
  if (!pong_wait_) {  // something arrived: start the next period
    arm_heartbeat();
    return;
  }
  close_code_ = http::ABNORMAL_CLOSURE;
  exception_ = std::make_exception_ptr(TimeoutError("WebSocket heartbeat: no answer to PING"));
  abort();  // a pending receive() wakes at EOF and returns CLOSED
}

}  // namespace pyconc::detail
