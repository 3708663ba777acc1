#include "pyconc/aiohttp/html.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace html = pyconc::aiohttp::html;
using pyconc::aiohttp::URL;
using testing::ElementsAre;
using testing::HasSubstr;

namespace {

// Shaped like the seeds' target (a cnblogs list page): a post list with a.post-item-title links,
// sidebar links, scripts, comments, entities, and Chinese titles.
const char* const kListPage = R"html(<!DOCTYPE html>
<html lang="zh-cn">
<head>
  <meta charset="utf-8">
  <title>
     博客园 - 开发者的网上家园  &amp; more
  </title>
  <link rel="stylesheet" href="/css/blog.css">
  <script>var links = "<a class='post-item-title' href='/fake'>not a link</a>";</script>
  <style>.post-item-title { color: red; }</style>
</head>
<body>
  <div id="main" class="main-content">
    <div class="post-list">
      <article class="post-item" data-post-id="18151059">
        <section class="post-item-body">
          <div class="post-item-text">
            <a class="post-item-title" href="https://www.cnblogs.com/shudaoshan/p/18151059" target="_blank">鸿蒙HarmonyOS实战-ArkUI动画（弹簧曲线动画）</a>
            <p class="post-item-summary">A summary with <b>bold</b> text.</p>
          </div>
        </section>
      </article>
      <article class="post-item">
        <a class="post-item-title featured" href="/FatTiger4399/p/18146367">
            低开开发笔记(四)：
            实现编辑器内拖拽
        </a>
      </article>
      <article class="post-item">
        <a class="post-item-title" href="../ITnoteforlsy/p/18148656#comments">Qt 从 QTransform 逆向解出 <em>Translate</em>/Scale/Rotate</a>
      </article>
      <!-- <a class="post-item-title" href="/commented-out">hidden</a> -->
    </div>
    <div class="pager">
      <a href="/sitehome/p/2" class="p_2">2</a>
      <a href="javascript:void(0)" class="next">Next &gt;</a>
      <a href="mailto:contact@cnblogs.com">Mail</a>
      <a name="anchor-without-href">anchor</a>
    </div>
  </div>
</body>
</html>)html";

std::vector<std::string> texts(const std::vector<html::Element>& es) {
  std::vector<std::string> out;
  for (const auto& e : es) out.push_back(e.text());
  return out;
}

std::vector<std::string> hrefs(const std::vector<html::Link>& ls) {
  std::vector<std::string> out;
  for (const auto& l : ls) out.push_back(l.url.str());
  return out;
}

}  // namespace

TEST(Html, FindAllByClassLikeTheSeeds) {
  html::Document soup(kListPage);
  // soup.find_all("a", class_="post-item-title")
  auto links = soup.find_all("a", {.class_ = "post-item-title"});
  ASSERT_EQ(links.size(), 3u);
  EXPECT_EQ(links[0].get("href"), "https://www.cnblogs.com/shudaoshan/p/18151059");
  EXPECT_EQ(links[0].text(), "鸿蒙HarmonyOS实战-ArkUI动画（弹簧曲线动画）");
  EXPECT_EQ(links[1].text(), "低开开发笔记(四)： 实现编辑器内拖拽");
  EXPECT_EQ(links[2].text(), "Qt 从 QTransform 逆向解出 Translate/Scale/Rotate");
  // The script's string and the comment are not elements.
  EXPECT_EQ(soup.find_all("a", {.class_ = "post-item-title featured"}).size(), 1u);
  EXPECT_EQ(soup.find_all("a").size(), 7u);
  EXPECT_EQ(soup.find_all("A").size(), 7u);
  EXPECT_EQ(soup.find_all("", {.class_ = "post-item"}).size(), 3u);
  EXPECT_EQ(soup.find_all("article", {.attrs = {{"data-post-id", "18151059"}}}).size(), 1u);
  EXPECT_EQ(soup.find_all("a", {.limit = 2}).size(), 2u);
  ASSERT_TRUE(soup.find("div", {.id = "main"}));
  EXPECT_EQ(soup.find("div", {.id = "main"})->get("class"), "main-content");
  EXPECT_FALSE(soup.find("table"));
}

