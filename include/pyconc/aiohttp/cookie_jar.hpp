// pyconc/aiohttp/cookie_jar.hpp -- CookieJar: the cookies a ClientSession keeps.
//
// Python: aiohttp.CookieJar (session.cookie_jar). The jar is libcurl's cookie engine, shared by
// every request of the session: Set-Cookie headers are stored (domain, path, expiry, Secure,
// HttpOnly as RFC 6265 says) and sent back with later requests to matching URLs, redirects
// included. This class is a view of it:
//   for (const auto& c : session.cookie_jar().cookies()) print(c.name, c.value, c.domain);
//   session.cookie_jar().update_cookies({{"token", "abc"}}, URL("http://example.com/"));
//   MultiDict sent = session.cookie_jar().filter_cookies(URL("http://example.com/a"));
//   session.cookie_jar().clear();
// Differences: cookies from IP-address hosts are accepted (aiohttp's default jar refuses them
// unless CookieJar(unsafe=True)).
//
// Thread safety: loop-thread only, like its session. A CookieJar of a closed session is empty
// and ignores updates.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include "pyconc/detail/chrono.hpp"

#include "pyconc/aiohttp/multidict.hpp"
#include "pyconc/aiohttp/url.hpp"

namespace pyconc::detail {
class ClientSessionCore;
}

namespace pyconc::aiohttp {

// One stored cookie. Python: http.cookies.Morsel.
struct Cookie {
  std::string name;
  std::string value;
  std::string domain;  // without a leading dot
  std::string path;
  bool host_only = true;  // sent to `domain` only (no Domain attribute), else to subdomains too
  bool secure = false;
  bool http_only = false;
  std::optional<std::chrono::system_clock::time_point> expires;  // nullopt: a session cookie
};

class CookieJar {
 public:
  explicit CookieJar(std::shared_ptr<detail::ClientSessionCore> core) noexcept;

  std::vector<Cookie> cookies() const;
  std::size_t size() const { return cookies().size(); }
  // Python: jar.filter_cookies(url) -- name -> value of the cookies a request to `url` sends.
  MultiDict filter_cookies(const URL& url) const;
  // Python: jar.update_cookies(cookies, response_url) -- stores each as if `response_url`
  // (absolute; ValueError otherwise) had set it without attributes (host-only, path "/").
  void update_cookies(const MultiDict& cookies, const URL& response_url);
  // Python: jar.clear().
  void clear();

 private:
  std::shared_ptr<detail::ClientSessionCore> core_;
};

}  // namespace pyconc::aiohttp
