// html::LinkScanner against html::Document (gumbo's tree): the same title, base URL and crawl
// links (order included) for crafted pages covering each tokenizer state, for every page of
// Debian's python3.11-doc and libstdc++-12-doc when installed, and for any split of the input
// into chunks.
#include "pyconc/aiohttp/link_scanner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pyconc/aiohttp/html.hpp"

namespace html = pyconc::aiohttp::html;
using pyconc::aiohttp::URL;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kCorpusStride = 8;  // sanitizers: every 8th page of a doc tree
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
constexpr std::size_t kCorpusStride = 8;
#else
constexpr std::size_t kCorpusStride = 1;
#endif
#else
constexpr std::size_t kCorpusStride = 1;
#endif

struct Seen {
  std::optional<std::string> title;
  std::string base;
  std::vector<std::string> links;
  std::size_t too_long = 0;
  bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  os << "title=" << (s.title ? "\"" + *s.title + "\"" : "none") << " base=" << s.base
     << " too_long=" << s.too_long << " links:";
  for (const auto& l : s.links) os << "\n  " << l;
  return os;
}

const URL kPage("http://example.test/dir/page.html");

Seen by_tree(const std::string& page) {
  const html::Document doc(page);
  Seen s;
  s.title = doc.title();
  s.base = doc.base_url(kPage).str();
  html::CrawlLinkStats st;
  for (const URL& u : doc.crawl_links(kPage, &st)) s.links.push_back(u.str());
  s.too_long = st.too_long;
  return s;
}

Seen by_scanner(const html::LinkScanner& scan) {
  Seen s;
  s.title = scan.title();
  s.base = scan.base_url(kPage).str();
  html::CrawlLinkStats st;
  for (const URL& u : scan.crawl_links(kPage, &st)) s.links.push_back(u.str());
  s.too_long = st.too_long;
  return s;
}

Seen by_chunks(const std::string& page, std::size_t chunk) {
  html::LinkScanner scan;
  for (std::size_t i = 0; i < page.size(); i += chunk)
    scan.feed(std::string_view(page).substr(i, chunk));
  scan.close();
  return by_scanner(scan);
}

// Pages where the tokenizer has a state to get right; each must give what the tree gives.
const std::vector<std::string>& crafted() {
  static const std::vector<std::string> pages = {
      "<title>A  &amp;\n B</title><a href=/x>x</a><a href='y?a=1&amp;b=2'>y</a>",
      "<a href=\"/q?x=1&copy=2&lt=3&lt;&notit;&notin;\">q</a>",
      "<a href=/u?&#x41;&#66;&#x110000;&#0;&#128;&#x9D;&#;&#x;>n</a><title>&#65&#x42 &#150; "
      "&#xD800;</title>",
      "<title>a &noti; b &amp c &ampx; &CounterClockwiseContourIntegral;</title><a "
      "href=/a&amp>a</a>",
      "<!-- <a href=/commented>no</a> --><a href=/after-comment>a</a>",
      "<!--> <a href=/abrupt1>a</a> <!---> <a href=/abrupt2>b</a> <!-- --!> <a href=/bang>c</a>",
      "<!-- a -- b ---><a href=/dashes>a</a><!-- x --!-- y --><a href=/bang2>b</a>",
      "<?php echo '<a href=/php>'; ?><a href=/bogus>x</a><! <a href=/bogus2> ><a href=/b3>",
      "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0//EN\" \"x\"><a href=/dt>x</a>",
      "</ <a href=/endbogus>x</a> ></><a href=/emptyend>x</a>",
      "<script>var s = '<a href=/in-script>';</script><a href=/after-script>x</a>",
      "<script><!-- document.write('<script>x</script>'); <a href=/dbl> --></script><a href=/s2>",
      "<script><!--<script></script><a href=/dbl2>--></script><a href=/s3>",
      "<script><!--</script><a href=/esc-end>x</a>",
      "<script><!--></script><a href=/esc-abrupt>",
      "<SCRIPT type=x>a</script foo=bar><a href=/s4>",
      "<style>a{}</style ><a href=/st></style>",
      "<textarea><a href=/in-textarea></textarea><a href=/after-ta>",
      "<xmp><a href=/xmp></xmp><iframe><a href=/ifr></iframe><noembed><a href=/ne></noembed>"
      "<noframes><a href=/nf></noframes><a href=/raw-done>",
      "<a href=/before-plain><plaintext><a href=/in-plain>",
      "<a href = \"/spaced\" >a</a><a href=unq/x?y=z&amp;w>b</a><a href='/sq'title=x>c</a>",
      "<a title=\"x\" href=/first href=/second>a</a><a HREF=/upper>b</a><A Href=/mixed>",
      "<a href>empty</a><a href=>empty2</a><a href=\"\">empty3</a><a/href=/slash>",
      "<a =href=/eqname><a href=/ok1 / ><a href=/selfclose/>",
      "<base href=/base/><a href=rel>x</a><base href=/other/>",
      "<base target=_blank><base href='http://other.test/b/'><a href=rel>",
      "<base href='http://[bad'><a href=rel>",
      "<a href=javascript:alert(1)>j</a><a href=mailto:x@y>m</a><a href=//cdn.test/x>c</a>",
      "<a href='  /trim  '>t</a><a href='/back\\slash'>b</a><a href='/tab\there'>",
      "<a href=\"/ctrl\x01\x7f\">c</a><title>ctl\x01\x02</title>",
      "<a href=\"/nul\0x\">n</a>",
      "<a href=\"/bad\xff\xfe utf8\xc3\">b</a><title>\xe2\x82 t\xed\xa0\x80</title>",
      "<a href=\"/cr\r\nlf\rx\">c</a><title>a\r\nb</title>",
      "<a href=http://user:pw@example.test/p#frag>u</a><a href=/dup>1</a><a href=/dup#x>2</a>",
      "<map><area href=/area1><area nohref></map><a href=/a2>",
      "<svg><title>svg title</title><a href=/svg-a>s</a><style><a href=/svg-style></style></svg>"
      "<title>html title</title>",
      "<svg><![CDATA[ <a href=/cdata> ]]><a href=/after-cdata></svg><![CDATA[<a "
      "href=/html-cdata>]]>",
      "<svg><foreignObject><title>fo</title></foreignObject></svg><a href=/x>",
      "<math><mi><a href=/in-mi></mi><p><a href=/broke-out></math><script><a href=/scr></script>",
      "<svg><p><title>breakout title</title></svg>",
      "<template><a href=/in-template>t</a></template><a href=/out>",
      "<table><a href=/fostered>f</a><tr><td><a href=/cell></td></tr></table>",
      "<p><a href=/re>x<p>y</a><b><a href=/nested1><a href=/nested2>",
      "<title>first</title><title>second</title>",
      "<body><title>in body</title>",
      "<title>unterminated <a href=/in-title>",
      "<a href=/unterminated",
      "<a href='/unterminated-quote>x</a>",
      "<!-- unterminated comment <a href=/c>",
      "<noscript><a href=/noscript></noscript>",
      "<a href=\"&#x2F;&#47;evil.test\">e</a><a href='&quot;q'>q</a>",
      "<a href=\"/amp&ampx=1&amp;x=2&AMP;x=3\">a</a>",
      "<title>&lt;b&gt; &nbsp;x&nbsp</title>",
      "<a href=/" + std::string(9000, 'x') + ">long</a><a href=/short>",
      "plain text only, no tags at all & an ampersand < a lone less-than",
      "",
  };
  return pages;
}

