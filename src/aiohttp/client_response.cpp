// ClientResponse: the head's accessors, reading and decoding the body.
#include <iconv.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <regex>

#include "client_core.hpp"
#include "pyconc/aiohttp/client_response.hpp"

namespace pyconc::aiohttp {

namespace {

using detail::ClientResponseState;
using detail::TransferPhase;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = detail::ascii_lower(c);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Content-Type "text/html; charset=UTF-8" -> ("text/html", {("charset", "UTF-8")}).
std::string mime_type(std::string_view header) {
  return lower(trim(header.substr(0, header.find(';'))));
}

std::optional<std::string> mime_param(std::string_view header, std::string_view name) {
  std::size_t pos = header.find(';');
  while (pos != std::string_view::npos) {
    std::string_view rest = header.substr(pos + 1);
    const std::size_t next = rest.find(';');
    std::string_view param = trim(rest.substr(0, next));
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && detail::iequals_ascii(trim(param.substr(0, eq)), name)) {
      std::string_view v = trim(param.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return std::string(v);
    }
    pos = next == std::string_view::npos ? next : pos + 1 + next;
  }
  return std::nullopt;
}

enum class Errors { strict, replace, ignore };

Errors parse_errors(std::string_view errors) {
  if (errors == "strict") return Errors::strict;
  if (errors == "replace") return Errors::replace;
  if (errors == "ignore") return Errors::ignore;
  throw ValueError("unknown error handler name '" + std::string(errors) + "'");
}

[[noreturn]] void decode_error(std::string_view encoding, std::string_view in, std::size_t pos,
                               std::string_view why) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto b = static_cast<unsigned char>(in[pos]);
  throw ValueError("'" + std::string(encoding) + "' codec can't decode byte 0x" + kHex[b >> 4] +
                   kHex[b & 15] + " in position " + std::to_string(pos) + ": " + std::string(why));
}

// Length of the valid UTF-8 sequence at in[i], 0 if invalid (overlong forms, surrogates and
// code points above U+10FFFF are invalid, as in Python's codec).
std::size_t utf8_sequence(std::string_view in, std::size_t i) {
  const auto c = static_cast<unsigned char>(in[i]);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > in.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto d = static_cast<unsigned char>(in[i + k]);
    const unsigned l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (d < l || d > h) return 0;
  }
  return n;
}

std::string decode_utf8(std::string in, Errors errors) {
  std::size_t i = 0;
  // Fast path: valid UTF-8 is returned as is (no copy).
  while (i < in.size()) {
    const std::size_t n = utf8_sequence(in, i);
    if (n == 0) break;
    i += n;
  }
  if (i == in.size()) return in;
  if (errors == Errors::strict) decode_error("utf-8", in, i, "invalid start byte or sequence");
  std::string out = in.substr(0, i);
  while (i < in.size()) {
    const std::size_t n = utf8_sequence(in, i);
    if (n == 0) {
      if (errors == Errors::replace) out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(in, i, n);
      i += n;
    }
  }
  return out;
}

std::string decode_with_iconv(const std::string& in, const std::string& encoding, Errors errors) {
  iconv_t cd = ::iconv_open("UTF-8", encoding.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) throw ValueError("unknown encoding: " + encoding);
  struct Close {
    iconv_t cd;
    ~Close() { ::iconv_close(cd); }
  } close_cd{cd};
  std::string out;
  out.resize(in.size() * 2 + 16);
  char* src = const_cast<char*>(in.data());
  std::size_t src_left = in.size();
  char* dst = out.data();
  std::size_t dst_left = out.size();
  while (src_left > 0) {
    const std::size_t rc = ::iconv(cd, &src, &src_left, &dst, &dst_left);
    if (rc != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) {
      const std::size_t used = out.size() - dst_left;
      out.resize(out.size() * 2);
      dst = out.data() + used;
      dst_left = out.size() - used;
      continue;
    }
    // EILSEQ (an invalid sequence) or EINVAL (cut short at the end).
    const std::size_t pos = static_cast<std::size_t>(src - in.data());
    if (errors == Errors::strict) {
      decode_error(encoding, in, pos,
                   errno == EINVAL ? "unexpected end of data" : "invalid sequence");
    }
    if (errors == Errors::replace) {
      if (dst_left < 3) {
        const std::size_t used = out.size() - dst_left;
        out.resize(out.size() * 2 + 3);
        dst = out.data() + used;
        dst_left = out.size() - used;
      }
      std::memcpy(dst, "\xEF\xBF\xBD", 3);
      dst += 3;
      dst_left -= 3;
    }
    ++src;
    --src_left;
  }
  out.resize(out.size() - dst_left);
  return out;
}