TEST(Html, Title) {
  html::Document soup(kListPage);
  EXPECT_EQ(soup.title(), "博客园 - 开发者的网上家园 & more");
  EXPECT_EQ(html::Document("<p>no title</p>").title(), std::nullopt);
  EXPECT_EQ(html::Document("<title></title>").title(), "");
  // An SVG <title> is not the document's.
  EXPECT_EQ(html::Document("<body><svg><title>icon</title></svg></body>").title(), std::nullopt);
}

TEST(Html, CssSelectors) {
  html::Document soup(kListPage);
  EXPECT_EQ(soup.select("a.post-item-title").size(), 3u);
  EXPECT_EQ(soup.select(".post-item-title").size(), 3u);
  EXPECT_EQ(soup.select("a.post-item-title.featured").size(), 1u);
  EXPECT_EQ(soup.select("div.post-list a").size(), 3u);
  EXPECT_EQ(soup.select("#main .pager > a").size(), 4u);
  EXPECT_EQ(soup.select("#main > a").size(), 0u);  // not children of #main
  EXPECT_EQ(soup.select("div#main a[href]").size(), 6u);
  EXPECT_EQ(soup.select("a[href^=https]").size(), 1u);
  EXPECT_EQ(soup.select("a[href$='18146367']").size(), 1u);
  EXPECT_EQ(soup.select("a[href*=\"/p/\"]").size(), 4u);
  EXPECT_EQ(soup.select("a[class~=featured]").size(), 1u);
  EXPECT_EQ(soup.select("a[target=_blank]").size(), 1u);
  EXPECT_EQ(soup.select("A[HREF]").size(), 6u);            // names are case-insensitive
  EXPECT_EQ(soup.select("a.POST-ITEM-TITLE").size(), 0u);  // classes are not
  EXPECT_EQ(texts(soup.select("em, b")), (std::vector<std::string>{"bold", "Translate"}));
  EXPECT_EQ(soup.select("article  >  section > div > a").size(), 1u);
  EXPECT_EQ(soup.select("body *").size(), soup.find("body")->find_all().size());
  auto first = soup.select_one("div.pager a");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->text(), "2");
  EXPECT_FALSE(soup.select_one("nav a"));
  // Scoped to an element: only its descendants, but ancestors above it count.
  auto list = soup.select_one("div.post-list");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->select("#main a").size(), 3u);
  EXPECT_EQ(list->select("div.post-list").size(), 0u);
}

TEST(Html, InvalidSelectorsRaiseValueError) {
  html::Document soup("<a>x</a>");
  for (const char* bad : {"", "a..b", "a >", "> a", "a:first-child", "a + b", "a ~ b", "[href",
                          "a[href=]", "a[href='x]", ".1abc", "#", ",a", "a,", "a!", "a[href|=x]"}) {
    try {
      soup.select(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const pyconc::ValueError& e) {
      EXPECT_THAT(e.what(), HasSubstr("invalid CSS selector")) << bad;
      EXPECT_THAT(e.what(), HasSubstr("at position")) << bad;
    }
  }
}

TEST(Html, GetTextLikeBeautifulSoup) {
  html::Document soup(
      "<div id=d>  Hello <b>big</b>\n\t world<script>ignored()</script><style>p{}</style>"
      "<!-- comment -->&nbsp;!<template>tpl</template> </div>");
  auto d = soup.find("div");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->get_text(), "  Hello big\n\t world\xC2\xA0! ");
  EXPECT_EQ(d->get_text({.separator = "|", .strip = true}), "Hello|big|world|!");
  EXPECT_EQ(d->text(), "Hello big world !");  // NBSP is whitespace to str.split()
  EXPECT_EQ(html::Document("<p>a\xE3\x80\x80"
                           "b</p>")
                .find("p")
                ->text(),
            "a b");  // U+3000
}

