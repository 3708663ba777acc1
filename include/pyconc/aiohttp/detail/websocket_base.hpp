// pyconc/aiohttp/detail/websocket_base.hpp -- the send/receive/close API that
// web::WebSocketResponse (server) and ClientWebSocketResponse (client) share: both are
// handles on one WebSocket connection's protocol state (src/aiohttp/websocket_protocol.hpp).
//
// Python: the methods aiohttp's WebSocketResponse and ClientWebSocketResponse have in common.
// Each public class documents them in its own header; this one only implements them once.
// Calls before the connection is established raise RuntimeError ("Call .prepare() first").
//
// Thread safety: loop-thread only (the loop of the connection).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pyconc/aiohttp/http_websocket.hpp"
#include "pyconc/asyncio/task.hpp"
#include "pyconc/detail/chrono.hpp"

namespace pyconc::detail {

class WebSocketProtocol;

class WebSocketBase {
 public:
  using milliseconds = std::chrono::milliseconds;

  // The next message (see http_websocket.hpp); TimeoutError after `timeout` (default: the
  // receive_timeout option) without one.
  asyncio::Task<aiohttp::http::WSMessage> receive(
      std::optional<milliseconds> timeout = std::nullopt);
  // The next message's data, which must be TEXT / BINARY / JSON text: ValueError otherwise
  // (aiohttp's TypeError), naming the type received.
  asyncio::Task<std::string> receive_str(std::optional<milliseconds> timeout = std::nullopt);
  asyncio::Task<std::string> receive_bytes(std::optional<milliseconds> timeout = std::nullopt);
  // Needs <pyconc/aiohttp/json.hpp> to use the value.
  asyncio::Task<nlohmann::json> receive_json(std::optional<milliseconds> timeout = std::nullopt);

  // One TEXT / BINARY frame; waits while the peer reads slowly (backpressure).
  // ConnectionResetError once closed or closing.
  asyncio::Task<> send_str(std::string_view data);
  asyncio::Task<> send_bytes(std::string_view data);
  asyncio::Task<> send_json(const nlohmann::json& data);
  // PING / PONG with up to 125 bytes of payload (ValueError above).
  asyncio::Task<> ping(std::string_view message = {});
  asyncio::Task<> pong(std::string_view message = {});
  // The closing handshake: sends CLOSE(code, message), waits up to `timeout` for the peer's
  // CLOSE, then ends the connection. False if it was already closed. ValueError for a code
  // that may not be sent.
  asyncio::Task<bool> close(int code = aiohttp::http::OK, std::string_view message = {});

  // Python: ws.closed -- our close frame went out, or the connection is gone.
  bool closed() const noexcept;
  // Python: ws.close_code -- the peer's (or our) close code; nullopt while open.
  std::optional<int> close_code() const noexcept;
  // Python: ws.exception() -- what ended the connection abnormally, if anything.
  std::exception_ptr exception() const noexcept;
  // The subprotocol agreed in the handshake ("" if none). Python: ws.ws_protocol / .protocol.
  const std::string& ws_protocol() const noexcept { return protocol_; }

 protected:
  WebSocketBase() = default;
  ~WebSocketBase() = default;
  WebSocketBase(const WebSocketBase&) = default;
  WebSocketBase(WebSocketBase&&) noexcept = default;
  WebSocketBase& operator=(const WebSocketBase&) = default;
  WebSocketBase& operator=(WebSocketBase&&) noexcept = default;

  WebSocketProtocol& proto() const;

  std::shared_ptr<WebSocketProtocol> ws_;
  std::string protocol_;
};

}  // namespace pyconc::detail