bool is_utf8_name(std::string_view e) {
  const std::string l = lower(e);
  return l == "utf-8" || l == "utf8" || l == "u8";
}

bool is_ascii_name(std::string_view e) {
  const std::string l = lower(e);
  return l == "ascii" || l == "us-ascii" || l == "646";
}

// Whether iconv knows `encoding` (a charset parameter it does not know is ignored, as aiohttp
// ignores one Python's codecs do not know).
bool known_encoding(const std::string& encoding) {
  iconv_t cd = ::iconv_open("UTF-8", encoding.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  ::iconv_close(cd);
  return true;
}

std::string decode(std::string body, const std::string& encoding, Errors errors) {
  if (is_utf8_name(encoding)) return decode_utf8(std::move(body), errors);
  if (is_ascii_name(encoding)) {
    const auto bad = std::find_if(body.begin(), body.end(),
                                  [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    if (bad == body.end()) return body;
  }
  return decode_with_iconv(body, encoding, errors);
}

// aiohttp's test: "application/json" also accepts application/<anything>+json.
bool expected_content_type(const std::string& actual, const std::string& expected) {
  if (expected == "application/json") {
    static const std::regex json_re(R"(^application/(?:[\w.+-]+?\+)?json)");
    return std::regex_search(actual, json_re);
  }
  return actual.find(expected) != std::string::npos;
}

// Drops the bytes content() readers consumed, so that `body` is what is left.
void drop_consumed(ClientResponseState& s) {
  if (s.body_offset == 0) return;
  s.body.erase(0, s.body_offset);
  s.body_offset = 0;
}

asyncio::Task<std::string> read_body(std::shared_ptr<ClientResponseState> s) {
  if (s->transfer != nullptr) {
    s->transfer->want_whole_body();
    co_await s->transfer->wait(TransferPhase::done);  // rethrows a failure of the transfer
    s->transfer.reset();  // complete: the easy handle goes, the connection is back in the pool
  }
  drop_consumed(*s);
  co_return s->body;
}

asyncio::Task<std::string> text_body(std::shared_ptr<ClientResponseState> s,
                                     std::optional<std::string> encoding, std::string errors) {
  const Errors mode = parse_errors(errors);
  std::string body = co_await read_body(s);
  std::string enc;
  if (encoding) {
    enc = *encoding;
  } else {
    auto ct = s->headers.get("Content-Type");
    std::optional<std::string> cs = ct ? mime_param(*ct, "charset") : std::nullopt;
    enc = cs && known_encoding(*cs) ? *cs : "utf-8";
  }
  co_return decode(std::move(body), enc, mode);
}

asyncio::Task<nlohmann::json> json_body(std::shared_ptr<ClientResponseState> s,
                                        std::optional<std::string> content_type) {
  std::string text = co_await text_body(s, std::nullopt, "strict");
  if (content_type) {
    auto ct = s->headers.get("Content-Type");
    const std::string actual = ct ? lower(trim(*ct)) : std::string();
    if (!expected_content_type(actual, lower(*content_type))) {
      throw ContentTypeError(
          s->request_info, s->status,
          "Attempt to decode JSON with unexpected mimetype: " + mime_type(actual), s->headers,
          s->history.size());
    }
  }
  if (trim(text).find_first_not_of(" \t\r\n") == std::string_view::npos) co_return nlohmann::json();
  try {
    co_return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw ValueError(std::string("invalid JSON body: ") + e.what());
  }
}

}  // namespace

ClientResponse::ClientResponse(std::shared_ptr<detail::ClientResponseState> state) noexcept
    : s_(std::move(state)) {}

detail::ClientResponseState& ClientResponse::state() const {
  if (s_ == nullptr) throw RuntimeError("empty ClientResponse");
  return *s_;
}

int ClientResponse::status() const {
  return state().status;
}
const std::string& ClientResponse::reason() const {
  return state().reason;
}
const CIMultiDict& ClientResponse::headers() const {
  return state().headers;
}
const URL& ClientResponse::url() const {
  return state().url;
}
const URL& ClientResponse::real_url() const {
  return state().real_url;
}
const std::string& ClientResponse::method() const {
  return state().request_info.method;
}
HttpVersion ClientResponse::version() const {
  return state().version;
}
const RequestInfo& ClientResponse::request_info() const {
  return state().request_info;
}
const std::vector<ClientResponse>& ClientResponse::history() const {
  return state().history;
}
const std::string& ClientResponse::body() const {
  auto& s = state();
  drop_consumed(s);
  return s.body;
}

StreamReader ClientResponse::content() const {
  state();
  return StreamReader(s_);
}

std::optional<std::uint64_t> ClientResponse::content_length() const {
  auto v = state().headers.get("Content-Length");
  if (!v) return std::nullopt;
  const std::string_view t = trim(*v);
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec != std::errc() || p != t.data() + t.size()) return std::nullopt;
  return n;
}

std::string ClientResponse::content_type() const {
  auto v = state().headers.get("Content-Type");
  if (!v) return "application/octet-stream";  // RFC 9110 §8.3 (aiohttp's default too)
  return mime_type(*v);
}

std::optional<std::string> ClientResponse::charset() const {
  auto v = state().headers.get("Content-Type");
  if (!v) return std::nullopt;
  auto cs = mime_param(*v, "charset");
  if (cs) *cs = lower(*cs);
  return cs;
}

MultiDict ClientResponse::cookies() const {
  MultiDict out;
  for (const auto& [k, v] : state().headers) {
    if (!detail::iequals_ascii(k, "Set-Cookie")) continue;
    const std::string_view pair = std::string_view(v).substr(0, v.find(';'));
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    out.add(std::string(trim(pair.substr(0, eq))), std::string(trim(pair.substr(eq + 1))));
  }
  return out;
}

void ClientResponse::raise_for_status() {
  auto& s = state();
  if (s.status < 400) return;
  release();
  throw ClientResponseError(s.request_info, s.status, s.reason, s.headers, s.history.size());
}

asyncio::Task<std::string> ClientResponse::read() const {
  state();
  return read_body(s_);
}

asyncio::Task<std::string> ClientResponse::text(std::optional<std::string> encoding,
                                                std::string errors) const {
  state();
  return text_body(s_, std::move(encoding), std::move(errors));
}

asyncio::Task<nlohmann::json> ClientResponse::json(std::optional<std::string> content_type) const {
  state();
  return json_body(s_, std::move(content_type));
}

bool ClientResponse::is_eof() const {
  auto& s = state();
  return s.transfer == nullptr || s.transfer->phase() == TransferPhase::done;
}

void ClientResponse::release() {
  auto& s = state();
  if (s.transfer != nullptr && s.transfer->phase() != TransferPhase::done) {
    s.transfer->abort(std::make_exception_ptr(ClientConnectionError(
        "Connection closed (the response was released before its body was read)")));
  }
  s.released = true;
}

bool ClientResponse::closed() const {
  auto& s = state();
  return s.released || is_eof();
}

}  // namespace pyconc::aiohttp
