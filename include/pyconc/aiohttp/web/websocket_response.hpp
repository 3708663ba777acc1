// pyconc/aiohttp/web/websocket_response.hpp -- web::WebSocketResponse: the server side of a
// WebSocket (RFC 6455).
//
// Python: aiohttp.web.WebSocketResponse.
//   app.router().add_get("/ws", [](web::Request& req) -> aio::Task<web::WebSocketResponse> {
//     web::WebSocketResponse ws;
//     co_await ws.prepare(req);                           // the handshake (101)
//     for (;;) {
//       auto msg = co_await ws.receive();
//       if (msg.type == http::WSMsgType::TEXT) co_await ws.send_str(msg.data);
//       else break;                                       // CLOSE, CLOSED, ERROR
//     }
//     co_return ws;
//   });
// prepare() checks the handshake -- GET, `Upgrade: websocket`, `Connection: upgrade`,
// `Sec-WebSocket-Version: 13`, a Sec-WebSocket-Key of 16 bytes -- and answers 101 with
// Sec-WebSocket-Accept and the first of the client's Sec-WebSocket-Protocol values that is in
// `protocols` (none: no subprotocol). A request that is not a valid handshake gets
// HTTPBadRequest (400) and the connection goes on as HTTP. can_prepare() checks without
// answering.
// Messages (http_websocket.hpp): fragmented messages are joined; PING is answered and PONG
// swallowed (autoping, on by default); a CLOSE from the client is answered (autoclose) and
// returned, then CLOSED. A message above max_msg_size (4 MiB by default; 0 = none) closes the
// connection with 1009, invalid UTF-8 with 1007, any other protocol violation (unmasked frame,
// reserved bits or opcode, bad control frame) with 1002; receive() returns ERROR then, and the
// server goes on serving other connections. heartbeat: PING after that long without a frame,
// close (1006) if nothing comes back within half of it. When the handler returns, a WebSocket
// it left open is closed (1000) and the connection ends.
// Differences: no compression (permessage-deflate is not negotiated); receive_str/bytes
// raise ValueError where aiohttp raises TypeError; async iteration is a plain loop on receive().
//
// Cancellation: receive(), sends and close() are cancellable (a cancelled receive() loses no
// bytes, close code 1006). Thread safety: loop-thread only; one receive() at a time
// (RuntimeError otherwise, as aiohttp); sends from several tasks are written whole, in order.
// Copies are handles on the same WebSocket.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "pyconc/aiohttp/detail/websocket_base.hpp"
#include "pyconc/aiohttp/http_websocket.hpp"
#include "pyconc/aiohttp/web/stream_response.hpp"
#include "pyconc/detail/chrono.hpp"

namespace pyconc::aiohttp::web {

// Options of a WebSocketResponse; at namespace scope for designated initializers.
struct WebSocketResponseOptions {
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // closing handshake
  std::optional<std::chrono::milliseconds> receive_timeout{};
  bool autoclose{true};
  bool autoping{true};
  std::optional<std::chrono::milliseconds> heartbeat{};
  std::vector<std::string> protocols{};  // subprotocols we speak, by preference
  std::size_t max_msg_size{4 * 1024 * 1024};
};

// Python: web.WebSocketReady -- what can_prepare() found.
struct WebSocketReady {
  bool ok{false};
  std::string protocol{};
  explicit operator bool() const noexcept { return ok; }
};

class WebSocketResponse : public StreamResponse, public pyconc::detail::WebSocketBase {
 public:
  explicit WebSocketResponse(WebSocketResponseOptions options = {});

  // Whether `request` is a WebSocket handshake we would accept, and the subprotocol.
  WebSocketReady can_prepare(const Request& request) const;
  // The handshake; see the banner. HTTPBadRequest for a request that is not one.
  asyncio::Task<> prepare(Request& request);

  // Python: raw writes are not allowed on a WebSocket: RuntimeError.
  asyncio::Task<> write(std::string_view data);
  // Python: write_eof() on a WebSocket closes it (1000).
  asyncio::Task<> write_eof();

 private:
  WebSocketResponseOptions opt_;
};

}  // namespace pyconc::aiohttp::web
