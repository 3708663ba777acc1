#include "pyconc/aiohttp/url.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <unordered_set>

using pyconc::aiohttp::MultiDict;
using pyconc::aiohttp::URL;
using testing::HasSubstr;

TEST(URL, SplitsEveryComponent) {
  URL u("https://user:p%40ss@Example.COM:8080/a%20b/c?q=1&r=a+b#frag%20x");
  EXPECT_EQ(u.scheme(), "https");
  EXPECT_EQ(u.raw_user(), "user");
  EXPECT_EQ(u.user(), "user");
  EXPECT_EQ(u.raw_password(), "p%40ss");
  EXPECT_EQ(u.password(), "p@ss");
  EXPECT_EQ(u.host(), "example.com");
  EXPECT_EQ(u.port(), 8080);
  EXPECT_EQ(u.explicit_port(), 8080);
  EXPECT_FALSE(u.is_default_port());
  EXPECT_EQ(u.raw_authority(), "user:p%40ss@example.com:8080");
  EXPECT_EQ(u.raw_path(), "/a%20b/c");
  EXPECT_EQ(u.path(), "/a b/c");
  EXPECT_EQ(u.raw_query_string(), "q=1&r=a+b");
  EXPECT_EQ(u.query_string(), "q=1&r=a b");
  EXPECT_EQ(u.raw_fragment(), "frag%20x");
  EXPECT_EQ(u.fragment(), "frag x");
  EXPECT_EQ(u.raw_path_qs(), "/a%20b/c?q=1&r=a+b");
  EXPECT_EQ(u.name(), "c");
  EXPECT_TRUE(u.is_absolute());
  EXPECT_EQ(u.str(), "https://user:p%40ss@example.com:8080/a%20b/c?q=1&r=a+b#frag%20x");
}

TEST(URL, DefaultPortsAndMissingParts) {
  URL u("http://example.com");
  EXPECT_EQ(u.port(), 80);
  EXPECT_EQ(u.explicit_port(), std::nullopt);
  EXPECT_TRUE(u.is_default_port());
  EXPECT_EQ(u.raw_path(), "");
  EXPECT_EQ(u.raw_path_qs(), "/");
  EXPECT_FALSE(u.has_query());
  EXPECT_FALSE(u.has_fragment());
  EXPECT_EQ(u.user(), std::nullopt);
  EXPECT_EQ(URL("https://a.org/").port(), 443);
  EXPECT_EQ(URL("wss://a.org/").port(), 443);
  EXPECT_EQ(URL("ftp://a.org/").port(), 21);
  EXPECT_EQ(URL("gopher://a.org/").port(), std::nullopt);
  EXPECT_EQ(URL("http://a.org:80/").explicit_port(), 80);
  EXPECT_TRUE(URL("http://a.org:80/").is_default_port());
  // "?" and "#" alone are kept: an empty query is not an absent one (RFC 3986 §5.2.2).
  URL q("http://a.org/p?#");
  EXPECT_TRUE(q.has_query());
  EXPECT_TRUE(q.has_fragment());
  EXPECT_EQ(q.str(), "http://a.org/p?#");
}

TEST(URL, RelativeReferencesAndOtherSchemes) {
  URL r("../a/b?x#y");
  EXPECT_FALSE(r.is_absolute());
  EXPECT_EQ(r.scheme(), "");
  EXPECT_EQ(r.host(), "");
  EXPECT_EQ(r.raw_path(), "../a/b");
  EXPECT_EQ(r.str(), "../a/b?x#y");
  URL net("//cdn.example.com/x.js");
  EXPECT_TRUE(net.is_absolute());
  EXPECT_EQ(net.host(), "cdn.example.com");
  URL mail("mailto:Someone@Example.com");
  EXPECT_EQ(mail.scheme(), "mailto");
  EXPECT_EQ(mail.raw_path(), "Someone@Example.com");
  EXPECT_EQ(mail.host(), "");
  URL js("javascript:void(0)");
  EXPECT_EQ(js.scheme(), "javascript");
  EXPECT_EQ(js.str(), "javascript:void(0)");
  EXPECT_EQ(URL("HTTP://A.B/").scheme(), "http");
  EXPECT_EQ(URL("").str(), "");
  // A first segment with ':' but no scheme syntax stays a path.
  EXPECT_EQ(URL("1a:b").raw_path(), "1a:b");
  EXPECT_EQ(URL("1a:b").str(), "./1a:b");
}

TEST(URL, Ipv6Literals) {
  URL u("http://[2001:DB8::1]:8000/x");
  EXPECT_EQ(u.host(), "2001:db8::1");
  EXPECT_EQ(u.port(), 8000);
  EXPECT_EQ(u.str(), "http://[2001:db8::1]:8000/x");
  EXPECT_EQ(URL("http://[::1]/").str(), "http://[::1]/");
}

