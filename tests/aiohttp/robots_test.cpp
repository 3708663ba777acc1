#include "pyconc/aiohttp/robots.hpp"

#include <gtest/gtest.h>

#include <string>

using pyconc::aiohttp::RequestRate;
using pyconc::aiohttp::RobotFileParser;
using pyconc::aiohttp::URL;
using namespace std::chrono_literals;

namespace {

RobotFileParser parsed(std::string_view text) {
  RobotFileParser rp;
  rp.parse(text);
  return rp;
}

}  // namespace

TEST(Robots, PythonDocumentationExample) {
  RobotFileParser rp("http://www.musi-cal.com/robots.txt");
  EXPECT_EQ(rp.url(), "http://www.musi-cal.com/robots.txt");
  EXPECT_FALSE(rp.can_fetch("*", "http://www.musi-cal.com/"));  // not read yet, as in Python
  rp.parse(
      "User-agent: *\n"
      "Crawl-delay: 6\n"
      "Request-rate: 3/20\n"
      "Disallow: /cgi-bin/\n"
      "Sitemap: http://www.musi-cal.com/sitemap.xml\n");
  EXPECT_NE(rp.mtime(), std::chrono::system_clock::time_point{});
  EXPECT_EQ(rp.crawl_delay("*"), 6s);
  EXPECT_EQ(rp.request_rate("*"), (RequestRate{3, 20s}));
  EXPECT_FALSE(rp.can_fetch("*", "http://www.musi-cal.com/cgi-bin/search?city=San+Francisco"));
  EXPECT_TRUE(rp.can_fetch("*", "http://www.musi-cal.com/"));
  EXPECT_EQ(rp.site_maps(), std::vector<std::string>{"http://www.musi-cal.com/sitemap.xml"});
}

TEST(Robots, LongestMatchWinsAndAllowWinsTies) {
  auto rp = parsed("User-agent: *\nAllow: /p\nDisallow: /\n");
  EXPECT_TRUE(rp.can_fetch("bot", "http://e.com/page"));
  EXPECT_FALSE(rp.can_fetch("bot", "http://e.com/other"));
  rp.parse("User-agent: *\nAllow: /folder\nDisallow: /folder\n");
  EXPECT_TRUE(rp.can_fetch("bot", "/folder/page"));
  rp.parse("User-agent: *\nAllow: /page\nDisallow: /*.htm\n");
  EXPECT_FALSE(rp.can_fetch("bot", "/page.htm"));   // "/*.htm" is longer than "/page"
  EXPECT_FALSE(rp.can_fetch("bot", "/page.html"));  // patterns match prefixes: ".htm" of ".html"
  rp.parse("User-agent: *\nAllow: /$\nDisallow: /\n");
  EXPECT_TRUE(rp.can_fetch("bot", "http://e.com/"));
  EXPECT_TRUE(rp.can_fetch("bot", "http://e.com"));
  EXPECT_FALSE(rp.can_fetch("bot", "http://e.com/page.htm"));
}

TEST(Robots, Wildcards) {
  auto rp = parsed(
      "User-agent: *\nDisallow: /fish*\nDisallow: /*.php$\nDisallow: /*?sessionid=\n"
      "Disallow: /a*b*c\n");
  EXPECT_FALSE(rp.can_fetch("x", "/fish"));
  EXPECT_FALSE(rp.can_fetch("x", "/fish.html"));
  EXPECT_FALSE(rp.can_fetch("x", "/fishheads/yummy.html"));
  EXPECT_TRUE(rp.can_fetch("x", "/Fish.asp"));  // paths are case-sensitive
  EXPECT_TRUE(rp.can_fetch("x", "/catfish"));
  EXPECT_FALSE(rp.can_fetch("x", "/index.php"));
  EXPECT_FALSE(rp.can_fetch("x", "/dir/x.php"));
  EXPECT_TRUE(rp.can_fetch("x", "/index.php?x=1"));
  EXPECT_TRUE(rp.can_fetch("x", "/index.php5"));
  EXPECT_FALSE(rp.can_fetch("x", "/page?sessionid=42"));
  EXPECT_TRUE(rp.can_fetch("x", "/page?id=42"));
  EXPECT_FALSE(rp.can_fetch("x", "/a/xx/b/yy/c"));
  EXPECT_TRUE(rp.can_fetch("x", "/a/xx/c/yy/b"));
}

