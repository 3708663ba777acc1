#include "pyconc/aiohttp/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <ostream>
#include <vector>

#include "percent.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::aiohttp {

namespace {

using detail::ByteSet;

constexpr std::size_t kMaxQuoted = 120;  // how much of a bad URL an error message repeats

// The URL as an error message shows it: at most kMaxQuoted bytes, control bytes as \xNN.
[[noreturn]] void fail(std::string_view url, const std::string& what) {
  std::string shown;
  for (char c : url.substr(0, kMaxQuoted)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      shown += "\\x";
      shown += detail::kHexUpper[u >> 4];
      shown += detail::kHexUpper[u & 15];
    } else {
      shown += c;
    }
  }
  if (url.size() > kMaxQuoted) shown += "...";
  throw ValueError("invalid URL '" + shown + "': " + what);
}

std::string char_name(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u >= 0x7f) {
    char buf[8];
    buf[0] = '0';
    buf[1] = 'x';
    buf[2] = detail::kHexUpper[u >> 4];
    buf[3] = detail::kHexUpper[u & 15];
    return std::string(buf, 4);
  }
  return std::string("'") + c + "'";
}

std::optional<std::uint16_t> default_port(std::string_view scheme) {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  if (scheme == "ftp") return 21;
  return std::nullopt;
}

// Schemes whose URLs must name a host (RFC 9110 §4.2.1 for http/https; WebSocket likewise).
bool needs_host(std::string_view scheme) {
  return scheme == "http" || scheme == "https" || scheme == "ws" || scheme == "wss";
}

void lower_ascii(std::string& s) {
  for (char& c : s) c = detail::ascii_lower(c);
}

// Removes what browsers remove from an href before parsing: leading/trailing C0 controls and
// spaces, and tabs/newlines anywhere. Any other control character is an error.
std::string clean(std::string_view text) {
  std::size_t b = 0, e = text.size();
  while (b < e && static_cast<unsigned char>(text[b]) <= 0x20) ++b;
  while (e > b && static_cast<unsigned char>(text[e - 1]) <= 0x20) --e;
  std::string out;
  out.reserve(e - b);
  for (std::size_t i = b; i < e; ++i) {
    const char c = text[i];
    if (c == '\t' || c == '\n' || c == '\r') continue;
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      fail(text, "control character " + char_name(c) + " at position " + std::to_string(i));
    out += c;
  }
  return out;
}

// --- Punycode (RFC 3492) for internationalised host labels --------------------------------------

std::u32string utf8_decode(std::string_view s, std::string_view url) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = 0;
    char32_t cp = 0;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      fail(url, "host is not valid UTF-8");
    }
    if (i + static_cast<std::size_t>(len) > s.size()) fail(url, "host is not valid UTF-8");
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((cc & 0xC0) != 0x80) fail(url, "host is not valid UTF-8");
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      fail(url, "host is not valid UTF-8");
    out += cp;
    i += static_cast<std::size_t>(len);
  }
  return out;
}

std::string punycode(const std::u32string& label, std::string_view url) {
  constexpr std::uint32_t kBase = 36, kTMin = 1, kTMax = 26, kSkew = 38, kDamp = 700;
  auto adapt = [](std::uint32_t delta, std::uint32_t points, bool first) {
    delta = first ? delta / kDamp : delta / 2;
    delta += delta / points;
    std::uint32_t k = 0;
    while (delta > ((kBase - kTMin) * kTMax) / 2) {
      delta /= kBase - kTMin;
      k += kBase;
    }
    return k + (kBase - kTMin + 1) * delta / (delta + kSkew);
  };
  auto digit = [](std::uint32_t d) { return static_cast<char>(d < 26 ? 'a' + d : '0' + d - 26); };
  std::string out;
  for (char32_t c : label) {
    if (c < 0x80) out += detail::ascii_lower(static_cast<char>(c));
  }
  const auto basic = static_cast<std::uint32_t>(out.size());
  std::uint32_t handled = basic;
  if (basic > 0) out += '-';
  std::uint32_t n = 0x80, delta = 0, bias = 72;
  while (handled < label.size()) {
    std::uint32_t m = 0x10FFFF + 1;
    for (char32_t c : label) {
      if (c >= n && c < m) m = c;
    }
    if ((m - n) > (0xFFFFFFFFu - delta) / (handled + 1)) fail(url, "host label too long");
    delta += (m - n) * (handled + 1);
    n = m;
    for (char32_t c : label) {
      if (c < n) ++delta;
      if (c != n) continue;
      std::uint32_t q = delta;
      for (std::uint32_t k = kBase;; k += kBase) {
        const std::uint32_t t = k <= bias ? kTMin : (k >= bias + kTMax ? kTMax : k - bias);
        if (q < t) break;
        out += digit(t + (q - t) % (kBase - t));
        q = (q - t) / (kBase - t);
      }
      out += digit(q);
      bias = adapt(delta, handled + 1, handled == basic);
      delta = 0;
      ++handled;
    }
    ++delta;
    ++n;
  }
  return "xn--" + out;
}

