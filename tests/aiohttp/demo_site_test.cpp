#include "pyconc_demo/site.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <set>
#include <string>
#include <vector>

#include "pyconc/aiohttp/html.hpp"
#include "pyconc/aiohttp/robots.hpp"
#include "pyconc/aiohttp/url.hpp"

namespace html = pyconc::aiohttp::html;
using pyconc::aiohttp::RobotFileParser;
using pyconc::aiohttp::URL;
using pyconc::demo::demo_post_title;
using pyconc::demo::demo_site_page;
using pyconc::demo::kDemoListPages;
using pyconc::demo::kDemoPosts;
using pyconc::demo::kDemoPostsPerPage;

namespace {

const URL kSite("http://demo.local:8000/");

std::string path_of(const URL& u) {
  return u.raw_path_qs();
}

// A breadth-first crawl of the demo site made of the pure parts the crawler will use: every
// crawlable same-site link, normalised and deduplicated, robots.txt honoured or not.
std::set<std::string> crawl(bool honour_robots) {
  RobotFileParser robots;
  const auto r = demo_site_page("/robots.txt");
  robots.parse_response(r.status, r.body);
  std::set<std::string> seen{path_of(kSite)};
  std::deque<URL> todo{kSite};
  std::set<std::string> fetched;
  while (!todo.empty()) {
    const URL url = todo.front();
    todo.pop_front();
    if (honour_robots && !robots.can_fetch("pyconc", url)) continue;
    const auto page = demo_site_page(url.raw_path_qs());
    EXPECT_EQ(page.status, 200) << url;
    fetched.insert(path_of(url));
    if (page.content_type.find("html") == std::string_view::npos) continue;
    for (const URL& link : html::Document(page.body).crawl_links(url)) {
      if (link.host() != kSite.host() || link.port() != kSite.port()) continue;
      if (seen.insert(path_of(link)).second) todo.push_back(link);
    }
  }
  return fetched;
}

}  // namespace

TEST(DemoSite, ListPagesCarryTwentyPostItemTitleLinks) {
  for (int n = 1; n <= kDemoListPages; ++n) {
    const auto page = demo_site_page("/list/" + std::to_string(n));
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
    html::Document doc(page.body);
    EXPECT_EQ(doc.title(), "pyconc demo blog - page " + std::to_string(n));
    // The seeds' find_all("a", class_="post-item-title"), resolved like a browser would.
    const URL page_url = kSite.join("/list/" + std::to_string(n));
    auto links = doc.links(page_url, "a.post-item-title");
    ASSERT_EQ(links.size(), static_cast<std::size_t>(kDemoPostsPerPage));
    EXPECT_EQ(doc.find_all("a", {.class_ = "post-item-title"}).size(), links.size());
    for (int i = 0; i < kDemoPostsPerPage; ++i) {
      const int id = (n - 1) * kDemoPostsPerPage + i + 1;
      EXPECT_EQ(links[i].url.str(), "http://demo.local:8000/post/" + std::to_string(id));
      EXPECT_EQ(links[i].text, demo_post_title(id));
    }
    // Pagination, whatever the page's <base>.
    auto next = doc.links(page_url, "div.pager a.next");
    auto prev = doc.links(page_url, "div.pager a.prev");
    ASSERT_EQ(next.size(), n < kDemoListPages ? 1u : 0u);
    ASSERT_EQ(prev.size(), n > 1 ? 1u : 0u);
    if (!next.empty()) {
      EXPECT_EQ(path_of(next[0].url), "/list/" + std::to_string(n + 1));
    }
    if (!prev.empty()) {
      EXPECT_EQ(path_of(prev[0].url), "/list/" + std::to_string(n - 1));
    }
  }
  // The three kinds of link markup all appear (base-relative, dot-segments, absolute path).
  EXPECT_NE(demo_site_page("/list/2").body.find("<base href=\"/post/\">"), std::string::npos);
  EXPECT_NE(demo_site_page("/list/3").body.find("href=\"../post/41\""), std::string::npos);
  EXPECT_NE(demo_site_page("/list/1").body.find("href=\"/post/1\""), std::string::npos);
}