TEST(Html, ElementApi) {
  html::Document soup(
      "<ul id='l' class=' menu  main '><li class=a>1</li><li>2<ul><li>2.1</li></ul></li></ul>"
      "<my-widget data-x=1 class=w>custom</my-widget>");
  auto ul = soup.find("ul");
  ASSERT_TRUE(ul);
  EXPECT_EQ(ul->name(), "ul");
  EXPECT_EQ(ul->id(), "l");
  EXPECT_THAT(ul->classes(), ElementsAre("menu", "main"));
  EXPECT_TRUE(ul->has_class("main"));
  EXPECT_FALSE(ul->has_class("men"));
  EXPECT_EQ(ul->children().size(), 2u);
  EXPECT_EQ(ul->find_all("li").size(), 3u);
  EXPECT_EQ(ul->find_all("li", {.recursive = false}).size(), 2u);
  EXPECT_EQ(ul->attrs().size(), 2u);
  EXPECT_EQ(ul->attrs()[0].first, "id");
  EXPECT_FALSE(soup.truncated());
  auto li = ul->find("li", {.class_ = "a"});
  ASSERT_TRUE(li);
  EXPECT_EQ(li->parent(), ul);
  EXPECT_EQ(soup.root().name(), "html");
  EXPECT_EQ(soup.root().parent(), std::nullopt);
  auto w = soup.select_one("my-widget.w[data-x='1']");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->name(), "my-widget");
  EXPECT_EQ(w->text(), "custom");
  EXPECT_FALSE(w->get("missing"));
  EXPECT_FALSE(w->has_attr("missing"));
}

TEST(Html, ElementsKeepTheirDocumentAlive) {
  std::optional<html::Element> a;
  {
    html::Document soup("<a href='/x'>link</a>");
    a = soup.find("a");
  }
  ASSERT_TRUE(a);
  EXPECT_EQ(a->get("href"), "/x");
  EXPECT_EQ(a->text(), "link");
}

TEST(Html, MalformedHtmlIsRepairedLikeABrowser) {
  // Unclosed and misnested tags, no <html>/<head>/<body>, unquoted and upper-case attributes,
  // stray end tags, a duplicate attribute (the first wins), an <a> inside an <a>.
  html::Document soup(
      "<TITLE>Broken</TITLE><DIV CLASS=box><p>one<p>two</div></span>"
      "<A HREF=/a1 href=/ignored>first<a href=/a2>second</a>"
      "<b><i>bold-italic</b> italic</i><table><a href=/fostered>x</a><tr><td>cell</table>"
      "<ul><li>item 1<li>item 2</ul><a href='/unterminated");
  EXPECT_EQ(soup.title(), "Broken");
  EXPECT_EQ(soup.root().name(), "html");
  EXPECT_TRUE(soup.find("head"));
  EXPECT_TRUE(soup.find("body"));
  EXPECT_EQ(texts(soup.select("div.box > p")), (std::vector<std::string>{"one", "two"}));
  auto links = soup.find_all("a");
  ASSERT_GE(links.size(), 3u);
  EXPECT_EQ(links[0].get("href"), "/a1");
  EXPECT_EQ(links[0].text(), "first");  // the inner <a> closed the outer one
  EXPECT_EQ(links[1].get("href"), "/a2");
  EXPECT_EQ(soup.select("a[href='/fostered']").size(), 1u);  // moved out of the table
  EXPECT_EQ(texts(soup.select("li")), (std::vector<std::string>{"item 1", "item 2"}));
  EXPECT_EQ(soup.select_one("td")->text(), "cell");
}

