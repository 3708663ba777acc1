// pyconc/aiohttp/robots.hpp -- RobotFileParser: robots.txt rules and can_fetch().
//
// Python: urllib.robotparser.RobotFileParser (parse, can_fetch, crawl_delay, request_rate,
// site_maps, mtime/modified), with the matching of RFC 9309 as Google's crawler does it
// rather than Python's first-match prefix test:
//  - groups: consecutive User-agent lines share the rules that follow; a crawler obeys every
//    group whose user-agent equals its product token (case-insensitive; "pyconc" for
//    "pyconc/0.1 (+https://...)"), else the `*` groups, else nothing is disallowed. Python
//    matches a user-agent as a substring and uses the first matching group;
//  - rules: Allow/Disallow patterns match the URL's path and query from its start, `*` matches
//    any run of characters and a final `$` anchors the end; the longest matching pattern wins,
//    Allow on a tie; escapes are compared normalised (%7e == ~, %2f stays %2F);
//  - /robots.txt itself is always allowed; an empty Disallow allows everything;
//  - only the first 512 KiB are read (RFC 9309 asks for at least 500 KiB).
// As in Python, can_fetch() is false until parse() (or parse_response()) ran, and
// parse_response() applies read()'s treatment of HTTP statuses.
//
// Thread safety: const members may run concurrently; parse() needs exclusive access.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include "pyconc/detail/chrono.hpp"

#include "pyconc/aiohttp/url.hpp"

namespace pyconc::aiohttp {

// Python: urllib.robotparser's RequestRate named tuple ("Request-rate: 1/5").
struct RequestRate {
  int requests = 0;
  std::chrono::seconds seconds{0};
  bool operator==(const RequestRate&) const = default;
};

class RobotFileParser {
 public:
  RobotFileParser() = default;
  // Python: RobotFileParser(url) -- where robots.txt lives; kept for the caller that fetches it.
  explicit RobotFileParser(std::string_view url) : url_(url) {}
  void set_url(std::string_view url) { url_ = url; }
  const std::string& url() const noexcept { return url_; }

  // Reads the rules from the text of a robots.txt (any line endings, a UTF-8 BOM allowed),
  // replacing earlier ones. Python: parse(lines).
  void parse(std::string_view text);
  // What Python's read() does with the answer to GET robots.txt: 2xx parses the body, 401 or
  // 403 disallows everything, any other 4xx allows everything, anything else (5xx, or
  // status 0 for "unreachable") disallows everything until the next parse.
  void parse_response(int status, std::string_view body);

  // Whether `user_agent` may fetch `url` (absolute, or a path with an optional query).
  // ValueError if `url` is not a URL.
  bool can_fetch(std::string_view user_agent, std::string_view url) const;
  bool can_fetch(std::string_view user_agent, const URL& url) const;

  // Crawl-delay of the group that applies to `user_agent` (fractions of a second kept).
  std::optional<std::chrono::milliseconds> crawl_delay(std::string_view user_agent) const;
  std::optional<RequestRate> request_rate(std::string_view user_agent) const;
  // Sitemap URLs, wherever they appear in the file.
  const std::vector<std::string>& site_maps() const noexcept { return sitemaps_; }

  // When the rules were last parsed (epoch if never). Python: mtime(), modified().
  std::chrono::system_clock::time_point mtime() const noexcept { return mtime_; }
  void modified() { mtime_ = std::chrono::system_clock::now(); }

 private:
  struct Rule {
    std::string pattern;  // normalised; never empty
    bool allow = false;
  };
  struct Group {
    std::vector<std::string> agents;  // lower-case product tokens, or "*"
    std::vector<Rule> rules;
    std::optional<std::chrono::milliseconds> crawl_delay;
    std::optional<RequestRate> request_rate;
  };

  std::vector<const Group*> groups_for(std::string_view user_agent) const;
  bool allowed(std::string_view user_agent, const std::string& path_qs) const;

  std::string url_;
  std::vector<Group> groups_;
  std::vector<std::string> sitemaps_;
  bool disallow_all_ = false;
  bool allow_all_ = false;
  std::chrono::system_clock::time_point mtime_{};
};

}  // namespace pyconc::aiohttp