// A reg-name host: lower case, non-ASCII labels in Punycode, forbidden characters rejected.
std::string encode_reg_name(std::string_view host, std::string_view url) {
  std::string out;
  out.reserve(host.size());
  std::size_t start = 0;
  while (start <= host.size()) {
    std::size_t dot = host.find('.', start);
    if (dot == std::string_view::npos) dot = host.size();
    const std::string_view label = host.substr(start, dot - start);
    if (std::any_of(label.begin(), label.end(),
                    [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
      out += punycode(utf8_decode(label, url), url);
    } else {
      for (std::size_t i = 0; i < label.size(); ++i) {
        const char c = label[i];
        if (c == '%' && detail::is_pct_triplet(label, i)) {
          out.append(label.substr(i, 3));
          i += 2;
        } else if (detail::kRegNameChars[c]) {
          out += detail::ascii_lower(c);
        } else {
          fail(url, "invalid character " + char_name(c) + " in host");
        }
      }
    }
    if (dot == host.size()) break;
    out += '.';
    start = dot + 1;
  }
  return out;
}

std::string encode_host(std::string_view host, std::string_view url) {
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos) fail(url, "IPv6 address is missing ']'");
    if (close + 1 != host.size()) fail(url, "unexpected text after IPv6 address");
    std::string literal(host.substr(1, close - 1));
    unsigned char buf[16];
    if (inet_pton(AF_INET6, literal.c_str(), buf) != 1)
      fail(url, "invalid IPv6 address '" + literal + "'");
    lower_ascii(literal);
    return "[" + literal + "]";
  }
  return encode_reg_name(host, url);
}

std::uint16_t parse_port(std::string_view text, std::string_view url) {
  if (text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return detail::kDigit[c]; }))
    fail(url, "invalid port '" + std::string(text.substr(0, 20)) + "'");
  unsigned value = 0;
  for (char c : text) value = value * 10 + static_cast<unsigned>(c - '0');
  if (value > 65535) fail(url, "port " + std::string(text) + " is out of range 0-65535");
  return static_cast<std::uint16_t>(value);
}

// RFC 3986 §5.2.4.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  auto pop_last = [&out] {
    const std::size_t p = out.rfind('/');
    out.erase(p == std::string::npos ? 0 : p);
  };
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../")) {
      in.remove_prefix(3);
      pop_last();
    } else if (in == "/..") {
      in = "/";
      pop_last();
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      const std::size_t next = in.find('/', in.front() == '/' ? 1 : 0);
      const std::string_view seg = in.substr(0, next);
      out += seg;
      in.remove_prefix(seg.size());
    }
  }
  return out;
}

std::string_view query_key(std::string_view item) {
  return item.substr(0, item.find('='));
}

}  // namespace

URL::URL(std::string_view text) {
  const std::string s = clean(text);
  std::string_view rest = s;

  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
  if (!rest.empty() && detail::kAlpha[rest.front()]) {
    std::size_t i = 1;
    while (i < rest.size() && detail::kSchemeChars[rest[i]]) ++i;
    if (i < rest.size() && rest[i] == ':') {
      scheme_ = std::string(rest.substr(0, i));
      lower_ascii(scheme_);
      rest.remove_prefix(i + 1);
    }
  }
  if (rest.starts_with("//")) {
    rest.remove_prefix(2);
    const std::size_t end = rest.find_first_of("/?#");
    parse_authority(rest.substr(0, end), text);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    if (host_.empty() && needs_host(scheme_)) fail(text, scheme_ + " URL has no host");
  }
  const std::size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    fragment_ = detail::encoded(rest.substr(hash + 1), detail::kQueryChars, true);
    rest = rest.substr(0, hash);
  }
  const std::size_t qmark = rest.find('?');
  if (qmark != std::string_view::npos) {
    query_ = detail::encoded(rest.substr(qmark + 1), detail::kQueryChars, true);
    rest = rest.substr(0, qmark);
  }
  path_ = detail::encoded(rest, detail::kPathChars, true);
}

