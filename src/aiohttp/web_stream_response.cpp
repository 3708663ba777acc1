// web::StreamResponse, and Response::prepare (see stream_response.hpp).
#include <charconv>

#include "pyconc/aiohttp/detail/http_response.hpp"
#include "pyconc/aiohttp/web/request.hpp"
#include "pyconc/aiohttp/web/response.hpp"
#include "server_connection.hpp"

namespace pyconc::aiohttp::web {

namespace {

bool is_text_type(std::string_view type) {
  return type.substr(0, 5) == "text/" || type == "application/json" ||
         type == "application/javascript" || type == "application/xml" || type == "image/svg+xml";
}

}  // namespace

StreamResponse::StreamResponse(ResponseOptions options)
    : headers_(std::move(options.headers)),
      content_type_(options.content_type.empty() ? "application/octet-stream"
                                                 : std::move(options.content_type)),
      charset_(std::move(options.charset)) {
  set_status(options.status, std::move(options.reason));
  if (charset_.empty() && is_text_type(content_type_)) charset_ = "utf-8";
}

void StreamResponse::set_status(int status, std::string reason) {
  if (conn_) throw RuntimeError("Cannot change the response status code after prepare()");
  if (status < 100 || status > 999) {
    throw ValueError("Response: status " + std::to_string(status) + " is not in 100..999");
  }
  status_ = status;
  reason_ =
      reason.empty() ? std::string(pyconc::detail::http_reason_phrase(status)) : std::move(reason);
}

std::string StreamResponse::content_type_header() const {
  if (charset_.empty()) return content_type_;
  return content_type_ + "; charset=" + charset_;
}

void StreamResponse::set_cookie(std::string_view name, std::string_view value,
                                std::string_view path, long max_age, bool httponly, bool secure) {
  std::string c;
  c.append(name).append("=").append(value);
  if (!path.empty()) c.append("; Path=").append(path);
  if (max_age >= 0) c.append("; Max-Age=").append(std::to_string(max_age));
  if (httponly) c.append("; HttpOnly");
  if (secure) c.append("; Secure");
  headers_.add("Set-Cookie", std::move(c));
}

asyncio::Task<> StreamResponse::prepare(Request& request) {
  if (conn_) co_return;
  const std::shared_ptr<pyconc::detail::HttpServerConnection>& conn = request.connection();
  if (!conn || conn->gone()) {
    throw RuntimeError("StreamResponse.prepare(): the request is not being served");
  }
  auto& ex = conn->exchange();
  if (ex.started) throw RuntimeError("prepare(): this request was already answered");
  // A Content-Length among the headers is the body's length: the writer frames it.
  std::optional<std::uint64_t> length = content_length_;
  for (const auto& [name, value] : headers_) {
    if (!pyconc::detail::iequals_ascii(name, "Content-Length")) continue;
    std::uint64_t n = 0;
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || p != value.data() + value.size() || value.empty()) {
      throw ValueError("StreamResponse: Content-Length '" + value + "' is not a number");
    }
    length = n;
  }
  const int status = status_;
  const bool no_body_status = (status >= 100 && status < 200) || status == 204 || status == 304;
  pyconc::detail::HttpResponseHead head{.status = status,
                                        .reason = reason_,
                                        .version_minor = ex.version_minor == 0 ? 0 : 1,
                                        .keep_alive = ex.keep_alive && keep_alive_,
                                        .server = conn->server_header()};
  if (status == 304) {
    head.content_length = length;
  } else if (!no_body_status) {
    if (length) {
      head.content_length = length;
    } else if (head.version_minor == 1) {
      head.chunked = true;
    }
  }
  std::string& out = conn->out();
  const std::size_t mark = out.size();
  try {
    pyconc::detail::append_status_line(out, head);
    unsigned given = 0;
    if (!no_body_status)
      given |= pyconc::detail::append_header(out, "Content-Type", content_type_header());
    for (const auto& [name, value] : headers_) {
      if (!pyconc::detail::iequals_ascii(name, "Content-Length"))
        given |= pyconc::detail::append_header(out, name, value);
    }
    pyconc::detail::finish_response_head(out, head, given);
  } catch (...) {
    out.resize(mark);
    throw;
  }
  content_length_ = length;
  ex.started = true;
  ex.no_body = no_body_status || ex.head_request;
  ex.chunked = head.chunked;
  ex.remaining = no_body_status ? std::nullopt : length;
  // finish_response_head closes a body delimited by the end of the connection.
  ex.must_close = !head.keep_alive || (!no_body_status && !length && !head.chunked);
  conn_ = conn;
  conn->try_send();
  if (conn->needs_drain()) co_await conn->drain();
}

asyncio::Task<> StreamResponse::write(std::string_view data) {
  if (!conn_) throw RuntimeError("Cannot call write() before prepare()");
  co_await conn_->write_body(data);
}

asyncio::Task<> StreamResponse::drain() {
  if (!conn_) throw RuntimeError("Cannot call drain() before prepare()");
  co_await conn_->drain();
}

asyncio::Task<> StreamResponse::write_eof(std::string_view data) {
  if (!conn_) throw RuntimeError("Cannot call write_eof() before prepare()");
  co_await conn_->write_eof(data);
}

asyncio::Task<> Response::prepare(Request& request) {
  if (conn_) co_return;
  set_content_length(body_.size());
  co_await StreamResponse::prepare(request);
  co_await write_eof(body_);
}

}  // namespace pyconc::aiohttp::web