TEST(Robots, GroupsAndUserAgents) {
  const char* text =
      "# comment line\n"
      "Disallow: /before-any-group\n"  // belongs to no group: ignored
      "User-agent: pyconc\n"
      "User-agent: other-bot\n"
      "Disallow: /private/\n"
      "\n"
      "User-agent: *\n"
      "Disallow: /\n"
      "\n"
      "User-agent: PyConc  # same token again: its rules are merged with the first group\n"
      "Disallow: /tmp/\n"
      "Crawl-delay: 0.5\n"
      "User-agent: googlebot-news\n"
      "Disallow: /news/\n";
  auto rp = parsed(text);
  // The product token of a full User-Agent string, case-insensitively.
  EXPECT_TRUE(rp.can_fetch("pyconc/0.1 (+https://example.org/bot)", "/index.html"));
  EXPECT_FALSE(rp.can_fetch("PYCONC", "/private/x"));
  EXPECT_FALSE(rp.can_fetch("pyconc", "/tmp/x"));
  EXPECT_TRUE(rp.can_fetch("pyconc", "/before-any-group"));
  EXPECT_FALSE(rp.can_fetch("other-bot", "/private/x"));
  EXPECT_TRUE(rp.can_fetch("other-bot", "/tmp/x"));
  EXPECT_EQ(rp.crawl_delay("pyconc"), 500ms);
  EXPECT_EQ(rp.crawl_delay("other-bot"), std::nullopt);
  // No group of its own: the `*` group.
  EXPECT_FALSE(rp.can_fetch("somebot", "/index.html"));
  // "googlebot" is not "googlebot-news" (no prefix or substring matching).
  EXPECT_FALSE(rp.can_fetch("googlebot", "/index.html"));
  EXPECT_TRUE(rp.can_fetch("googlebot-news", "/index.html"));
  EXPECT_FALSE(rp.can_fetch("googlebot-news", "/news/today"));
  // /robots.txt is always allowed.
  EXPECT_TRUE(rp.can_fetch("somebot", "/robots.txt"));
}

TEST(Robots, NoMatchingGroupAllowsEverything) {
  auto rp = parsed("User-agent: onlythisbot\nDisallow: /\n");
  EXPECT_TRUE(rp.can_fetch("pyconc", "/anything"));
  EXPECT_FALSE(rp.can_fetch("onlythisbot", "/anything"));
  auto empty = parsed("");
  EXPECT_TRUE(empty.can_fetch("pyconc", "/anything"));
  auto allow_all = parsed("User-agent: *\nDisallow:\n");
  EXPECT_TRUE(allow_all.can_fetch("pyconc", "/anything"));
}

TEST(Robots, SyntaxVariants) {
  // BOM, CRLF and CR line endings, case-insensitive keys, spaces, a typo Google accepts,
  // a path without its leading slash, unknown keys.
  auto rp = parsed(
      "\xEF\xBB\xBFUSER-AGENT :  *  \r\nDISALLOW: /a/\rdissallow: /b/\r\n"
      "Disallow: c/\nNoindex: /d/\nAllow:\n");
  EXPECT_FALSE(rp.can_fetch("x", "/a/1"));
  EXPECT_FALSE(rp.can_fetch("x", "/b/1"));
  EXPECT_FALSE(rp.can_fetch("x", "/c/1"));
  EXPECT_TRUE(rp.can_fetch("x", "/d/1"));
  // Invalid values are ignored.
  auto bad = parsed("User-agent: *\nCrawl-delay: soon\nRequest-rate: fast\n");
  EXPECT_EQ(bad.crawl_delay("x"), std::nullopt);
  EXPECT_EQ(bad.request_rate("x"), std::nullopt);
  EXPECT_EQ(parsed("User-agent: *\nRequest-rate: 1/5s\n").request_rate("x"), (RequestRate{1, 5s}));
}

TEST(Robots, PercentEncodingIsComparedNormalised) {
  auto rp = parsed(
      "User-agent: *\nDisallow: /%7ejoe/\nDisallow: /a%2fb\nDisallow: /\xC3\xBC"
      "ber\n"
      "Disallow: /sp ace\n");
  EXPECT_FALSE(rp.can_fetch("x", "/~joe/index.html"));
  EXPECT_FALSE(rp.can_fetch("x", "/%7Ejoe/index.html"));
  EXPECT_TRUE(rp.can_fetch("x", "/a/b"));  // %2F is a reserved character: not a slash
  EXPECT_FALSE(rp.can_fetch("x", "/a%2Fb"));
  EXPECT_FALSE(rp.can_fetch("x", "/%C3%BCber"));
  EXPECT_FALSE(rp.can_fetch("x",
                            "http://e.com/\xC3\xBC"
                            "ber/x"));
  EXPECT_FALSE(rp.can_fetch("x", "/sp%20ace"));
  EXPECT_TRUE(rp.can_fetch("x", URL("http://e.com/space")));
  EXPECT_THROW(rp.can_fetch("x", "http://e.com:bad/"), pyconc::ValueError);
}

TEST(Robots, StatusOfTheRobotsTxtResponse) {
  RobotFileParser rp;
  rp.parse_response(404, "");
  EXPECT_TRUE(rp.can_fetch("x", "/anything"));
  rp.parse_response(403, "");
  EXPECT_FALSE(rp.can_fetch("x", "/anything"));
  rp.parse_response(401, "");
  EXPECT_FALSE(rp.can_fetch("x", "/anything"));
  rp.parse_response(503, "");
  EXPECT_FALSE(rp.can_fetch("x", "/anything"));
  rp.parse_response(200, "User-agent: *\nDisallow: /no\n");
  EXPECT_TRUE(rp.can_fetch("x", "/anything"));
  EXPECT_FALSE(rp.can_fetch("x", "/no"));
}

TEST(Robots, OnlyTheFirst512KiBAreRead) {
  std::string text = "User-agent: *\nDisallow: /early\n";
  while (text.size() < 600 * 1024) text += "# padding padding padding padding padding padding\n";
  text += "Disallow: /late\n";
  auto rp = parsed(text);
  EXPECT_FALSE(rp.can_fetch("x", "/early"));
  EXPECT_TRUE(rp.can_fetch("x", "/late"));
}
