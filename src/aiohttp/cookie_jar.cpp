// CookieJar: a view of libcurl's cookie engine (shared by the session's easy handles).
#include "pyconc/aiohttp/cookie_jar.hpp"

#include <charconv>
#include <string_view>

#include "client_core.hpp"

namespace pyconc::aiohttp {

namespace {

bool truthy(std::string_view s) {
  return s == "TRUE";
}

// One line of libcurl's Netscape-format cookie list:
// domain \t subdomains \t path \t secure \t expires \t name \t value ("#HttpOnly_" prefix).
std::optional<Cookie> parse_line(std::string_view line) {
  std::string_view f[7];
  for (int i = 0; i < 6; ++i) {
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos) return std::nullopt;
    f[i] = line.substr(0, tab);
    line.remove_prefix(tab + 1);
  }
  f[6] = line;
  Cookie c;
  std::string_view domain = f[0];
  if (domain.starts_with("#HttpOnly_")) {
    c.http_only = true;
    domain.remove_prefix(10);
  }
  if (domain.starts_with('.')) domain.remove_prefix(1);
  c.domain = std::string(domain);
  c.host_only = !truthy(f[1]);
  c.path = std::string(f[2]);
  c.secure = truthy(f[3]);
  long long expires = 0;
  std::from_chars(f[4].data(), f[4].data() + f[4].size(), expires);
  if (expires != 0)
    c.expires = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(expires));
  c.name = std::string(f[5]);
  c.value = std::string(f[6]);
  return c;
}

bool domain_match(std::string_view host, const Cookie& c) {
  if (detail::iequals_ascii(host, c.domain)) return true;
  if (c.host_only || host.size() <= c.domain.size()) return false;
  const std::string_view tail = host.substr(host.size() - c.domain.size());
  return host[host.size() - c.domain.size() - 1] == '.' && detail::iequals_ascii(tail, c.domain);
}

// RFC 6265 §5.1.4 path-match.
bool path_match(std::string_view request_path, std::string_view cookie_path) {
  if (request_path == cookie_path) return true;
  if (!request_path.starts_with(cookie_path)) return false;
  return cookie_path.ends_with('/') || request_path[cookie_path.size()] == '/';
}

}  // namespace

CookieJar::CookieJar(std::shared_ptr<detail::ClientSessionCore> core) noexcept
    : core_(std::move(core)) {}

std::vector<Cookie> CookieJar::cookies() const {
  std::vector<Cookie> out;
  if (core_ == nullptr || core_->closed()) return out;
  curl_slist* list = nullptr;
  curl_easy_getinfo(core_->cookie_handle(), CURLINFO_COOKIELIST, &list);
  // libcurl keeps expired cookies (a del_cookie's Max-Age=0) until it purges them; aiohttp's
  // jar expires them before listing.
  const auto now = std::chrono::system_clock::now();
  for (curl_slist* p = list; p != nullptr; p = p->next) {
    auto c = parse_line(p->data);
    if (c && !(c->expires && *c->expires <= now)) out.push_back(std::move(*c));
  }
  curl_slist_free_all(list);
  return out;
}

MultiDict CookieJar::filter_cookies(const URL& url) const {
  MultiDict out;
  const std::string_view host = url.host();
  std::string path(url.raw_path());
  if (path.empty()) path = "/";
  const auto now = std::chrono::system_clock::now();
  for (const Cookie& c : cookies()) {
    if (!domain_match(host, c) || !path_match(path, c.path)) continue;
    if (c.secure && url.scheme() != "https") continue;
    if (c.expires && *c.expires <= now) continue;
    out.add(c.name, c.value);
  }
  return out;
}

void CookieJar::update_cookies(const MultiDict& cookies, const URL& response_url) {
  if (!response_url.is_absolute() || response_url.host().empty()) {
    throw ValueError("update_cookies() needs an absolute response URL, not '" + response_url.str() +
                     "'");
  }
  if (core_ == nullptr || core_->closed()) return;
  for (const auto& [k, v] : cookies) {
    if (k.find_first_of("\t\r\n;= ") != std::string::npos ||
        v.find_first_of("\t\r\n;") != std::string::npos) {
      throw ValueError("invalid cookie '" + k + "'");
    }
    // A host-only session cookie for the response's host, path "/".
    const std::string line =
        std::string(response_url.host()) + "\tFALSE\t/\tFALSE\t0\t" + k + "\t" + v;
    curl_easy_setopt(core_->cookie_handle(), CURLOPT_COOKIELIST, line.c_str());
  }
}

void CookieJar::clear() {
  if (core_ == nullptr || core_->closed()) return;
  curl_easy_setopt(core_->cookie_handle(), CURLOPT_COOKIELIST, "ALL");
}

}  // namespace pyconc::aiohttp