TEST(URL, EncodesWhatMayNotAppearLikeABrowser) {
  URL u("http://a.org/\xC3\xA4 b\"<>?x=\xC3\xBC y|#\xC3\xB6 `");
  EXPECT_EQ(u.raw_path(), "/%C3%A4%20b%22%3C%3E");
  EXPECT_EQ(u.path(), "/\xC3\xA4 b\"<>");
  EXPECT_EQ(u.raw_query_string(), "x=%C3%BC%20y%7C");
  EXPECT_EQ(u.raw_fragment(), "%C3%B6%20%60");
  // Existing escapes are kept as they are; a '%' that starts no escape is escaped.
  EXPECT_EQ(URL("http://a.org/%2f%zz%4").raw_path(), "/%2f%25zz%254");
  // Tabs and newlines inside are dropped, surrounding spaces trimmed (an href attribute).
  EXPECT_EQ(URL("  \thttp://a.org/b\n\tc?d\r\n ").str(), "http://a.org/bc?d");
  EXPECT_EQ(URL("http://a.org/ b c ").str(), "http://a.org/%20b%20c");
}

TEST(URL, InternationalHostsUsePunycode) {
  EXPECT_EQ(URL("http://b\xC3\xBC"
                "cher.example/")
                .host(),
            "xn--bcher-kva.example");
  EXPECT_EQ(URL("http://\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E.jp/").host(), "xn--wgv71a119e.jp");
  EXPECT_EQ(URL("http://M\xC3\xBCnchen.DE/").host(), "xn--mnchen-3ya.de");
  EXPECT_EQ(URL("http://\xE4\xB8\xAD\xE5\x9B\xBD.cn").str(), "http://xn--fiqs8s.cn");
}

struct BadUrl {
  std::string_view text;
  const char* message;
  friend void PrintTo(const BadUrl& b, std::ostream* os) { *os << testing::PrintToString(b.text); }
};

class URLInvalid : public testing::TestWithParam<BadUrl> {};

TEST_P(URLInvalid, RaisesValueErrorSayingWhy) {
  try {
    URL u(GetParam().text);
    ADD_FAILURE() << "parsed as " << u;
  } catch (const pyconc::ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr(GetParam().message));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, URLInvalid,
    testing::Values(BadUrl{"http://a.org:99999/", "out of range"},
                    BadUrl{"http://a.org:8x/", "invalid port '8x'"},
                    BadUrl{"http://a.org:1:2/", "invalid port '1:2'"},
                    BadUrl{"http://exa mple.com/", "invalid character ' ' in host"},
                    BadUrl{"http://a<b.com/", "invalid character '<' in host"},
                    BadUrl{"http://a%b.com/", "invalid character '%' in host"},
                    BadUrl{"http:///path", "http URL has no host"},
                    BadUrl{"https://", "https URL has no host"},
                    BadUrl{"http://[::1/", "missing ']'"},
                    BadUrl{"http://[::1]x/", "after IPv6 address"},
                    BadUrl{"http://[zz::1]/", "invalid IPv6 address 'zz::1'"},
                    BadUrl{"http://a.org/\x01x", "control character 0x01 at position 13"},
                    BadUrl{std::string_view("http://a.org/\0x", 15), "control character 0x00"},
                    BadUrl{"http://a.org/\x7f", "control character 0x7F"},
                    BadUrl{"http://\xC3(.org/", "not valid UTF-8"},
                    BadUrl{"http://\xED\xA0\x80.org/", "not valid UTF-8"}));

TEST(URL, InvalidMessageQuotesTheUrl) {
  try {
    URL u("http://example.com:http/");
    FAIL();
  } catch (const pyconc::ValueError& e) {
    EXPECT_STREQ(e.what(), "invalid URL 'http://example.com:http/': invalid port 'http'");
  }
}

// RFC 3986 §5.4: every normal and abnormal example, resolved against its base.
struct JoinCase {
  const char* reference;
  const char* expected;
};

class URLJoinRfc3986 : public testing::TestWithParam<JoinCase> {};

TEST_P(URLJoinRfc3986, ResolvesLikeTheRfc) {
  const URL base("http://a/b/c/d;p?q");
  EXPECT_EQ(base.join(URL(GetParam().reference)).str(), GetParam().expected)
      << "reference \"" << GetParam().reference << "\"";
}

