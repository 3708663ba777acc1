#include "pyconc/aiohttp/robots.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "percent.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::aiohttp {

namespace {

constexpr std::size_t kMaxRobotsBytes = 512 * 1024;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = detail::ascii_lower(c);
  return out;
}

// The product token a user-agent string or a User-agent line starts with: letters, '_' and
// '-' (RFC 9309 §2.2.1), lower-cased. "pyconc/0.1 (+https://x)" -> "pyconc".
std::string product_token(std::string_view ua) {
  ua = trim(ua);
  if (ua.starts_with("*")) return "*";
  std::size_t n = 0;
  while (n < ua.size() && (detail::kAlpha[ua[n]] || ua[n] == '_' || ua[n] == '-')) ++n;
  return lower(ua.substr(0, n));
}

// Escapes compared normalised (RFC 9309 §2.2.2): non-ASCII and other bytes that may not
// appear are escaped, escapes of unreserved characters decoded, hex upper-cased.
std::string normalise(std::string_view path) {
  return detail::normalize_escapes(path, detail::kQueryChars);
}

// `pattern` matches `path` from its start; '*' is any run of bytes, a final '$' the end.
bool pattern_matches(std::string_view path, std::string_view pattern) {
  std::vector<std::size_t> pos{0}, next;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '$' && i + 1 == pattern.size())
      return std::find(pos.begin(), pos.end(), path.size()) != pos.end();
    next.clear();
    if (c == '*') {
      for (std::size_t p = pos.front(); p <= path.size(); ++p) next.push_back(p);
    } else {
      for (std::size_t p : pos) {
        if (p < path.size() && path[p] == c) next.push_back(p + 1);
      }
    }
    if (next.empty()) return false;
    pos.swap(next);
  }
  return true;
}

std::optional<std::chrono::milliseconds> parse_delay(std::string_view v) {
  double seconds = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(seconds) || seconds < 0 ||
      seconds > 86400.0 * 365)
    return std::nullopt;
  return std::chrono::milliseconds(static_cast<long long>(std::llround(seconds * 1000)));
}

std::optional<RequestRate> parse_rate(std::string_view v) {
  const std::size_t slash = v.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto to_int = [](std::string_view s) -> std::optional<int> {
    s = trim(s);
    if (!s.empty() && (s.back() == 's' || s.back() == 'S')) s.remove_suffix(1);  // "1/5s"
    int x = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || x < 0) return std::nullopt;
    return x;
  };
  const auto requests = to_int(v.substr(0, slash)), seconds = to_int(v.substr(slash + 1));
  if (!requests || !seconds) return std::nullopt;
  return RequestRate{*requests, std::chrono::seconds(*seconds)};
}

enum class Key { user_agent, allow, disallow, crawl_delay, request_rate, sitemap, other };

Key key_of(std::string_view k) {
  const std::string key = lower(trim(k));
  // The spellings Google's parser accepts besides the standard ones.
  if (key == "user-agent" || key == "useragent" || key == "user agent") return Key::user_agent;
  if (key == "allow") return Key::allow;
  if (key == "disallow" || key == "dissallow" || key == "dissalow" || key == "disalow" ||
      key == "diasllow" || key == "disallaw")
    return Key::disallow;
  if (key == "crawl-delay") return Key::crawl_delay;
  if (key == "request-rate") return Key::request_rate;
  if (key == "sitemap" || key == "site-map") return Key::sitemap;
  return Key::other;
}

}  // namespace

void RobotFileParser::parse(std::string_view text) {
  groups_.clear();
  sitemaps_.clear();
  disallow_all_ = allow_all_ = false;
  modified();
  text = text.substr(0, kMaxRobotsBytes);
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);

  Group* group = nullptr;
  bool group_has_rules = false;
  while (!text.empty()) {
    const std::size_t eol = text.find_first_of("\r\n");
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    line = line.substr(0, line.find('#'));
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const Key key = key_of(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    switch (key) {
      case Key::user_agent: {
        // A User-agent line after a group's rules starts the next group (RFC 9309 §2.1).
        if (group == nullptr || group_has_rules) {
          group = &groups_.emplace_back();
          group_has_rules = false;
        }
        std::string token = product_token(value);
        if (!token.empty()) group->agents.push_back(std::move(token));
        break;
      }
      case Key::allow:
      case Key::disallow: {
        if (group == nullptr) break;  // rules before any User-agent belong to nobody
        group_has_rules = true;
        if (value.empty()) break;  // "Disallow:" allows everything: no rule
        std::string pattern = normalise(value);
        if (pattern.front() != '/' && pattern.front() != '*') pattern.insert(0, 1, '/');
        group->rules.push_back({std::move(pattern), key == Key::allow});
        break;
      }
      case Key::crawl_delay:
        if (group == nullptr) break;
        group_has_rules = true;
        if (auto d = parse_delay(value)) group->crawl_delay = d;
        break;
      case Key::request_rate:
        if (group == nullptr) break;
        group_has_rules = true;
        if (auto r = parse_rate(value)) group->request_rate = r;
        break;
      case Key::sitemap:
        if (!value.empty()) sitemaps_.emplace_back(value);
        break;
      case Key::other:
        break;
    }
  }
}

void RobotFileParser::parse_response(int status, std::string_view body) {
  if (status >= 200 && status < 300) {
    parse(body);
    return;
  }
  groups_.clear();
  sitemaps_.clear();
  modified();
  allow_all_ = status >= 400 && status < 500 && status != 401 && status != 403;
  disallow_all_ = !allow_all_;
}

std::vector<const RobotFileParser::Group*> RobotFileParser::groups_for(
    std::string_view user_agent) const {
  const std::string token = product_token(user_agent);
  std::vector<const Group*> specific, any;
  for (const Group& g : groups_) {
    for (const std::string& a : g.agents) {
      if (a == "*") {
        any.push_back(&g);
        break;
      }
      if (!token.empty() && a == token) {
        specific.push_back(&g);
        break;
      }
    }
  }
  return specific.empty() ? any : specific;
}

bool RobotFileParser::allowed(std::string_view user_agent, const std::string& path_qs) const {
  if (mtime_ == std::chrono::system_clock::time_point{}) return false;  // never parsed
  if (disallow_all_) return false;
  if (allow_all_) return true;
  if (path_qs == "/robots.txt") return true;
  const Rule* best = nullptr;
  for (const Group* g : groups_for(user_agent)) {
    for (const Rule& r : g->rules) {
      if (!pattern_matches(path_qs, r.pattern)) continue;
      if (best == nullptr || r.pattern.size() > best->pattern.size() ||
          (r.pattern.size() == best->pattern.size() && r.allow && !best->allow))
        best = &r;
    }
  }
  return best == nullptr || best->allow;
}

bool RobotFileParser::can_fetch(std::string_view user_agent, const URL& url) const {
  return allowed(user_agent, normalise(url.raw_path_qs()));
}

bool RobotFileParser::can_fetch(std::string_view user_agent, std::string_view url) const {
  return can_fetch(user_agent, URL(url));
}

std::optional<std::chrono::milliseconds> RobotFileParser::crawl_delay(
    std::string_view user_agent) const {
  for (const Group* g : groups_for(user_agent)) {
    if (g->crawl_delay) return g->crawl_delay;
  }
  return std::nullopt;
}

std::optional<RequestRate> RobotFileParser::request_rate(std::string_view user_agent) const {
  for (const Group* g : groups_for(user_agent)) {
    if (g->request_rate) return g->request_rate;
  }
  return std::nullopt;
}

}  // namespace pyconc::aiohttp