void URL::parse_authority(std::string_view authority, std::string_view whole) {
  has_authority_ = true;
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    static constexpr ByteSet kUserChars = detail::kUnreserved | detail::kSubDelims;
    user_ = detail::encoded(userinfo.substr(0, colon), kUserChars, true);
    if (colon != std::string_view::npos)
      password_ = detail::encoded(userinfo.substr(colon + 1), detail::kUserInfoChars, true);
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority, port;
  if (authority.starts_with("[")) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) fail(whole, "IPv6 address is missing ']'");
    host = authority.substr(0, close + 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        fail(whole, "unexpected " + char_name(after.front()) + " after IPv6 address");
      port = after.substr(1);
    }
  } else if (const std::size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  host_ = encode_host(host, whole);
  if (!port.empty()) port_ = parse_port(port, whole);
}

std::optional<std::string_view> URL::raw_user() const {
  if (!user_) return std::nullopt;
  return std::string_view(*user_);
}
std::optional<std::string> URL::user() const {
  if (!user_) return std::nullopt;
  return detail::percent_decode(*user_);
}
std::optional<std::string_view> URL::raw_password() const {
  if (!password_) return std::nullopt;
  return std::string_view(*password_);
}
std::optional<std::string> URL::password() const {
  if (!password_) return std::nullopt;
  return detail::percent_decode(*password_);
}

std::string_view URL::host() const noexcept {
  std::string_view h = host_;
  if (h.size() >= 2 && h.front() == '[') h = h.substr(1, h.size() - 2);
  return h;
}

std::optional<std::uint16_t> URL::port() const noexcept {
  if (port_) return port_;
  if (!has_authority_) return std::nullopt;
  return default_port(scheme_);
}

bool URL::is_default_port() const noexcept {
  return !port_ || port_ == default_port(scheme_);
}

std::string URL::raw_authority() const {
  std::string out;
  if (user_) {
    out += *user_;
    if (password_) out += ':' + *password_;
    out += '@';
  }
  out += host_;
  if (port_) out += ':' + std::to_string(*port_);
  return out;
}

std::string URL::path() const {
  return detail::percent_decode(path_);
}

std::string_view URL::raw_query_string() const noexcept {
  return query_ ? std::string_view(*query_) : std::string_view();
}

std::string URL::query_string() const {
  return detail::percent_decode(raw_query_string(), true);
}

MultiDict URL::query() const {
  MultiDict out;
  std::string_view q = raw_query_string();
  while (!q.empty()) {
    const std::size_t amp = q.find('&');
    const std::string_view item = q.substr(0, amp);
    q.remove_prefix(amp == std::string_view::npos ? q.size() : amp + 1);
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    out.add(detail::percent_decode(item.substr(0, eq), true),
            eq == std::string_view::npos ? std::string()
                                         : detail::percent_decode(item.substr(eq + 1), true));
  }
  return out;
}

std::string URL::raw_path_qs() const {
  std::string out = path_.empty() ? std::string("/") : path_;
  if (query_ && !query_->empty()) out += '?' + *query_;
  return out;
}

std::string_view URL::raw_fragment() const noexcept {
  return fragment_ ? std::string_view(*fragment_) : std::string_view();
}

std::string URL::fragment() const {
  return detail::percent_decode(raw_fragment());
}

std::string URL::name() const {
  const std::size_t slash = path_.rfind('/');
  return detail::percent_decode(
      std::string_view(path_).substr(slash == std::string::npos ? 0 : slash + 1));
}

URL URL::origin() const {
  if (scheme_.empty() || !has_authority_)
    throw ValueError("URL '" + str() + "' is not absolute: it has no origin");
  URL o;
  o.scheme_ = scheme_;
  o.has_authority_ = true;
  o.host_ = host_;
  o.port_ = port_;
  return o;
}