// The nesting guard counts what the parser will nest, so tricks that fooled a plain tag count
// are cut too: `<div/>` (HTML ignores the slash), stray end tags that close nothing, nested
// tables, and formatting elements the parser reopens. Each hostile page is ~600 KB; each is cut
// at the limit and parsed in well under a second (gumbo alone: 15-25 s each).
TEST(Html, NestingGuardCannotBeBypassed) {
  auto repeat = [](std::string_view piece, int n) {
    std::string out = "<title>T</title><a href=/top>top</a>";
    for (int i = 0; i < n; ++i) out += piece;
    return out + "<a href=/bottom>bottom</a>";
  };
  const std::vector<std::pair<std::string, std::string>> hostile = {
      {"self-closing div", repeat("<div/>", 100000)},
      {"stray end tags", repeat("<div></p></span></li>", 30000)},
      {"nested tables", repeat("<table><tr><td>", 40000)},
      {"reopened fonts",
       [] {
         std::string out;
         for (int i = 0; i < 20000; ++i) out += "<p><font color=" + std::to_string(i) + ">x</p>";
         return out;
       }()},
  };
  for (const auto& [what, page] : hostile) {
    const auto start = std::chrono::steady_clock::now();
    html::Document d(page);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(d.truncated()) << what;
    EXPECT_LT(took, std::chrono::seconds(10)) << what;
  }
  // What stays flat is parsed whole: the same formatting element left open in every paragraph
  // (the parser reopens at most three), self-closing tags inside svg, thousands of table rows.
  std::string paragraphs;
  for (int i = 0; i < 5000; ++i) paragraphs += "<p><b>bold</p>";
  paragraphs += "<a href=/end>end</a>";
  html::Document p(paragraphs);
  EXPECT_FALSE(p.truncated());
  EXPECT_EQ(p.find_all("a").size(), 1u);
  std::string svg = "<svg>";
  for (int i = 0; i < 5000; ++i) svg += "<path d='M0 0'/>";
  svg += "</svg><a href=/end>end</a>";
  html::Document g(svg);
  EXPECT_FALSE(g.truncated());
  EXPECT_EQ(g.find_all("a").size(), 1u);
  std::string rows = "<table>";
  for (int i = 0; i < 5000; ++i) rows += "<tr><td>" + std::to_string(i) + "<td>cell";
  rows += "</table><a href=/end>end</a>";
  html::Document t(rows);
  EXPECT_FALSE(t.truncated());
  EXPECT_EQ(t.find_all("tr").size(), 5000u);
}

TEST(Html, HostileInputDoesNotBreakTheParser) {
  // Nesting within the limit is parsed whole.
  std::string nested;
  for (int i = 0; i < 1000; ++i) nested += "<div class=n>";
  nested += "<a class=t href=/deep>bottom</a>";
  html::Document d(nested);
  EXPECT_FALSE(d.truncated());
  ASSERT_EQ(d.select("a.t").size(), 1u);
  EXPECT_EQ(d.select_one("a.t")->text(), "bottom");
  EXPECT_EQ(d.select("div div div a").size(), 1u);
  EXPECT_EQ(d.select("div.n").size(), 1000u);
  // 50,000 nested <div>s (gumbo alone: minutes) are cut at the limit, in milliseconds; what
  // came before the cut is there.
  std::string deep = "<title>Deep</title><a href=/top>top</a>";
  for (int i = 0; i < 50000; ++i) deep += "<div>";
  deep += "<a href=/bottom>bottom</a>";
  const auto start = std::chrono::steady_clock::now();
  html::Document cut(deep);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_TRUE(cut.truncated());
  EXPECT_EQ(cut.title(), "Deep");
  EXPECT_EQ(cut.find_all("div").size(), html::kMaxNestingDepth);
  ASSERT_EQ(cut.find_all("a").size(), 1u);
  EXPECT_EQ(cut.find_all("a")[0].get("href"), "/top");
  // Unclosed elements that a sibling closes, void elements, comments and scripts full of
  // tags do not count as nesting.
  std::string flat = "<ul>";
  for (int i = 0; i < 3000; ++i)
    flat += "<li><p>item<br><img src=x><!-- <div><div> --><script>'<div>'</script>";
  flat += "</ul><a href=/end>end</a>";
  html::Document f(flat);
  EXPECT_FALSE(f.truncated());
  EXPECT_EQ(f.find_all("li").size(), 3000u);
  EXPECT_EQ(f.find_all("a").size(), 1u);
  // Bytes that are not UTF-8, NULs, and a truncated tag.
  html::Document junk(std::string("<p>\xff\xfe\x00<a href=x>\x80</a><", 22));
  EXPECT_EQ(junk.find_all("a").size(), 1u);
  html::Document empty("");
  EXPECT_EQ(empty.root().name(), "html");
  EXPECT_TRUE(empty.find_all("a").empty());
}

