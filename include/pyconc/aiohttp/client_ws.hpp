// pyconc/aiohttp/client_ws.hpp -- ClientWebSocketResponse: the client side of a WebSocket,
// from ClientSession::ws_connect().
//
// Python: aiohttp.ClientSession.ws_connect(url, ...) and aiohttp.ClientWebSocketResponse.
//   auto ws = co_await session.ws_connect("ws://127.0.0.1:8000/ws");
//   co_await ws.send_str("hi");
//   auto msg = co_await ws.receive();            // http::WSMessage, TEXT "..."
//   co_await ws.close();
// ws_connect() opens its own connection with the library's asyncio streams (wss:// and
// https:// through TLS: `.ssl`, by default the system's CAs), sends the handshake (a fresh
// Sec-WebSocket-Key, version 13, `protocols`, `origin`, the session's default headers and
// `headers`) and checks the answer: status 101, `Upgrade: websocket`, `Connection: upgrade`,
// the right Sec-WebSocket-Accept, and a subprotocol among those offered -- otherwise
// WSServerHandshakeError (status and headers of the answer). Connection errors are
// ClientConnectorError; the session's `total` timeout (or `handshake_timeout`) bounds the
// handshake (TimeoutError). The methods -- receive, receive_str/bytes/json, send_str/bytes/
// json, ping, pong, close, close_code, closed, exception, ws_protocol -- behave as on the
// server (web/websocket_response.hpp); our frames are masked with fresh random keys, and a
// masked frame from the server is a protocol error (1002).
// Differences: no proxy, no compression, no cookies sent from the session's jar; the
// connection is not taken from the session's pool (a WebSocket never returns to it).
// GCC 12: build the call with options in one statement and await it in the next (see
// client.hpp).
//
// Cancellation: as on the server. Thread safety: loop-thread only; one receive() at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pyconc/aiohttp/detail/websocket_base.hpp"
#include "pyconc/aiohttp/exceptions.hpp"
#include "pyconc/aiohttp/http_websocket.hpp"
#include "pyconc/aiohttp/multidict.hpp"
#include "pyconc/asyncio/ssl.hpp"
#include "pyconc/detail/chrono.hpp"

namespace pyconc::aiohttp {

// Python: aiohttp.WSServerHandshakeError -- the server did not accept the WebSocket handshake.
class WSServerHandshakeError : public ClientResponseError {
 public:
  using ClientResponseError::ClientResponseError;
};

// Options of ws_connect (Python's keyword arguments); at namespace scope for designated
// initializers.
struct WSConnectOptions {
  std::vector<std::string> protocols{};
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // closing handshake
  std::optional<std::chrono::milliseconds> receive_timeout{};
  bool autoclose{true};
  bool autoping{true};
  std::optional<std::chrono::milliseconds> heartbeat{};
  std::string origin{};
  CIMultiDict headers{};
  asyncio::SSLOption ssl{};  // wss://: default SSLContext::client()
  std::size_t max_msg_size{4 * 1024 * 1024};
  // Bound of connect + handshake; default: the session's total timeout, else none.
  std::optional<std::chrono::milliseconds> handshake_timeout{};
};

class ClientWebSocketResponse : public pyconc::detail::WebSocketBase {
 public:
  ClientWebSocketResponse() = default;

  int status() const noexcept { return status_; }  // 101
  // The headers of the server's 101 answer.
  const CIMultiDict& headers() const noexcept { return headers_; }

  // --- for ws_connect ---
  ClientWebSocketResponse(std::shared_ptr<pyconc::detail::WebSocketProtocol> ws,
                          std::string protocol, CIMultiDict headers)
      : headers_(std::move(headers)) {
    ws_ = std::move(ws);
    protocol_ = std::move(protocol);
  }

 private:
  int status_ = 101;
  CIMultiDict headers_;
};

}  // namespace pyconc::aiohttp