TEST(LinkScanner, CraftedPagesMatchTheTree) {
  for (const std::string& page : crafted()) {
    SCOPED_TRACE(page.substr(0, 200));
    const Seen tree = by_tree(page);
    EXPECT_EQ(by_scanner(html::LinkScanner(page)), tree);
    for (std::size_t chunk : {1, 2, 3, 5, 16}) EXPECT_EQ(by_chunks(page, chunk), tree) << chunk;
  }
}

TEST(LinkScanner, ExtractsWhatACrawlerNeeds) {
  const html::LinkScanner s(
      "<html><head><title>\n  Hello\t &amp; world </title><base href=/docs/></head><body>"
      "<a href=a.html>a</a><script>'<a href=no>'</script><a href=\"b.html#top\">b</a>"
      "<a href=a.html>again</a><a href=mailto:x@y.z>m</a></body></html>");
  EXPECT_EQ(s.title(), "Hello & world");
  EXPECT_EQ(s.base_url(kPage).str(), "http://example.test/docs/");
  std::vector<std::string> links;
  for (const URL& u : s.crawl_links(kPage)) links.push_back(u.str());
  EXPECT_EQ(links, (std::vector<std::string>{"http://example.test/docs/a.html",
                                             "http://example.test/docs/b.html"}));
  EXPECT_EQ(html::LinkScanner("<p>no title</p>").title(), std::nullopt);
}

TEST(LinkScanner, DeepNestingCostsNothing) {
  std::string page = "<title>deep</title>";
  for (int i = 0; i < 200000; ++i) page += "<div>";
  page += "<a href=/bottom>b</a>";
  const html::LinkScanner s(page);
  EXPECT_EQ(s.title(), "deep");
  ASSERT_EQ(s.crawl_links(kPage).size(), 1U);
  EXPECT_EQ(s.crawl_links(kPage)[0].str(), "http://example.test/bottom");
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every `stride`-th page (times kCorpusStride) of the tree, to stay well inside the test timeout
// on a loaded machine; PYCONC_LINK_SCANNER_FULL_CORPUS=1 checks every page.
void check_doc_tree(const std::filesystem::path& root, std::size_t stride) {
  if (const char* full = std::getenv("PYCONC_LINK_SCANNER_FULL_CORPUS"); full && *full == '1')
    stride = 1;
  else
    stride *= kCorpusStride;
  if (!std::filesystem::is_directory(root)) GTEST_SKIP() << root << " is not installed";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (e.is_regular_file() && e.path().extension() == ".html") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  std::size_t checked = 0;
  for (std::size_t i = 0; i < files.size(); i += stride) {
    const std::string page = read_file(files[i]);
    const Seen tree = by_tree(page);
    ASSERT_EQ(by_scanner(html::LinkScanner(page)), tree) << files[i];
    if (i % 64 == 0) {
      ASSERT_EQ(by_chunks(page, 1000), tree) << files[i];
    }
    ++checked;
  }
  EXPECT_GT(checked, 0U);
}

TEST(LinkScanner, PythonDocsMatchTheTree) {
  check_doc_tree("/usr/share/doc/python3.11/html", 2);
}

TEST(LinkScanner, LibstdcxxDocsMatchTheTree) {
  check_doc_tree("/usr/share/doc/libstdc++-12-doc/libstdc++", 4);
}

}  // namespace
