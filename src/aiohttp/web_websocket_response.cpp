// web::WebSocketResponse: the server's WebSocket handshake (see websocket_response.hpp).
#include "pyconc/aiohttp/web/websocket_response.hpp"

#include "pyconc/aiohttp/detail/http_response.hpp"
#include "pyconc/aiohttp/detail/websocket.hpp"
#include "pyconc/aiohttp/web/exceptions.hpp"
#include "pyconc/aiohttp/web/request.hpp"
#include "server_connection.hpp"
#include "websocket_protocol.hpp"

namespace pyconc::aiohttp::web {

namespace {

using pyconc::detail::trim_ows;

// Calls f(token) for each comma-separated token of every `name` header; stops when f is true.
template <class F>
bool any_token(const Request& req, std::string_view name, F f) {
  for (std::string_view v : req.headers().getall(name)) {
    while (!v.empty()) {
      const auto comma = v.find(',');
      const std::string_view tok = trim_ows(v.substr(0, comma));
      if (!tok.empty() && f(tok)) return true;
      v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    }
  }
  return false;
}

// Why `req` is not a handshake we accept ("" if it is one), and the subprotocol chosen.
std::string check_handshake(const Request& req, const std::vector<std::string>& protocols,
                            std::string& chosen) {
  if (req.method() != "GET")
    return "WebSocket handshake must be a GET, not " + std::string(req.method());
  if (!any_token(req, "Upgrade", [](std::string_view t) {
        return pyconc::detail::iequals_ascii(t, "websocket");
      })) {
    return "No WebSocket UPGRADE hdr: " + std::string(req.headers().get("Upgrade").value_or(""));
  }
  if (!any_token(req, "Connection",
                 [](std::string_view t) { return pyconc::detail::iequals_ascii(t, "upgrade"); })) {
    return "No CONNECTION upgrade hdr: " +
           std::string(req.headers().get("Connection").value_or(""));
  }
  const auto version = req.headers().get("Sec-WebSocket-Version");
  if (!version || trim_ows(*version) != "13") {
    return "Unsupported version: " + std::string(version.value_or(""));
  }
  const auto key = req.headers().get("Sec-WebSocket-Key");
  if (!key || !pyconc::detail::is_valid_websocket_key(trim_ows(*key))) {
    return "Handshake error: Sec-WebSocket-Key '" + std::string(key.value_or("")) +
           "' is not base64 of 16 bytes";
  }
  chosen.clear();
  // The client's order decides, as aiohttp (first of its protocols that we speak).
  any_token(req, "Sec-WebSocket-Protocol", [&](std::string_view t) {
    for (const auto& p : protocols) {
      if (p == t) {
        chosen = p;
        return true;
      }
    }
    return false;
  });
  return {};
}

}  // namespace

WebSocketResponse::WebSocketResponse(WebSocketResponseOptions options)
    : StreamResponse(ResponseOptions{.status = 101}), opt_(std::move(options)) {}

WebSocketReady WebSocketResponse::can_prepare(const Request& request) const {
  WebSocketReady r;
  r.ok = check_handshake(request, opt_.protocols, r.protocol).empty();
  if (!r.ok) r.protocol.clear();
  return r;
}

asyncio::Task<> WebSocketResponse::prepare(Request& request) {
  if (ws_) co_return;
  const auto& conn = request.connection();
  if (!conn || conn->gone()) {
    throw RuntimeError("WebSocketResponse.prepare(): the request is not being served");
  }
  auto& ex = conn->exchange();
  if (ex.started) throw RuntimeError("prepare(): this request was already answered");
  std::string chosen;
  if (std::string why = check_handshake(request, opt_.protocols, chosen); !why.empty()) {
    CIMultiDict h;
    if (why.rfind("Unsupported version", 0) == 0) h.add("Sec-WebSocket-Version", "13");
    throw HTTPBadRequest("400: Bad Request (" + why + ")", std::move(h));
  }
  const std::string accept = pyconc::detail::websocket_accept(
      std::string(request.headers().get("Sec-WebSocket-Key").value_or("")).substr(0, 24));
  std::string& out = conn->out();
  const std::size_t mark = out.size();
  try {
    pyconc::detail::HttpResponseHead head{.status = 101, .server = conn->server_header()};
    pyconc::detail::append_status_line(out, head);
    out += "Upgrade: websocket\r\nConnection: upgrade\r\n";
    unsigned given = pyconc::detail::append_header(out, "Sec-WebSocket-Accept", accept);
    if (!chosen.empty())
      given |= pyconc::detail::append_header(out, "Sec-WebSocket-Protocol", chosen);
    for (const auto& [name, value] : headers())
      given |= pyconc::detail::append_header(out, name, value);
    pyconc::detail::finish_response_head(out, head, given);
  } catch (...) {
    out.resize(mark);
    throw;
  }
  ex.started = ex.finished = ex.no_body = ex.upgraded = true;
  ex.must_close = true;
  protocol_ = chosen;
  ws_ = std::make_shared<pyconc::detail::WebSocketProtocol>(
      *conn,
      pyconc::detail::WebSocketProtocolOptions{.client = false,
                                               .max_msg_size = opt_.max_msg_size,
                                               .autoping = opt_.autoping,
                                               .autoclose = opt_.autoclose,
                                               .timeout = opt_.timeout,
                                               .receive_timeout = opt_.receive_timeout,
                                               .heartbeat = opt_.heartbeat},
      conn->leftover());
  conn->leftover().clear();
  conn->websocket() = ws_;
  conn_ = conn;
  conn->try_send();
  if (conn->needs_drain()) co_await conn->drain();
}

asyncio::Task<> WebSocketResponse::write(std::string_view) {
  throw RuntimeError("Cannot call .write() for websocket");
  co_return;
}

asyncio::Task<> WebSocketResponse::write_eof() {
  if (ws_) co_await close();
}

}  // namespace pyconc::aiohttp::web