INSTANTIATE_TEST_SUITE_P(
    Normal, URLJoinRfc3986,
    testing::Values(JoinCase{"g:h", "g:h"}, JoinCase{"g", "http://a/b/c/g"},
                    JoinCase{"./g", "http://a/b/c/g"}, JoinCase{"g/", "http://a/b/c/g/"},
                    JoinCase{"/g", "http://a/g"}, JoinCase{"//g", "http://g"},
                    JoinCase{"?y", "http://a/b/c/d;p?y"}, JoinCase{"g?y", "http://a/b/c/g?y"},
                    JoinCase{"#s", "http://a/b/c/d;p?q#s"}, JoinCase{"g#s", "http://a/b/c/g#s"},
                    JoinCase{"g?y#s", "http://a/b/c/g?y#s"}, JoinCase{";x", "http://a/b/c/;x"},
                    JoinCase{"g;x", "http://a/b/c/g;x"},
                    JoinCase{"g;x?y#s", "http://a/b/c/g;x?y#s"}, JoinCase{"", "http://a/b/c/d;p?q"},
                    JoinCase{".", "http://a/b/c/"}, JoinCase{"./", "http://a/b/c/"},
                    JoinCase{"..", "http://a/b/"}, JoinCase{"../", "http://a/b/"},
                    JoinCase{"../g", "http://a/b/g"}, JoinCase{"../..", "http://a/"},
                    JoinCase{"../../", "http://a/"}, JoinCase{"../../g", "http://a/g"}));

INSTANTIATE_TEST_SUITE_P(
    Abnormal, URLJoinRfc3986,
    testing::Values(
        JoinCase{"../../../g", "http://a/g"}, JoinCase{"../../../../g", "http://a/g"},
        JoinCase{"/./g", "http://a/g"}, JoinCase{"/../g", "http://a/g"},
        JoinCase{"g.", "http://a/b/c/g."}, JoinCase{".g", "http://a/b/c/.g"},
        JoinCase{"g..", "http://a/b/c/g.."}, JoinCase{"..g", "http://a/b/c/..g"},
        JoinCase{"./../g", "http://a/b/g"}, JoinCase{"./g/.", "http://a/b/c/g/"},
        JoinCase{"g/./h", "http://a/b/c/g/h"}, JoinCase{"g/../h", "http://a/b/c/h"},
        JoinCase{"g;x=1/./y", "http://a/b/c/g;x=1/y"}, JoinCase{"g;x=1/../y", "http://a/b/c/y"},
        JoinCase{"g?y/./x", "http://a/b/c/g?y/./x"}, JoinCase{"g?y/../x", "http://a/b/c/g?y/../x"},
        JoinCase{"g#s/./x", "http://a/b/c/g#s/./x"}, JoinCase{"g#s/../x", "http://a/b/c/g#s/../x"},
        // strict parsers (this one): a scheme in the reference wins
        JoinCase{"http:g", "http:g"}));

TEST(URL, JoinEdgeCases) {
  // Base with an authority and an empty path (RFC 3986 §5.2.3 merge).
  EXPECT_EQ(URL("http://a.org").join("x/y").str(), "http://a.org/x/y");
  EXPECT_EQ(URL("http://a.org/dir/page.html").join("../img/p.png?s=1").str(),
            "http://a.org/img/p.png?s=1");
  EXPECT_EQ(URL("http://a.org/x").join("https://b.org/./y/../z").str(), "https://b.org/z");
  EXPECT_EQ(URL("http://u@a.org:81/x").join("//b.org/q").str(), "http://b.org/q");
  EXPECT_EQ(URL("http://a.org/x").join("mailto:me@a.org").str(), "mailto:me@a.org");
  EXPECT_THROW(URL("a/b").join("c"), pyconc::ValueError);
  try {
    URL("/only/path").join("c");
  } catch (const pyconc::ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr("must be absolute"));
  }
}

TEST(URL, NormalizedForDeduplication) {
  EXPECT_EQ(URL("HTTP://Example.COM:80/a/./b/../c/%7euser/%2f%3a?b=2&a=1#frag").normalized().str(),
            "http://example.com/a/c/~user/%2F%3A?b=2&a=1");
  EXPECT_EQ(URL("HTTP://Example.COM:80/x?b=2&a=1&a=0").normalized({.sort_query = true}).str(),
            "http://example.com/x?a=1&a=0&b=2");
  EXPECT_EQ(URL("https://a.com:443").normalized().str(), "https://a.com/");
  EXPECT_EQ(URL("http://a.com/?").normalized().str(), "http://a.com/");
  EXPECT_EQ(URL("http://a.com:8080/#x").normalized().str(), "http://a.com:8080/");
  EXPECT_EQ(URL("http://a.com/p#x%7e").normalized({.keep_fragment = true}).str(),
            "http://a.com/p#x~");
  EXPECT_EQ(URL("http://%41.com/%2E%2E/b").normalized().str(), "http://a.com/b");
  // Equal after normalisation, different before.
  const URL a("http://example.com/%7Ebob"), b("http://EXAMPLE.com:80/~bob#top");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.normalized(), b.normalized());
}

