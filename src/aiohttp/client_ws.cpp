// ClientSession::ws_connect and the client's WebSocket transport (see client_ws.hpp). Kept
// apart from the libcurl-based session code: a WebSocket runs on the library's own asyncio
// streams.
#include <algorithm>
#include <cstdlib>
#include <optional>
#include <tuple>
#include <utility>

#include "pyconc/aiohttp/client.hpp"
#include "pyconc/aiohttp/detail/http_response.hpp"
#include "pyconc/aiohttp/detail/websocket.hpp"
#include "pyconc/asyncio/exceptions.hpp"
#include "pyconc/asyncio/streams.hpp"
#include "pyconc/asyncio/timeout.hpp"
#include "websocket_protocol.hpp"

namespace pyconc::aiohttp {

namespace aio = pyconc::asyncio;

namespace {

// A WebSocket over an asyncio stream pair (TCP or TLS).
class StreamWebSocketTransport final : public pyconc::detail::WebSocketTransport {
 public:
  StreamWebSocketTransport(aio::StreamReader r, aio::StreamWriter w)
      : r_(std::move(r)), w_(std::move(w)) {}
  ~StreamWebSocketTransport() override { close(); }

  void write(std::string_view data) override {
    if (closed_ || w_.is_closing()) {
      throw ConnectionResetError(ECONNRESET, "Cannot write to closing transport");
    }
    w_.write(data);
  }
  bool needs_drain() const noexcept override { return w_.get_write_buffer_size() > 65536; }
  aio::Task<> drain() override { co_await w_.drain(); }
  aio::Task<std::size_t> read(std::string& buf) override {
    if (closed_) co_return 0;
    const std::string chunk = co_await r_.read(65536);
    buf += chunk;
    co_return chunk.size();
  }
  void close() noexcept override {
    if (closed_) return;
    closed_ = true;
    // Flushes what is queued (the close frame), then closes; a pending read wakes at EOF.
    w_.close();
  }

 private:
  aio::StreamReader r_;
  aio::StreamWriter w_;
  bool closed_ = false;
};

// The transport and the protocol on it, owned together (the protocol points at the transport).
struct ClientWebSocketState {
  ClientWebSocketState(aio::StreamReader r, aio::StreamWriter w,
                       pyconc::detail::WebSocketProtocolOptions o)
      : transport(std::move(r), std::move(w)), protocol(transport, o) {}
  StreamWebSocketTransport transport;
  pyconc::detail::WebSocketProtocol protocol;
};

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    if (pyconc::detail::iequals_ascii(trim(value.substr(0, comma)), token)) return true;
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
  }
  return false;
}

struct HandshakeAnswer {
  int status = 0;
  std::string reason;
  CIMultiDict headers;
};

// The status line and headers of the server's answer ("HTTP/1.1 101 ...\r\n...\r\n\r\n").
HandshakeAnswer parse_answer(std::string_view head, const RequestInfo& info) {
  HandshakeAnswer a;
  auto line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ') {
    throw WSServerHandshakeError(info, 0,
                                 "Invalid response status line: " + std::string(status_line));
  }
  a.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  a.reason = std::string(trim(status_line.substr(12)));
  head.remove_prefix(line_end + 2);
  while (!head.empty()) {
    line_end = head.find("\r\n");
    const std::string_view line = head.substr(0, line_end);
    head.remove_prefix(line_end == std::string_view::npos ? head.size() : line_end + 2);
    if (line.empty()) break;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      throw WSServerHandshakeError(info, a.status, "Invalid header line: " + std::string(line));
    }
    a.headers.add(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
  }
  return a;
}

}  // namespace

