// The send/receive/close API shared by web::WebSocketResponse and ClientWebSocketResponse
// (see pyconc/aiohttp/detail/websocket_base.hpp).
#include "pyconc/aiohttp/detail/websocket_base.hpp"

#include <nlohmann/json.hpp>

#include "websocket_protocol.hpp"

namespace pyconc::detail {

namespace aio = pyconc::asyncio;
namespace http = aiohttp::http;

namespace {
constexpr unsigned kText = 0x1, kBinary = 0x2, kPing = 0x9, kPong = 0xa;
}  // namespace

WebSocketProtocol& WebSocketBase::proto() const {
  if (!ws_) throw RuntimeError("Call .prepare() first");
  return *ws_;
}

aio::Task<http::WSMessage> WebSocketBase::receive(std::optional<milliseconds> timeout) {
  return proto().receive(timeout);
}

namespace {
std::string expect(http::WSMessage msg, http::WSMsgType type) {
  if (msg.type != type) {
    throw ValueError("Received message " + std::string(http::to_string(msg.type)) + ":" + msg.data +
                     " is not WSMsgType." + std::string(http::to_string(type)));
  }
  return std::move(msg.data);
}
}  // namespace

aio::Task<std::string> WebSocketBase::receive_str(std::optional<milliseconds> timeout) {
  co_return expect(co_await proto().receive(timeout), http::WSMsgType::TEXT);
}

aio::Task<std::string> WebSocketBase::receive_bytes(std::optional<milliseconds> timeout) {
  co_return expect(co_await proto().receive(timeout), http::WSMsgType::BINARY);
}

aio::Task<nlohmann::json> WebSocketBase::receive_json(std::optional<milliseconds> timeout) {
  const std::string text = expect(co_await proto().receive(timeout), http::WSMsgType::TEXT);
  try {
    co_return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw ValueError(std::string("receive_json: the message is not JSON: ") + e.what());
  }
}

aio::Task<> WebSocketBase::send_str(std::string_view data) {
  if (!is_valid_utf8(data)) throw ValueError("send_str: the text is not valid UTF-8");
  return proto().send_frame(kText, data);
}

aio::Task<> WebSocketBase::send_bytes(std::string_view data) {
  return proto().send_frame(kBinary, data);
}

aio::Task<> WebSocketBase::send_json(const nlohmann::json& data) {
  return proto().send_frame(kText, data.dump());
}

aio::Task<> WebSocketBase::ping(std::string_view message) {
  return proto().send_frame(kPing, message);
}

aio::Task<> WebSocketBase::pong(std::string_view message) {
  return proto().send_frame(kPong, message);
}

aio::Task<bool> WebSocketBase::close(int code, std::string_view message) {
  return proto().close(code, message);
}

bool WebSocketBase::closed() const noexcept {
  return !ws_ || ws_->closed();
}

std::optional<int> WebSocketBase::close_code() const noexcept {
  return ws_ ? ws_->close_code() : std::nullopt;
}

std::exception_ptr WebSocketBase::exception() const noexcept {
  return ws_ ? ws_->exception() : nullptr;
}

}  // namespace pyconc::detail