TEST(Html, LinksResolveAgainstThePageAndBase) {
  html::Document soup(kListPage);
  const URL page("https://www.cnblogs.com/sitehome/p/1");
  auto links = soup.links(page, "a.post-item-title");
  EXPECT_EQ(hrefs(links),
            (std::vector<std::string>{
                "https://www.cnblogs.com/shudaoshan/p/18151059",
                "https://www.cnblogs.com/FatTiger4399/p/18146367",
                "https://www.cnblogs.com/sitehome/ITnoteforlsy/p/18148656#comments"}));
  EXPECT_EQ(links[1].text, "低开开发笔记(四)： 实现编辑器内拖拽");
  // Every a[href] by default: javascript: and mailto: are extracted but not crawlable.
  auto all = soup.links(page);
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[4].url.str(), "javascript:void(0)");
  EXPECT_FALSE(all[4].crawlable());
  EXPECT_EQ(all[5].url.str(), "mailto:contact@cnblogs.com");
  EXPECT_FALSE(all[5].crawlable());
  EXPECT_TRUE(all[3].crawlable());
  EXPECT_EQ(all[4].text, "Next >");
}

// hrefs as browsers read them: backslashes in an http(s) reference are slashes (before the
// query), control characters are percent-encoded; crawl_links drops credentials and skips
// links longer than kMaxLinkLength, counting them.
TEST(Html, HostileLinks) {
  const URL page("http://example.com/dir/page.html");
  const std::string huge = "/x?" + std::string(std::size_t{10} << 20, 'a');  // a 10 MB link
  html::Document d(
      "<a href='\\\\evil.example\\path\\a.html'>1</a>"
      "<a href='sub\\b.html?q=\\keep'>2</a>"
      "<a href='/c\x01"
      "d\x7f"
      "e'>3</a>"
      "<a href='http://user:secret@example.com/private'>4</a>"
      "<a href='mailto:a\\b@example.com'>5</a>"
      "<a href='" +
      huge +
      "'>6</a>"
      "<a href='/last'>7</a>");
  // Control characters reach the URL as they are in the page (gumbo alone would make them
  // U+FFFD) and are percent-encoded, as a browser sends them: never raw.
  const auto links = d.links(page);
  ASSERT_EQ(links.size(), 7u);
  EXPECT_EQ(links[0].url.str(), "http://evil.example/path/a.html");
  EXPECT_EQ(links[1].url.str(), "http://example.com/dir/sub/b.html?q=%5Ckeep");  // query kept
  EXPECT_EQ(links[2].url.str(), "http://example.com/c%01d%7Fe");
  EXPECT_EQ(links[3].url.str(), "http://user:secret@example.com/private");
  EXPECT_FALSE(links[4].crawlable());  // mailto: keeps its backslash (not a special scheme)
  EXPECT_EQ(links[5].url.str().size(), huge.size() + std::string("http://example.com").size());
  EXPECT_EQ(links[6].url.str(), "http://example.com/last");
  html::CrawlLinkStats skipped;
  const auto crawl = d.crawl_links(page, &skipped);
  std::vector<std::string> got;
  for (const auto& u : crawl) got.push_back(u.str());
  EXPECT_EQ(got, (std::vector<std::string>{
                     "http://evil.example/path/a.html",
                     "http://example.com/dir/sub/b.html?q=%5Ckeep", "http://example.com/c%01d%7Fe",
                     "http://example.com/private", "http://example.com/last"}));
  EXPECT_EQ(skipped.too_long, 1u);
  EXPECT_EQ(d.crawl_links(page).size(), 5u);  // the stats are optional
}

