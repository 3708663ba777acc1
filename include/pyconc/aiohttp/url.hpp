// pyconc/aiohttp/url.hpp -- URL, an immutable parsed URL or relative reference.
//
// Python: yarl.URL (what aiohttp takes and returns). URL("https://user@Example.com:8080/a b?q=1#f")
// splits the text into scheme, user, password, host, port, path, query and fragment following
// RFC 3986; characters that may not appear in a component (spaces, non-ASCII, ...) are
// percent-encoded as yarl and browsers do, scheme and host are lower-cased, and a non-ASCII
// host label is encoded with Punycode ("xn--..."). Relative references ("../a?b") are URLs
// too; join() resolves one against an absolute base (RFC 3986 §5, strict). normalized() gives
// the form a crawler deduplicates on.
//
// The raw_* accessors return the encoded text, the others decode %XX escapes, as in yarl.
// Differences: host() is the encoded (ASCII/Punycode) host -- no Unicode host is produced --
// and an absent host is an empty view rather than None; str(url) is str(); the `/` operator
// appends one encoded path segment like yarl's; with_query(std::nullopt) removes the query.
// Invalid input (control characters, a bad port, a host with forbidden characters, an
// unterminated IPv6 literal, an http(s) URL without a host) raises pyconc::ValueError naming
// the problem.
//
// Thread safety: a URL is an immutable value; concurrent use of const members is safe.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "pyconc/aiohttp/multidict.hpp"

namespace pyconc::aiohttp {

// Options of URL::normalized(), at namespace scope for designated initializers.
struct NormalizeOptions {
  bool sort_query{false};     // order query items by key (stable), so ?b=1&a=2 == ?a=2&b=1
  bool keep_fragment{false};  // fragments are dropped by default: they never reach a server
};

class URL {
 public:
  // The empty relative reference "".
  URL() = default;
  // Parses `text` as an absolute URL or a relative reference. Leading and trailing spaces and
  // control characters are removed and tabs/newlines inside are dropped (as browsers do for
  // an href); ValueError for anything that cannot be a URL.
  explicit URL(std::string_view text);

  // --- components (raw_* = as encoded in the URL; the others percent-decoded) ---------------
  std::string_view scheme() const noexcept { return scheme_; }
  std::optional<std::string_view> raw_user() const;
  std::optional<std::string> user() const;
  std::optional<std::string_view> raw_password() const;
  std::optional<std::string> password() const;
  // The host as it appears in the URL (lower case; Punycode for non-ASCII labels), without the
  // brackets of an IPv6 literal. Empty when the URL has no authority.
  std::string_view host() const noexcept;
  std::string_view raw_host() const noexcept { return host(); }
  // The explicit port, else the scheme's default (http 80, https 443, ws 80, wss 443, ftp 21).
  std::optional<std::uint16_t> port() const noexcept;
  std::optional<std::uint16_t> explicit_port() const noexcept { return port_; }
  bool is_default_port() const noexcept;
  // "user:password@host:port" as encoded (yarl: raw_authority).
  std::string raw_authority() const;
  std::string_view raw_path() const noexcept { return path_; }
  std::string path() const;
  // Query string without the '?' ("" when absent; has_query() tells "?" from nothing).
  std::string_view raw_query_string() const noexcept;
  std::string query_string() const;
  bool has_query() const noexcept { return query_.has_value(); }
  // The query parsed like a form: '&'-separated items, '+' and %XX decoded, "a" is ("a", "").
  MultiDict query() const;
  // Path and query as sent in an HTTP request line: raw_path() (or "/") plus "?query".
  std::string raw_path_qs() const;
  std::string_view raw_fragment() const noexcept;
  std::string fragment() const;
  bool has_fragment() const noexcept { return fragment_.has_value(); }
  // The last path segment, decoded ("c" for /a/b/c, "" for /a/b/). yarl: URL.name.
  std::string name() const;

  // yarl: absolute = has a scheme or an authority ("//host/...").
  bool is_absolute() const noexcept { return !scheme_.empty() || has_authority_; }
  // scheme://host[:port] of an absolute URL (no user, path, query or fragment).
  URL origin() const;

  // --- derived URLs (each returns a new URL) ---------------------------------------------------
  // RFC 3986 §5.2 reference resolution; `*this` must be absolute (ValueError otherwise).
  // Python: base.join(URL(ref)), urllib.parse.urljoin (which is not strict for "http:g").
  URL join(const URL& reference) const;
  URL join(std::string_view reference) const { return join(URL(reference)); }
  // The form to deduplicate on: lower-case scheme and host (already), default port dropped,
  // dot segments removed, empty path of an http(s) URL made "/", escapes normalised (unreserved
  // characters decoded, hex upper-cased), empty query and the fragment dropped.
  URL normalized(const NormalizeOptions& options = {}) const;

  URL with_scheme(std::string_view scheme) const;
  // yarl: with_user(user) -- `user` encoded; nullopt removes the user and the password.
  // ValueError for a relative URL.
  URL with_user(std::optional<std::string_view> user) const;
  URL with_host(std::string_view host) const;
  URL with_port(std::optional<std::uint16_t> port) const;
  // `path` is encoded like the path of a parsed URL; query and fragment are dropped.
  URL with_path(std::string_view path) const;
  // Replaces the query with these items, form-encoded (space as '+'). Fragment is kept.
  URL with_query(const MultiDict& query) const;
  URL with_query(std::initializer_list<std::pair<std::string_view, std::string_view>> query) const;
  // Replaces the query with an already-formed query string (escaped where needed).
  URL with_query(std::string_view query) const;
  URL with_query(const char* query) const { return with_query(std::string_view(query)); }
  URL with_query(std::nullopt_t) const;
  URL with_fragment(std::optional<std::string_view> fragment) const;
  // Appends one path segment (encoded; '/' in it becomes %2F); query and fragment dropped.
  URL operator/(std::string_view segment) const;

  // The URL as text (RFC 3986 §5.3 recomposition). Python: str(url).
  std::string str() const;

  friend bool operator==(const URL& a, const URL& b) { return a.str() == b.str(); }
  friend std::strong_ordering operator<=>(const URL& a, const URL& b) {
    return a.str() <=> b.str();
  }

 private:
  std::string scheme_;
  bool has_authority_ = false;
  std::optional<std::string> user_;
  std::optional<std::string> password_;
  std::string host_;  // IPv6 literals keep their brackets here
  std::optional<std::uint16_t> port_;
  std::string path_;
  std::optional<std::string> query_;
  std::optional<std::string> fragment_;

  void parse_authority(std::string_view authority, std::string_view url);
};

std::ostream& operator<<(std::ostream& os, const URL& url);

}  // namespace pyconc::aiohttp

template <>
struct std::hash<pyconc::aiohttp::URL> {
  std::size_t operator()(const pyconc::aiohttp::URL& url) const {
    return std::hash<std::string>()(url.str());
  }
};