TEST(URL, QueryParsingAndEncoding) {
  URL u("http://a.org/s?q=a+b%26c&x=1&x=2&flag&=v&&e=");
  MultiDict q = u.query();
  EXPECT_EQ(q.getone("q"), "a b&c");
  EXPECT_EQ(q.getall("x"), (std::vector<std::string_view>{"1", "2"}));
  EXPECT_EQ(q.getone("flag"), "");
  EXPECT_EQ(q.getone(""), "v");
  EXPECT_EQ(q.getone("e"), "");
  EXPECT_EQ(q.size(), 6u);

  URL w = URL("http://a.org/p?old=1#f")
              .with_query({{"q", "a b&c=d"}, {"x", "1+1"}, {"u", "\xC3\xA9/?"}});
  EXPECT_EQ(w.str(), "http://a.org/p?q=a+b%26c%3Dd&x=1%2B1&u=%C3%A9/?#f");
  EXPECT_EQ(w.query().getone("q"), "a b&c=d");
  EXPECT_EQ(w.query().getone("x"), "1+1");
  EXPECT_EQ(w.query().getone("u"), "\xC3\xA9/?");
  MultiDict md{{"k", "1"}, {"k", "2"}};
  EXPECT_EQ(URL("http://a.org/").with_query(md).str(), "http://a.org/?k=1&k=2");
  EXPECT_EQ(URL("http://a.org/").with_query(MultiDict{}).str(), "http://a.org/");
  EXPECT_EQ(URL("http://a.org/").with_query("a=1&b=x y").str(), "http://a.org/?a=1&b=x%20y");
  EXPECT_EQ(URL("http://a.org/?a=1").with_query(std::nullopt).str(), "http://a.org/");
}

TEST(URL, WithReplacements) {
  const URL u("http://a.org:81/p/q?x=1#f");
  EXPECT_EQ(u.with_scheme("HTTPS").str(), "https://a.org:81/p/q?x=1#f");
  EXPECT_EQ(u.with_host("B.example").str(), "http://b.example:81/p/q?x=1#f");
  EXPECT_EQ(u.with_host("::1").str(), "http://[::1]:81/p/q?x=1#f");
  EXPECT_EQ(u.with_port(std::nullopt).str(), "http://a.org/p/q?x=1#f");
  EXPECT_EQ(u.with_port(9000).str(), "http://a.org:9000/p/q?x=1#f");
  const URL creds("http://me:pw@a.org/p");
  EXPECT_EQ(creds.with_user(std::nullopt).str(), "http://a.org/p");  // user and password go
  EXPECT_EQ(creds.with_user("you @x").str(), "http://you%20%40x:pw@a.org/p");
  EXPECT_EQ(u.with_user("me").str(), "http://me@a.org:81/p/q?x=1#f");
  EXPECT_THROW(URL("/rel").with_user("me"), pyconc::ValueError);
  EXPECT_EQ(u.with_path("new path").str(), "http://a.org:81/new%20path");
  EXPECT_EQ(u.with_fragment("top 1").str(), "http://a.org:81/p/q?x=1#top%201");
  EXPECT_EQ(u.with_fragment(std::nullopt).str(), "http://a.org:81/p/q?x=1");
  EXPECT_EQ((u / "r s" / "t/u").str(), "http://a.org:81/p/q/r%20s/t%2Fu");
  EXPECT_EQ((URL("http://a.org") / "x").str(), "http://a.org/x");
  EXPECT_EQ((URL("http://a.org/dir/") / "x").str(), "http://a.org/dir/x");
  EXPECT_EQ(u.origin().str(), "http://a.org:81");
  EXPECT_THROW(u / "/abs", pyconc::ValueError);
  EXPECT_THROW(u.with_scheme("1x"), pyconc::ValueError);
  EXPECT_THROW(u.with_host("bad host"), pyconc::ValueError);
  EXPECT_THROW(u.with_host(""), pyconc::ValueError);
  EXPECT_THROW(URL("rel/x").with_host("a.org"), pyconc::ValueError);
  EXPECT_THROW(URL("rel/x").origin(), pyconc::ValueError);
}

TEST(URL, ValueSemantics) {
  std::unordered_set<URL> seen;
  seen.insert(URL("http://a.org/x"));
  seen.insert(URL("http://A.org/x"));  // same after parsing (host lower-cased)
  seen.insert(URL("http://a.org/y"));
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_LT(URL("http://a.org/a"), URL("http://a.org/b"));
  std::ostringstream os;
  os << URL("http://a.org/x y");
  EXPECT_EQ(os.str(), "http://a.org/x%20y");
  // Parsing its own output gives the same URL back.
  for (const char* text : {"https://u:p@h.org:1/a%20b?c=d+e#f", "../x?y", "mailto:a@b", "//h/p",
                           "http://[::1]:80/", "?q", "#f", "http:g"}) {
    EXPECT_EQ(URL(URL(text).str()).str(), URL(text).str()) << text;
  }
}