// Control characters anywhere -- attribute names and values, text, titles, comments -- come
// out of the parse as the standard keeps them (C0 but NUL, DEL, C1), not as U+FFFD; a document
// without any is parsed as it is.
TEST(Html, ControlCharactersAreKept) {
  const URL page("http://example.com/");
  html::Document d(
      "<title>a\x01"
      "b\x7f"
      "c</title>"
      "<p id=p data-x='v\x0b\x7f' title='c1 \xc2\x85 \xc2\x9f'>t\x02xt <b>\xc2\x80</b></p>"
      "<a href='/p\xc2\x81q\x1e'>l</a>"
      "<a href='/plain'>\xf4\x8f\xb8\x81 \xf4\x8f\xbb\x81</a>");
  EXPECT_EQ(d.title().value_or(""),
            "a\x01"
            "b\x7f"
            "c");
  const auto p = d.find("p");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->get("data-x").value_or(""), "v\x0b\x7f");
  EXPECT_EQ(p->get("title").value_or(""), "c1 \xc2\x85 \xc2\x9f");
  EXPECT_EQ(p->get_text(), "t\x02xt \xc2\x80");
  const auto links = d.links(page);
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0].url.str(), "http://example.com/p%C2%81q%1E");
  // A genuine U+10FE01 (the range the parse borrows) reads as U+FFFD; U+10FEC1 is untouched.
  EXPECT_EQ(links[1].text, "\xef\xbf\xbd \xf4\x8f\xbb\x81");
}

TEST(Html, BaseHref) {
  const URL page("http://example.com/dir/page.html");
  html::Document with_base(
      "<head><base target=_top><base href='/blog/posts/'><base href='/second/'></head>"
      "<a href='42'>a</a><a href='../about'>b</a><a href='/abs'>c</a>"
      "<a href='//cdn.example.org/x'>d</a><a href='?q=1'>e</a><a href=''>f</a>"
      "<a href='  spaced.html  '>g</a><a href='http://[bad'>h</a>");
  EXPECT_EQ(with_base.base_url(page).str(), "http://example.com/blog/posts/");
  EXPECT_EQ(hrefs(with_base.links(page)),
            (std::vector<std::string>{
                "http://example.com/blog/posts/42", "http://example.com/blog/about",
                "http://example.com/abs", "http://cdn.example.org/x",
                "http://example.com/blog/posts/?q=1", "http://example.com/blog/posts/",
                "http://example.com/blog/posts/spaced.html"}));  // the invalid one is skipped
  // Without <base>, the page URL; an unusable <base href> is ignored.
  EXPECT_EQ(html::Document("<a href=x>").base_url(page), page);
  EXPECT_EQ(html::Document("<base href='http://[::1'><a href=x>").base_url(page), page);
  EXPECT_EQ(html::Document("<base href='https://other.org/a/'>").base_url(page).str(),
            "https://other.org/a/");
}

TEST(Html, CrawlLinksAreNormalisedAndUnique) {
  html::Document soup(
      "<a href='/a#top'>1</a><a href='/a'>2</a><a href='HTTP://EXAMPLE.com:80/a'>3</a>"
      "<a href='/b/./c/../d'>4</a><a href='javascript:alert(1)'>5</a><a href='mailto:x@y'>6</a>"
      "<map><area href='/area' alt=''></map><a href='ftp://example.com/f'>7</a>"
      "<a href='https://other.org'>8</a>");
  std::vector<std::string> got;
  for (const URL& u : soup.crawl_links(URL("http://example.com/index.html")))
    got.push_back(u.str());
  EXPECT_EQ(got, (std::vector<std::string>{"http://example.com/a", "http://example.com/b/d",
                                           "http://example.com/area", "https://other.org/"}));
}

TEST(Html, OneDocumentReadByManyThreads) {
  // Documents are immutable: threads may search one (and copy its Elements) at once.
  const html::Document soup(kListPage);
  const URL page("https://www.cnblogs.com/sitehome/p/1");
  std::vector<std::size_t> found(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < found.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto links = soup.links(page, "a.post-item-title");
        auto copy = soup.select("article a");
        found[t] += links.size() + copy.size() + (soup.title() ? 1 : 0);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (std::size_t n : found) EXPECT_EQ(n, 50u * (3 + 3 + 1));
}
