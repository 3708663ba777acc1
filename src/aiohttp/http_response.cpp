#include "pyconc/aiohttp/detail/http_response.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

#include "pyconc/aiohttp/multidict.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {

std::string_view http_reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 102:
      return "Processing";
    case 103:
      return "Early Hints";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 207:
      return "Multi-Status";
    case 208:
      return "Already Reported";
    case 226:
      return "IM Used";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 305:
      return "Use Proxy";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request-URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Requested Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 418:
      return "I'm a Teapot";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Entity";
    case 423:
      return "Locked";
    case 424:
      return "Failed Dependency";
    case 425:
      return "Too Early";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 451:
      return "Unavailable For Legal Reasons";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 506:
      return "Variant Also Negotiates";
    case 507:
      return "Insufficient Storage";
    case 508:
      return "Loop Detected";
    case 510:
      return "Not Extended";
    case 511:
      return "Network Authentication Required";
    default:
      return "";
  }
}

namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void two_digits(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// "Sun, 06 Nov 1994 08:49:37 GMT" is exactly 29 bytes. Written by hand: strftime's names
// follow the process locale.
void format_date(std::time_t t, char (&buf)[29]) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::string_view day = kDays[tm.tm_wday], month = kMonths[tm.tm_mon];
  char* p = buf;
  p = std::copy(day.begin(), day.end(), p);
  *p++ = ',';
  *p++ = ' ';
  two_digits(p, tm.tm_mday);
  p += 2;
  *p++ = ' ';
  p = std::copy(month.begin(), month.end(), p);
  *p++ = ' ';
  const int year = tm.tm_year + 1900;
  two_digits(p, year / 100 % 100);
  two_digits(p + 2, year % 100);
  p += 4;
  *p++ = ' ';
  two_digits(p, tm.tm_hour);
  p[2] = ':';
  two_digits(p + 3, tm.tm_min);
  p[5] = ':';
  two_digits(p + 6, tm.tm_sec);
  p += 8;
  std::copy_n(" GMT", 4, p);
}

bool is_tchar(char c) {
  // RFC 9110 §5.6.2 token characters.
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void check_field_text(std::string_view what, std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f)
      throw ValueError(std::string(what) + " contains a control character (code " +
                       std::to_string(u) + "): would split the response");
  }
}

void append_number(std::string& out, std::uint64_t v, int base = 10) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, base);
  out.append(buf, end);
}

}  // namespace

std::string format_http_date(std::time_t t) {
  char buf[29];
  format_date(t, buf);
  return std::string(buf, sizeof buf);
}

namespace {

// A three-letter month name at the front of `s`, into tm_mon.
bool take_month(std::string_view& s, std::tm& tm) noexcept {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (s.substr(0, 3) == kMonths[i]) {
      tm.tm_mon = i;
      s.remove_prefix(3);
      return true;
    }
  }
  return false;
}

// Reads an unsigned decimal of 1..`max_digits` digits at the front of `s`.
bool take_number(std::string_view& s, int max_digits, int& out) noexcept {
  std::size_t i = 0;
  out = 0;
  while (i < s.size() && i < static_cast<std::size_t>(max_digits) && s[i] >= '0' && s[i] <= '9') {
    out = out * 10 + (s[i] - '0');
    ++i;
  }
  if (i == 0) return false;
  s.remove_prefix(i);
  return true;
}

bool take(std::string_view& s, std::string_view what) noexcept {
  if (s.substr(0, what.size()) != what) return false;
  s.remove_prefix(what.size());
  return true;
}

// "HH:MM:SS" at the front of `s`.
bool take_time(std::string_view& s, std::tm& tm) noexcept {
  return take_number(s, 2, tm.tm_hour) && take(s, ":") && take_number(s, 2, tm.tm_min) &&
         take(s, ":") && take_number(s, 2, tm.tm_sec);
}

}  // namespace