namespace {

// The coroutine behind ws_connect: it owns its arguments (the caller's URL may be a temporary
// gone before the task first runs).
aio::Task<ClientWebSocketResponse> connect(const ClientSession& session, std::string url_text,
                                           WSConnectOptions options) {
  if (session.closed()) throw RuntimeError("Session is closed");
  const URL url{url_text};
  const std::string_view scheme = url.scheme();
  const bool tls = scheme == "wss" || scheme == "https";
  if (!tls && scheme != "ws" && scheme != "http") {
    throw InvalidURL(url.str(), "ws_connect: the URL must be ws://, wss://, http:// or https://");
  }
  const std::string host(url.host());
  if (host.empty()) throw InvalidURL(url.str(), "ws_connect: the URL has no host");
  const int port = url.port().value_or(tls ? 443 : 80);
  RequestInfo info{.url = url, .method = "GET", .headers = {}, .real_url = url};

  // The request head: our fields first, then the session's defaults and the caller's.
  const std::string key = pyconc::detail::websocket_key();
  std::string req = "GET " + url.raw_path_qs() + " HTTP/1.1\r\n";
  req += "Host: " + host;
  if (!url.is_default_port()) req += ":" + std::to_string(port);
  req += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
  pyconc::detail::append_header(req, "Sec-WebSocket-Key", key);
  if (!options.protocols.empty()) {
    std::string list;
    for (const auto& p : options.protocols) list += (list.empty() ? "" : ", ") + p;
    pyconc::detail::append_header(req, "Sec-WebSocket-Protocol", list);
  }
  if (!options.origin.empty()) pyconc::detail::append_header(req, "Origin", options.origin);
  for (const auto& [name, value] : session.headers()) {
    if (!options.headers.contains(name)) pyconc::detail::append_header(req, name, value);
  }
  for (const auto& [name, value] : options.headers) pyconc::detail::append_header(req, name, value);
  req += "\r\n";
  for (const auto& [name, value] : options.headers) info.headers.add(name, value);

  std::optional<std::chrono::milliseconds> bound = options.handshake_timeout;
  if (!bound && session.timeout().total) {
    bound = std::chrono::duration_cast<std::chrono::milliseconds>(*session.timeout().total);
  }
  auto handshake =
      [&]() -> aio::Task<std::tuple<aio::StreamReader, aio::StreamWriter, std::string>> {
    aio::OpenConnectionOptions oc;
    if (tls) oc.ssl = options.ssl ? options.ssl : aio::SSLOption(true);
    std::pair<aio::StreamReader, aio::StreamWriter> streams;
    try {
      streams = co_await aio::open_connection(host, port, oc);
    } catch (const OSError& e) {
      throw ClientConnectorError(host, static_cast<std::uint16_t>(port), tls, e.strerror(),
                                 e.errno_value());
    }
    auto& [reader, writer] = streams;
    writer.write(req);
    co_await writer.drain();
    std::string head;
    try {
      head = co_await reader.readuntil("\r\n\r\n");
    } catch (const aio::IncompleteReadError&) {
      throw ServerDisconnectedError("Server disconnected during the WebSocket handshake");
    } catch (const aio::LimitOverrunError&) {
      throw WSServerHandshakeError(info, 0, "The handshake answer's head is too large");
    }
    co_return std::tuple{reader, writer, std::move(head)};
  };
  // (Not `bound ? co_await a : co_await b`: GCC 12 miscompiles co_await in a conditional.)
  std::optional<std::tuple<aio::StreamReader, aio::StreamWriter, std::string>> got;
  if (bound) {
    got.emplace(co_await aio::wait_for(handshake(), *bound));
  } else {
    got.emplace(co_await handshake());
  }
  // (Named references, not a structured binding: clang 14 cannot capture one in a lambda.)
  aio::StreamReader& reader = std::get<0>(*got);
  aio::StreamWriter& writer = std::get<1>(*got);
  const std::string& head = std::get<2>(*got);

  HandshakeAnswer a = parse_answer(head, info);
  auto fail = [&](const std::string& why) {
    writer.close();
    return WSServerHandshakeError(info, a.status, why, a.headers);
  };
  if (a.status != 101) throw fail("Invalid response status");
  if (!has_token(std::string(a.headers.get("Upgrade").value_or("")), "websocket")) {
    throw fail("Invalid upgrade header");
  }
  if (!has_token(std::string(a.headers.get("Connection").value_or("")), "upgrade")) {
    throw fail("Invalid connection header");
  }
  if (a.headers.get("Sec-WebSocket-Accept").value_or("") != pyconc::detail::websocket_accept(key)) {
    throw fail("Invalid challenge response");
  }
  std::string protocol(a.headers.get("Sec-WebSocket-Protocol").value_or(""));
  if (!protocol.empty() && std::find(options.protocols.begin(), options.protocols.end(),
                                     protocol) == options.protocols.end()) {
    throw fail("The server chose a subprotocol we did not offer: " + protocol);
  }
  auto state = std::make_shared<ClientWebSocketState>(
      reader, writer,
      pyconc::detail::WebSocketProtocolOptions{.client = true,
                                               .max_msg_size = options.max_msg_size,
                                               .autoping = options.autoping,
                                               .autoclose = options.autoclose,
                                               .timeout = options.timeout,
                                               .receive_timeout = options.receive_timeout,
                                               .heartbeat = options.heartbeat});
  // Shares ownership of the transport with the protocol (aliasing constructor).
  std::shared_ptr<pyconc::detail::WebSocketProtocol> ws(state, &state->protocol);
  co_return ClientWebSocketResponse(std::move(ws), std::move(protocol), std::move(a.headers));
}

}  // namespace

aio::Task<ClientWebSocketResponse> ClientSession::ws_connect(std::string_view url) {
  return connect(*this, std::string(url), WSConnectOptions{});
}

aio::Task<ClientWebSocketResponse> ClientSession::ws_connect(std::string_view url,
                                                             WSConnectOptions options) {
  return connect(*this, std::string(url), std::move(options));
}

}  // namespace pyconc::aiohttp