URL URL::join(const URL& r) const {
  if (scheme_.empty())
    throw ValueError("cannot join '" + r.str() + "' to '" + str() +
                     "': the base URL must be absolute (have a scheme)");
  URL t;
  if (!r.scheme_.empty()) {
    t = r;
    t.path_ = remove_dot_segments(r.path_);
  } else {
    if (r.has_authority_) {
      t = r;
      t.path_ = remove_dot_segments(r.path_);
    } else {
      t.has_authority_ = has_authority_;
      t.user_ = user_;
      t.password_ = password_;
      t.host_ = host_;
      t.port_ = port_;
      if (r.path_.empty()) {
        t.path_ = path_;
        t.query_ = r.query_ ? r.query_ : query_;
      } else {
        if (r.path_.front() == '/') {
          t.path_ = remove_dot_segments(r.path_);
        } else {
          std::string merged;  // RFC 3986 §5.2.3
          if (has_authority_ && path_.empty()) {
            merged = "/" + r.path_;
          } else {
            const std::size_t slash = path_.rfind('/');
            merged =
                (slash == std::string::npos ? std::string() : path_.substr(0, slash + 1)) + r.path_;
          }
          t.path_ = remove_dot_segments(merged);
        }
        t.query_ = r.query_;
      }
    }
    t.scheme_ = scheme_;
  }
  t.fragment_ = r.fragment_;
  return t;
}

URL URL::normalized(const NormalizeOptions& options) const {
  static constexpr ByteSet kUserChars = detail::kUnreserved | detail::kSubDelims;
  URL u = *this;
  if (u.port_ && u.port_ == default_port(u.scheme_)) u.port_.reset();
  if (u.user_) u.user_ = detail::normalize_escapes(*u.user_, kUserChars);
  if (u.password_) u.password_ = detail::normalize_escapes(*u.password_, detail::kUserInfoChars);
  if (!u.host_.empty() && u.host_.front() != '[') {
    u.host_ = detail::normalize_escapes(u.host_, detail::kRegNameChars);
    lower_ascii(u.host_);  // an escape may have decoded to an upper-case letter
  }
  u.path_ = detail::normalize_escapes(u.path_, detail::kPathChars);
  if (!u.scheme_.empty() || u.has_authority_) u.path_ = remove_dot_segments(u.path_);
  if (u.has_authority_ && u.path_.empty() && needs_host(u.scheme_)) u.path_ = "/";
  if (u.query_) {
    if (u.query_->empty()) {
      u.query_.reset();
    } else {
      u.query_ = detail::normalize_escapes(*u.query_, detail::kQueryChars);
      if (options.sort_query) {
        std::vector<std::string_view> items;
        std::string_view q = *u.query_;
        while (true) {
          const std::size_t amp = q.find('&');
          items.push_back(q.substr(0, amp));
          if (amp == std::string_view::npos) break;
          q.remove_prefix(amp + 1);
        }
        std::stable_sort(items.begin(), items.end(), [](std::string_view a, std::string_view b) {
          return query_key(a) < query_key(b);
        });
        std::string sorted;
        for (std::string_view item : items) {
          if (item.empty()) continue;
          if (!sorted.empty()) sorted += '&';
          sorted += item;
        }
        u.query_ = std::move(sorted);
      }
    }
  }
  if (!options.keep_fragment) {
    u.fragment_.reset();
  } else if (u.fragment_) {
    u.fragment_ = detail::normalize_escapes(*u.fragment_, detail::kQueryChars);
  }
  return u;
}

URL URL::with_scheme(std::string_view scheme) const {
  if (scheme.empty() || !detail::kAlpha[scheme.front()] ||
      !std::all_of(scheme.begin(), scheme.end(), [](char c) { return detail::kSchemeChars[c]; }))
    throw ValueError("invalid URL scheme '" + std::string(scheme) + "'");
  URL u = *this;
  u.scheme_ = std::string(scheme);
  lower_ascii(u.scheme_);
  return u;
}

URL URL::with_user(std::optional<std::string_view> user) const {
  if (!has_authority_) throw ValueError("user replacement is not allowed for relative URLs");
  URL u = *this;
  if (!user) {
    u.user_.reset();
    u.password_.reset();
  } else {
    static constexpr auto kChars = detail::kUnreserved | detail::kSubDelims;
    u.user_ = detail::encoded(*user, kChars, false);
  }
  return u;
}