std::optional<std::time_t> parse_http_date(std::string_view s) noexcept {
  std::tm tm{};
  bool ok = false;
  const auto comma = s.find(',');
  if (comma != std::string_view::npos) {
    // IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", or RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT".
    const bool fixdate = comma == 3;
    const char sep = fixdate ? ' ' : '-';
    s.remove_prefix(comma + 1);
    ok = take(s, " ") && take_number(s, 2, tm.tm_mday) && take(s, {&sep, 1}) && take_month(s, tm) &&
         take(s, {&sep, 1}) && take_number(s, fixdate ? 4 : 2, tm.tm_year) && take(s, " ") &&
         take_time(s, tm) && take(s, " GMT") && s.empty();
    if (fixdate) {
      tm.tm_year -= 1900;
    } else if (tm.tm_year < 70) {
      tm.tm_year += 100;  // two digits: 1970..2069
    }
  } else if (s.size() > 4) {  // asctime: "Sun Nov  6 08:49:37 1994"
    s.remove_prefix(4);
    ok = take_month(s, tm) && take(s, " ") && (take(s, " ") || true) &&
         take_number(s, 2, tm.tm_mday) && take(s, " ") && take_time(s, tm) && take(s, " ") &&
         take_number(s, 4, tm.tm_year) && s.empty();
    tm.tm_year -= 1900;
  }
  if (!ok || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    return std::nullopt;
  return ::timegm(&tm);
}

std::string_view http_date() {
  struct Cache {
    std::time_t second = -1;
    char text[29];
  };
  thread_local Cache cache;
  const std::time_t now = std::time(nullptr);
  if (now != cache.second) {
    format_date(now, cache.text);
    cache.second = now;
  }
  return {cache.text, sizeof cache.text};
}

void append_status_line(std::string& out, const HttpResponseHead& head) {
  if (head.status < 100 || head.status > 999)
    throw ValueError("HTTP status " + std::to_string(head.status) + " is not in 100..999");
  if (head.version_minor != 0 && head.version_minor != 1)
    throw ValueError("HTTP/1." + std::to_string(head.version_minor) + " is not a response version");
  check_field_text("reason phrase", head.reason);
  const std::string_view reason =
      head.reason.empty() ? http_reason_phrase(head.status) : head.reason;
  out += head.version_minor == 1 ? "HTTP/1.1 " : "HTTP/1.0 ";
  append_number(out, static_cast<std::uint64_t>(head.status));
  out += ' ';
  out += reason;
  out += "\r\n";
}

unsigned append_header(std::string& out, std::string_view name, std::string_view value) {
  if (name.empty()) throw ValueError("empty header name");
  for (char c : name) {
    if (!is_tchar(c))
      throw ValueError("header name '" + std::string(name) +
                       "' has a character not allowed in a token");
  }
  if (iequals_ascii(name, "content-length") || iequals_ascii(name, "transfer-encoding") ||
      iequals_ascii(name, "connection"))
    throw ValueError("header '" + std::string(name) +
                     "' is set by the response's framing (HttpResponseHead), not by hand");
  check_field_text("value of header '" + std::string(name) + "'", value);
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
  if (iequals_ascii(name, "date")) return 1;
  if (iequals_ascii(name, "server")) return 2;
  return 0;
}

void finish_response_head(std::string& out, const HttpResponseHead& head, unsigned given) {
  const bool no_body = (head.status >= 100 && head.status < 200) || head.status == 204;
  if (no_body && (head.chunked || (head.content_length && *head.content_length != 0)))
    throw ValueError("a " + std::to_string(head.status) + " response has no body");
  if (head.chunked && head.version_minor == 0)
    throw ValueError("chunked transfer coding needs HTTP/1.1");
  if (head.chunked && head.content_length)
    throw ValueError("a response is either chunked or has a Content-Length, not both");
  bool keep_alive = head.keep_alive;
  if (head.chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  } else if (head.content_length) {
    if (!no_body) {
      out += "Content-Length: ";
      append_number(out, *head.content_length);
      out += "\r\n";
    }
  } else if (!no_body && head.status != 304) {
    keep_alive = false;  // the body ends when the connection does
  }
  if (head.version_minor == 1 && !keep_alive) out += "Connection: close\r\n";
  if (head.version_minor == 0 && keep_alive) out += "Connection: keep-alive\r\n";
  if (head.date && (given & 1U) == 0) {
    out += "Date: ";
    out += http_date();
    out += "\r\n";
  }
  if (!head.server.empty() && (given & 2U) == 0) {
    check_field_text("Server", head.server);
    out += "Server: ";
    out += head.server;
    out += "\r\n";
  }
  out += "\r\n";
}

void ChunkedEncoder::write(std::string& out, std::string_view data) {
  if (finished_) throw RuntimeError("chunked body already finished");
  if (data.empty()) return;
  std::array<char, 20> buf;
  out += size_line(data.size(), buf);
  out += data;
  out += kChunkEnd;
}

void ChunkedEncoder::finish(
    std::string& out,
    std::initializer_list<std::pair<std::string_view, std::string_view>> trailers) {
  if (finished_) throw RuntimeError("chunked body already finished");
  out += "0\r\n";
  for (const auto& [name, value] : trailers) append_header(out, name, value);
  out += "\r\n";
  finished_ = true;
}

std::string_view ChunkedEncoder::size_line(std::uint64_t size, std::array<char, 20>& buf) noexcept {
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + 16, size, 16);
  *end++ = '\r';
  *end++ = '\n';
  return {buf.data(), static_cast<std::size_t>(end - buf.data())};
}

}  // namespace pyconc::detail
