// web::StreamResponse, and Response::prepare (see stream_response.hpp).
#include <algorithm>
#include <cctype>
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

namespace {

// Python's http.cookies: the characters a cookie name may hold, and those a value may hold
// without quoting.
bool cookie_legal(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~:").find(c) != std::string_view::npos;
}

// Python's http.cookies._quote: legal values as they are, others in double quotes with '"'
// and '\\' escaped and every other byte outside the printable set as \ooo.
std::string quote_cookie_value(std::string_view v) {
  if (!v.empty() && std::all_of(v.begin(), v.end(), cookie_legal)) return std::string(v);
  std::string out = "\"";
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (cookie_legal(c) || std::string_view(" ()/<=>?@[]{}").find(c) != std::string_view::npos) {
      out += c;
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      out += '\\';
      out += static_cast<char>('0' + ((u >> 6) & 7));
      out += static_cast<char>('0' + ((u >> 3) & 7));
      out += static_cast<char>('0' + (u & 7));
    }
  }
  out += '"';
  return out;
}

void check_cookie_attribute(std::string_view what, std::string_view v) {
  if (v.find_first_of(std::string_view(";\r\n\0", 4)) != std::string_view::npos) {
    throw ValueError("set_cookie: " + std::string(what) + " '" + std::string(v) +
                     "' holds ';', CR, LF or NUL");
  }
}

}  // namespace

void StreamResponse::set_cookie(std::string_view name, std::string_view value,
                                const CookieOptions& o) {
  if (conn_) throw RuntimeError("set_cookie(): the headers were already sent (prepare())");
  if (name.empty() || !std::all_of(name.begin(), name.end(), cookie_legal)) {
    throw ValueError("set_cookie: illegal cookie name '" + std::string(name) + "'");
  }
  check_cookie_attribute("path", o.path);
  check_cookie_attribute("domain", o.domain);
  check_cookie_attribute("expires", o.expires);
  std::string samesite;
  if (!o.samesite.empty()) {
    for (const char* s : {"Strict", "Lax", "None"}) {
      if (pyconc::detail::iequals_ascii(o.samesite, s)) samesite = s;
    }
    if (samesite.empty()) {
      throw ValueError("set_cookie: samesite must be 'Strict', 'Lax' or 'None', not '" +
                       o.samesite + "'");
    }
  }
  // Attributes in the order Python's Morsel.OutputString writes them.
  std::string c;
  c.append(name).append("=").append(quote_cookie_value(value));
  if (!o.domain.empty()) c.append("; Domain=").append(o.domain);
  if (!o.expires.empty()) c.append("; expires=").append(o.expires);
  if (o.httponly) c.append("; HttpOnly");
  if (o.max_age)
    c.append("; Max-Age=").append(std::to_string(std::max<long long>(0, o.max_age->count())));
  if (!o.path.empty()) c.append("; Path=").append(o.path);
  if (!samesite.empty()) c.append("; SameSite=").append(samesite);
  if (o.secure) c.append("; Secure");
  // One Set-Cookie per name: a later call replaces the earlier one.
  const std::string prefix = std::string(name) + "=";
  CIMultiDict kept;
  for (const auto& [k, v] : headers_) {
    if (pyconc::detail::iequals_ascii(k, "Set-Cookie") && v.rfind(prefix, 0) == 0) continue;
    kept.add(k, v);
  }
  kept.add("Set-Cookie", std::move(c));
  headers_ = std::move(kept);
}

void StreamResponse::set_cookie(std::string_view name, std::string_view value,
                                std::string_view path, long max_age, bool httponly, bool secure) {
  CookieOptions o{.path = std::string(path), .secure = secure, .httponly = httponly};
  if (max_age >= 0) o.max_age = std::chrono::seconds(max_age);
  set_cookie(name, value, o);
}

void StreamResponse::del_cookie(std::string_view name, const DelCookieOptions& options) {
  set_cookie(name, "",
             {.max_age = std::chrono::seconds(0),
              .path = options.path,
              .domain = options.domain,
              .expires = "Thu, 01 Jan 1970 00:00:00 GMT"});
}

asyncio::Task<> StreamResponse::send_self(Request& request) {
  if (!sender_) throw RuntimeError("send_self(): this response does not send itself");
  const std::shared_ptr<SelfSender> keep = sender_;  // the response may be moved meanwhile
  co_await keep->send(*this, request);
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