URL URL::with_host(std::string_view host) const {
  if (!is_absolute()) throw ValueError("host replacement is not allowed for relative URLs");
  URL u = *this;
  u.has_authority_ = true;
  const bool ipv6 = host.find(':') != std::string_view::npos && !host.starts_with("[");
  u.host_ = ipv6 ? encode_host("[" + std::string(host) + "]", host) : encode_host(host, host);
  if (u.host_.empty() && needs_host(u.scheme_))
    throw ValueError("an " + u.scheme_ + " URL must have a host");
  return u;
}

URL URL::with_port(std::optional<std::uint16_t> port) const {
  if (!has_authority_) throw ValueError("port replacement is not allowed for relative URLs");
  URL u = *this;
  u.port_ = port;
  return u;
}

URL URL::with_path(std::string_view path) const {
  URL u = *this;
  u.path_ = detail::encoded(path, detail::kPathChars, true);
  if (u.has_authority_ && !u.path_.empty() && u.path_.front() != '/') u.path_.insert(0, 1, '/');
  u.query_.reset();
  u.fragment_.reset();
  return u;
}

URL URL::with_query(const MultiDict& query) const {
  URL u = *this;
  if (query.empty()) {
    u.query_.reset();
    return u;
  }
  std::string q;
  for (const auto& [k, v] : query) {
    if (!q.empty()) q += '&';
    detail::append_encoded(q, k, detail::kQueryPartChars, false, true);
    q += '=';
    detail::append_encoded(q, v, detail::kQueryPartChars, false, true);
  }
  u.query_ = std::move(q);
  return u;
}

URL URL::with_query(
    std::initializer_list<std::pair<std::string_view, std::string_view>> query) const {
  MultiDict md;
  for (const auto& [k, v] : query) md.add(std::string(k), std::string(v));
  return with_query(md);
}

URL URL::with_query(std::string_view query) const {
  URL u = *this;
  if (query.empty()) {
    u.query_.reset();
  } else {
    u.query_ = detail::encoded(query, detail::kQueryChars, true);
  }
  return u;
}

URL URL::with_query(std::nullopt_t) const {
  URL u = *this;
  u.query_.reset();
  return u;
}

URL URL::with_fragment(std::optional<std::string_view> fragment) const {
  URL u = *this;
  if (!fragment || fragment->empty()) {
    u.fragment_.reset();
  } else {
    u.fragment_ = detail::encoded(*fragment, detail::kQueryChars, true);
  }
  return u;
}

URL URL::operator/(std::string_view segment) const {
  if (segment.starts_with("/"))
    throw ValueError("appending a path starting with '/' is forbidden ('" + std::string(segment) +
                     "')");
  static constexpr ByteSet kSegmentChars = (detail::kUnreserved | detail::kSubDelims).add(":@");
  URL u = *this;
  if (u.path_.empty() ? u.has_authority_ : u.path_.back() != '/') u.path_ += '/';
  detail::append_encoded(u.path_, segment, kSegmentChars, false);
  u.query_.reset();
  u.fragment_.reset();
  return u;
}

std::string URL::str() const {
  std::string out;
  out.reserve(scheme_.size() + host_.size() + path_.size() + 16 + (query_ ? query_->size() : 0) +
              (fragment_ ? fragment_->size() : 0));
  if (!scheme_.empty()) {
    out += scheme_;
    out += ':';
  }
  if (has_authority_) {
    out += "//";
    out += raw_authority();
  } else if (path_.starts_with("//")) {
    out += "/.";  // RFC 3986 §5.2.4 note: keep "//x" from reading as an authority
  } else if (scheme_.empty()) {
    // A relative path whose first segment has a ':' would read as a scheme (RFC 3986 §4.2).
    const std::size_t colon = path_.find(':');
    if (colon != std::string::npos && colon < path_.find('/')) out += "./";
  }
  out += path_;
  if (query_) {
    out += '?';
    out += *query_;
  }
  if (fragment_) {
    out += '#';
    out += *fragment_;
  }
  return out;
}

std::ostream& operator<<(std::ostream& os, const URL& url) {
  return os << url.str();
}

}  // namespace pyconc::aiohttp