TEST(DemoSite, PostPages) {
  for (int id : {1, 7, 20, 21, 500, 999, kDemoPosts}) {
    const auto page = demo_site_page("/post/" + std::to_string(id));
    ASSERT_EQ(page.status, 200) << id;
    html::Document doc(page.body);
    EXPECT_EQ(doc.title(), demo_post_title(id) + " - pyconc demo blog");
    EXPECT_EQ(doc.select_one("h1.post-title")->text(), demo_post_title(id));
    const URL url = kSite.join("/post/" + std::to_string(id));
    auto back = doc.links(url, "a.back");
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(path_of(back[0].url), "/list/" + std::to_string(pyconc::demo::demo_list_page_of(id)));
    // Links a crawler must not follow are there, and are recognised as such.
    int not_crawlable = 0;
    for (const auto& l : doc.links(url)) not_crawlable += l.crawlable() ? 0 : 1;
    EXPECT_EQ(not_crawlable, 2);
  }
}

TEST(DemoSite, TitlesAreDeterministicAndUnique) {
  std::set<std::string> titles;
  for (int id = 1; id <= kDemoPosts; ++id) {
    const std::string t = demo_post_title(id);
    EXPECT_EQ(t, demo_post_title(id));
    EXPECT_TRUE(t.ends_with("(#" + std::to_string(id) + ")")) << t;
    titles.insert(t);
  }
  EXPECT_EQ(titles.size(), static_cast<std::size_t>(kDemoPosts));
  // Every 7th title is Chinese, like the seeds' target; some carry an '&'.
  EXPECT_GT(static_cast<unsigned char>(demo_post_title(7)[0]), 0x7f);
  bool ampersand = false;
  for (int id = 1; id <= kDemoPosts; ++id)
    ampersand |= demo_post_title(id).find('&') != std::string::npos;
  EXPECT_TRUE(ampersand);
}

TEST(DemoSite, RobotsIndexAndErrors) {
  const auto robots = demo_site_page("/robots.txt");
  EXPECT_EQ(robots.status, 200);
  EXPECT_EQ(robots.content_type, "text/plain; charset=utf-8");
  RobotFileParser rp;
  rp.parse(robots.body);
  EXPECT_FALSE(rp.can_fetch("pyconc", "/private/drafts"));
  EXPECT_TRUE(rp.can_fetch("pyconc", "/post/1"));

  html::Document index(demo_site_page("/").body);
  EXPECT_EQ(index.select("nav.pages a.page").size(), static_cast<std::size_t>(kDemoListPages));
  EXPECT_EQ(demo_site_page("/private/drafts").status, 200);
  EXPECT_EQ(demo_site_page("/about").status, 200);
  EXPECT_EQ(demo_site_page("/static/blog.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(demo_site_page("/list/3?sort=new#top").body, demo_site_page("/list/3").body);
  EXPECT_EQ(demo_site_page("http://demo.local/post/5").body, demo_site_page("/post/5").body);
  for (const char* missing :
       {"/list/0", "/list/51", "/list/01", "/list/-1", "/list/1/x", "/list/", "/post/1001",
        "/post/abc", "/post/99999999999", "/private/", "/nope", "/static/other.css"}) {
    const auto page = demo_site_page(missing);
    EXPECT_EQ(page.status, 404) << missing;
    EXPECT_EQ(html::Document(page.body).title(), "404 Not Found");
  }
  // The 404 page escapes the path it repeats.
  EXPECT_EQ(demo_site_page("/<script>").body.find("<script>"), std::string::npos);
}

TEST(DemoSite, ACrawlFindsExactlyTheSite) {
  std::set<std::string> expected{"/", "/about", "/robots.txt"};
  for (int n = 1; n <= kDemoListPages; ++n) expected.insert("/list/" + std::to_string(n));
  for (int id = 1; id <= kDemoPosts; ++id) expected.insert("/post/" + std::to_string(id));
  EXPECT_EQ(crawl(/*honour_robots=*/true), expected);
  expected.insert("/private/drafts");
  EXPECT_EQ(crawl(/*honour_robots=*/false), expected);
}
