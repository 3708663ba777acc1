// Crawler against local servers: the demo blog (exact result set, items, depths, max_pages /
// max_depth cuts), a site with loops, redirects, broken and flaky links (retries, errors,
// dedup), robots.txt rules and Crawl-delay, cancellation.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "http_test_server.hpp"
#include "pyconc/aiohttp.hpp"
#include "pyconc/aiohttp/json.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc/future.hpp"
#include "pyconc/futures.hpp"
#include "pyconc_demo/site.hpp"

namespace aio = pyconc::asyncio;
namespace http = pyconc::aiohttp;
using namespace std::chrono_literals;
using pyconc::demo::demo_post_title;
using pyconc::demo::demo_site_page;
using pyconc::demo::kDemoListPages;
using pyconc::demo::kDemoPosts;
using pyconc::demo::kDemoPostsPerPage;
using pyconc_test::TestConn;
using pyconc_test::TestRequest;
using pyconc_test::TestServer;

namespace {

std::vector<http::CrawlRecord> crawl(http::Crawler& crawler, std::vector<std::string> start) {
  return aio::run(aio::wait_for(crawler.crawl(std::move(start)), 50s));
}

void serve_demo(const TestRequest& r, TestConn& c) {
  const auto page = demo_site_page(r.target);
  c.respond(page.status, page.body, {}, page.content_type);
}

std::string path_of(const std::string& url) {
  return http::URL(url).raw_path_qs();
}

TEST(Crawler, CrawlsTheDemoSiteExactly) {
  TestServer server(serve_demo);
  std::atomic<int> progress{0};
  http::Crawler crawler({.concurrency = 16,
                         .per_host = 8,
                         .select = "a.post-item-title",
                         .on_page = [&](const http::CrawlRecord&) { ++progress; }});
  const auto records = crawl(crawler, {server.url("/")});

  std::set<std::string> expected{"/", "/about", "/robots.txt"};
  for (int n = 1; n <= kDemoListPages; ++n) expected.insert("/list/" + std::to_string(n));
  for (int id = 1; id <= kDemoPosts; ++id) expected.insert("/post/" + std::to_string(id));
  std::set<std::string> got;
  for (const auto& r : records) {
    got.insert(path_of(r.url));
    EXPECT_EQ(r.status, 200) << r.url;
    EXPECT_TRUE(r.error.empty()) << r.url << ": " << r.error;
    EXPECT_EQ(r.attempts, 1);
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(records.size(), expected.size());  // each page once
  EXPECT_EQ(progress.load(), static_cast<int>(records.size()));
  EXPECT_EQ(crawler.stats().pages, records.size());
  EXPECT_EQ(crawler.stats().robots_skipped, 1U);  // /private/drafts
  EXPECT_EQ(crawler.stats().errors, 0U);
  // Every page fetched once, plus robots.txt read by the crawler itself.
  EXPECT_EQ(server.requests(), static_cast<int>(records.size()) + 1);
  for (const auto& seen : server.seen())
    EXPECT_FALSE(seen.path.starts_with("/private/")) << seen.path;

  // Breadth-first: depths never decrease; the start page first.
  EXPECT_EQ(path_of(records.front().url), "/");
  for (std::size_t i = 1; i < records.size(); ++i)
    EXPECT_LE(records[i - 1].depth, records[i].depth);
  for (const auto& r : records) {
    const std::string p = path_of(r.url);
    if (p.starts_with("/list/")) {
      EXPECT_EQ(r.depth, 1);
      // The seeds' find_all("a", class_="post-item-title"): twenty posts, titles and URLs.
      const int n = std::stoi(p.substr(6));
      EXPECT_EQ(r.items.size(), static_cast<std::size_t>(kDemoPostsPerPage)) << p;
      for (std::size_t k = 0; k < r.items.size(); ++k) {
        const int id = (n - 1) * kDemoPostsPerPage + static_cast<int>(k) + 1;
        EXPECT_EQ(r.items[k].href, server.url("/post/" + std::to_string(id)));
        EXPECT_EQ(r.items[k].text, demo_post_title(id));
      }
      EXPECT_FALSE(r.title.empty());
    } else if (p.starts_with("/post/")) {
      EXPECT_EQ(r.depth, 2);
      EXPECT_TRUE(r.items.empty());
      EXPECT_NE(r.title.find(demo_post_title(std::stoi(p.substr(6)))), std::string::npos)
          << r.title;
    }
  }
  const auto json = records[1].to_json();
  EXPECT_EQ(json.begin().key(), "url");  // the JSON Lines key order of `pyconc crawl --out`
  EXPECT_EQ(json.dump().find("\"items\""), json.dump().rfind("\"items\""));
}

TEST(Crawler, MaxPagesAndMaxDepthCutTheSameWayEveryTime) {
  TestServer server(serve_demo);
  // The expected first level: the index's crawlable links in document order, minus robots.
  const http::URL root(server.url("/"));
  std::vector<std::string> level1;
  for (const auto& u : http::html::Document(demo_site_page("/").body).crawl_links(root)) {
    if (u.raw_path().starts_with("/private/")) continue;
    if (u != root) level1.push_back(u.str());
  }
  for (int run = 0; run < 2; ++run) {
    http::Crawler crawler({.concurrency = 8, .max_pages = 10});
    const auto records = crawl(crawler, {server.url("/")});
    EXPECT_EQ(records.size(), 10U);
    EXPECT_EQ(records[0].url, root.str());
    for (std::size_t i = 1; i < records.size(); ++i) EXPECT_EQ(records[i].url, level1[i - 1]);
  }
  http::Crawler shallow({.max_depth = 1});
  const auto records = crawl(shallow, {server.url("/")});
  EXPECT_EQ(records.size(), 1 + level1.size());
  for (const auto& r : records) EXPECT_LE(r.depth, 1);
  http::Crawler start_only({.max_depth = 0});
  EXPECT_EQ(crawl(start_only, {server.url("/"), server.url("/about")}).size(), 2U);
}

TEST(Crawler, LoopsRedirectsBrokenAndFlakyLinks) {
  int dead_port = 0;
  {
    TestServer gone([](const TestRequest&, TestConn&) {});
    dead_port = gone.port();
  }
  std::atomic<int> flaky_calls{0};
  std::atomic<int> boom_calls{0};
  const std::string dead = "http://127.0.0.1:" + std::to_string(dead_port) + "/gone";
  TestServer server([&](const TestRequest& r, TestConn& c) {
    auto page = [&](const std::string& title, const std::vector<std::string>& links) {
      std::string body = "<html><head><title>" + title + "</title></head><body>";
      for (const auto& l : links) body += "<a href=\"" + l + "\">" + l + "</a>\n";
      c.respond(200, body + "</body></html>", {}, "text/html; charset=utf-8");
    };
    if (r.path == "/") {
      page("home", {"/a", "/b", "/missing", "/boom", "/flaky", "/redir", "/loop/1", "/slow",
                    "mailto:x@example.com", "javascript:void(0)", dead});
    } else if (r.path == "/a") {
      page("A", {"/", "/b", "/a#top"});
    } else if (r.path == "/b") {
      page("B", {"a", "/b?", "./b"});
    } else if (r.path == "/boom") {
      ++boom_calls;
      c.respond(500, "boom");
    } else if (r.path == "/flaky") {
      if (flaky_calls++ == 0) {
        c.respond(503, "try again");
      } else {
        page("flaky", {});
      }
    } else if (r.path == "/redir") {
      c.respond(302, "", {{"Location", "/a"}});
    } else if (r.path.starts_with("/loop/")) {
      const int n = std::stoi(r.path.substr(6));
      page("loop " + std::to_string(n), {"/loop/" + std::to_string(n % 5 + 1)});
    } else if (r.path == "/slow") {
      c.wait_peer_close(10s);  // never answers; the client gives up
    } else {
      c.respond(404, "<title>nope</title>", {}, "text/html");
    }
  });
  http::Crawler crawler(
      {.concurrency = 4, .retries = 2, .backoff = 5ms, .timeout = {.total = 300ms}});
  const auto records = crawl(crawler, {server.url("/")});
  std::map<std::string, http::CrawlRecord> by_path;
  for (const auto& r : records)
    by_path[r.url.starts_with(server.url("/")) ? path_of(r.url) : r.url] = r;

  std::set<std::string> paths;
  for (const auto& [p, r] : by_path) paths.insert(p);
  EXPECT_EQ(paths,
            (std::set<std::string>{"/", "/a", "/b", "/missing", "/boom", "/flaky", "/loop/1",
                                   "/loop/2", "/loop/3", "/loop/4", "/loop/5", "/slow", dead}));
  EXPECT_EQ(records.size(), paths.size());  // /redir led to /a, recorded once
  EXPECT_EQ(crawler.stats().duplicates, 1U);

  EXPECT_EQ(by_path["/missing"].status, 404);
  EXPECT_EQ(by_path["/missing"].attempts, 1);  // a 4xx is not retried
  EXPECT_EQ(by_path["/missing"].title, "nope");
  EXPECT_EQ(by_path["/boom"].status, 500);
  EXPECT_EQ(by_path["/boom"].attempts, 3);  // 1 + 2 retries
  EXPECT_EQ(boom_calls.load(), 3);
  EXPECT_EQ(by_path["/flaky"].status, 200);
  EXPECT_EQ(by_path["/flaky"].attempts, 2);
  EXPECT_TRUE(by_path["/flaky"].ok());
  EXPECT_EQ(by_path["/slow"].status, 0);
  EXPECT_EQ(by_path["/slow"].attempts, 3);
  EXPECT_TRUE(by_path["/slow"].error.starts_with("TimeoutError: ")) << by_path["/slow"].error;
  EXPECT_EQ(by_path[dead].status, 0);
  EXPECT_TRUE(by_path[dead].error.starts_with("ClientConnectorError: Cannot connect to host"))
      << by_path[dead].error;
  EXPECT_EQ(by_path["/loop/3"].depth, 3);
  EXPECT_EQ(crawler.stats().errors, 4U);  // /missing, /boom, /slow, the dead link
  EXPECT_EQ(crawler.stats().retries, 2U + 1U + 2U + 2U);

  // same_host: the link to another port is not followed.
  http::Crawler local({.same_host = true, .retries = 0, .timeout = {.total = 300ms}});
  for (const auto& r : crawl(local, {server.url("/")})) EXPECT_NE(r.url, dead);
}

TEST(Crawler, RobotsRulesAndCrawlDelay) {
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> times;
  TestServer server([&](const TestRequest& r, TestConn& c) {
    if (r.path == "/robots.txt") {
      c.respond(200, "User-agent: *\nDisallow: /secret\nCrawl-delay: 0.05\n");
      return;
    }
    {
      std::lock_guard g(mu);
      times.push_back(std::chrono::steady_clock::now());
    }
    c.respond(200,
              "<title>" + r.path +
                  "</title><a href=/p1>1</a><a href=/p2>2</a><a href=/p3>3</a>"
                  "<a href=/secret>s</a>",
              {}, "text/html");
  });
  http::Crawler polite({.concurrency = 8});
  const auto records = crawl(polite, {server.url("/")});
  EXPECT_EQ(records.size(), 4U);  // /, /p1, /p2, /p3
  EXPECT_EQ(polite.stats().robots_skipped, 1U);
  for (const auto& s : server.seen()) EXPECT_NE(s.path, "/secret");
  {
    std::lock_guard g(mu);
    EXPECT_EQ(times.size(), 4U);
    std::sort(times.begin(), times.end());
    // The crawler spaces the *starts* of its requests by Crawl-delay (50 ms); the server sees
    // arrivals, each late by a scheduling jitter that a loaded machine stretches to ~10 ms and
    // more. One late arrival shortens one gap and lengthens the next by as much, so each gap
    // gets a jitter allowance and the whole span (where the jitters cancel but at its two
    // ends) a tighter one. Requests sent together would fail both.
    for (std::size_t i = 1; i < times.size(); ++i) EXPECT_GE(times[i] - times[i - 1], 25ms);
    EXPECT_GE(times.back() - times.front(), 3 * 50ms - 25ms);
  }
  http::Crawler rude({.respect_robots = false});
  EXPECT_EQ(crawl(rude, {server.url("/")}).size(), 5U);
}

// A site asking for Crawl-delay: 1000000 does not stall the crawl: the delay is capped to
// max_crawl_delay (here 20 ms) and the cap is counted.
TEST(Crawler, CrawlDelayIsCapped) {
  TestServer server([&](const TestRequest& r, TestConn& c) {
    if (r.path == "/robots.txt") {
      c.respond(200, "User-agent: *\nCrawl-delay: 1000000\n");
      return;
    }
    c.respond(200, "<title>" + r.path + "</title><a href=/a>a</a><a href=/b>b</a>", {},
              "text/html");
  });
  http::Crawler crawler({.max_crawl_delay = 20ms});
  const auto began = std::chrono::steady_clock::now();
  const auto records = crawl(crawler, {server.url("/")});  // bounded by crawl()'s 50 s
  EXPECT_EQ(records.size(), 3U);
  EXPECT_EQ(crawler.stats().delays_capped, 1U);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 20s);
}

// Pages above max_body_bytes are stopped while they arrive and recorded as failed, once (a
// retry would be as large); the crawl goes on with the other pages.
TEST(Crawler, PagesAboveTheSizeLimitAreFailedRecords) {
  const std::string huge(std::size_t{4} << 20, 'x');
  TestServer server([&](const TestRequest& r, TestConn& c) {
    if (r.path == "/robots.txt") {
      c.respond(404, "");
    } else if (r.path == "/huge") {
      c.send("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n");
      c.send("<html><title>huge</title>");
      c.send(huge);  // no Content-Length: only the counting stops it
    } else {
      c.respond(200, "<title>root</title><a href=/huge>h</a><a href=/fine>f</a>", {}, "text/html");
    }
  });
  http::Crawler crawler({.max_body_bytes = 64 * 1024});
  const auto records = crawl(crawler, {server.url("/")});
  ASSERT_EQ(records.size(), 3U);
  std::map<std::string, http::CrawlRecord> by_path;
  for (const auto& r : records) by_path[path_of(r.url)] = r;
  EXPECT_TRUE(by_path["/"].ok());
  EXPECT_TRUE(by_path["/fine"].ok());
  const auto& huge_page = by_path["/huge"];
  EXPECT_FALSE(huge_page.ok());
  EXPECT_EQ(huge_page.status, 200);
  EXPECT_EQ(huge_page.attempts, 1);
  EXPECT_NE(huge_page.error.find("ClientResponseTooLarge"), std::string::npos) << huge_page.error;
  EXPECT_EQ(crawler.stats().errors, 1U);
}

// on_record hands out each record in the result's order as soon as its place is settled: the
// first page of a level is written while a later page of that level is still being served.
TEST(Crawler, RecordsAreHandedOutWhileTheLevelRuns) {
  pyconc_test::Gate first_recorded;
  std::atomic<bool> waited_in_time{false};
  TestServer server([&](const TestRequest& r, TestConn& c) {
    if (r.path == "/robots.txt") {
      c.respond(404, "");
    } else if (r.path == "/slow") {  // answers only once /a's record was handed out
      waited_in_time = first_recorded.wait(10s);
      c.respond(200, "<title>slow</title>", {}, "text/html");
    } else {
      c.respond(200, "<title>" + r.path + "</title><a href=/a>a</a><a href=/slow>s</a>", {},
                "text/html");
    }
  });
  std::vector<std::string> streamed;
  http::Crawler crawler(
      {.concurrency = 4, .max_depth = 1, .on_record = [&](const http::CrawlRecord& r) {
         streamed.push_back(path_of(r.url));
         if (path_of(r.url) == "/a") first_recorded.open();
       }});
  const auto records = crawl(crawler, {server.url("/")});
  EXPECT_TRUE(waited_in_time.load());
  std::vector<std::string> returned;
  for (const auto& r : records) returned.push_back(path_of(r.url));
  EXPECT_EQ(streamed, (std::vector<std::string>{"/", "/a", "/slow"}));
  EXPECT_EQ(streamed, returned);
}

TEST(Crawler, CancellingTheCrawlStopsItsRequests) {
  pyconc::Future<void> arrived;
  std::atomic<bool> fired{false};
  std::atomic<int> closed{0};
  TestServer server([&](const TestRequest& r, TestConn& c) {
    if (r.path == "/robots.txt") {
      c.respond(404, "");
      return;
    }
    if (!fired.exchange(true)) arrived.set_result();
    if (c.wait_peer_close(10s)) ++closed;
  });
  http::Crawler crawler;
  aio::run(aio::wait_for(
      [&]() -> aio::Task<> {
        auto t = aio::create_task(crawler.crawl({server.url("/")}));
        co_await arrived;
        t.cancel();
        EXPECT_THROW(co_await t, pyconc::CancelledError);
      }(),
      20s));
  EXPECT_TRUE(server.wait_until([&] { return closed.load() == 1; }));
}

TEST(Crawler, RejectsInvalidStartUrls) {
  http::Crawler crawler;
  EXPECT_THROW(crawl(crawler, {"ftp://127.0.0.1/"}), http::InvalidURL);
  EXPECT_THROW(crawl(crawler, {"http://exa mple.com:99999/"}), http::InvalidURL);
  EXPECT_THROW(http::Crawler({.concurrency = 0}), pyconc::ValueError);
}

}  // namespace

// CrawlerOptions::fetch: the same frontier with pages fetched by a thread pool of blocking
// steps gives exactly the records of the built-in step, and per_host still holds.
TEST(CrawlerModels, ThreadPoolFetchStepGivesTheSameRecords) {
  TestServer server(serve_demo);
  http::Crawler reference({.concurrency = 8, .per_host = 4, .select = "a.post-item-title"});
  const auto expected = crawl(reference, {server.url("/")});
  ASSERT_EQ(expected.size(), 3U + kDemoListPages + kDemoPosts);

  http::CrawlerOptions page_options{.select = "a.post-item-title"};
  pyconc::futures::ThreadPoolExecutor pool(8);
  std::atomic<int> calls{0};
  http::Crawler threaded({.concurrency = 8,
                          .per_host = 3,
                          .select = "a.post-item-title",
                          .fetch = [&](std::string url, int depth) -> aio::Task<http::CrawlPage> {
                            ++calls;
                            auto done = pool.submit([&page_options, url = std::move(url), depth] {
                              return http::fetch_crawl_page_blocking(page_options, url, depth);
                            });
                            co_return co_await std::move(done);
                          }});
  const auto got = crawl(threaded, {server.url("/")});
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].url, expected[i].url);
    EXPECT_EQ(got[i].depth, expected[i].depth);
    EXPECT_EQ(got[i].title, expected[i].title);
    EXPECT_EQ(got[i].items, expected[i].items);
  }
  EXPECT_EQ(calls.load(), static_cast<int>(got.size()));
  EXPECT_EQ(threaded.stats().robots_skipped, 1U);
  EXPECT_GT(threaded.stats().bytes, 0U);
}

TEST(CrawlerModels, CustomFetchStepsKeepThePerHostLimit) {
  std::atomic<int> in_flight{0}, most{0};
  http::Crawler crawler({.concurrency = 16,
                         .per_host = 2,
                         .max_pages = 40,
                         .respect_robots = false,
                         .fetch = [&](std::string url, int depth) -> aio::Task<http::CrawlPage> {
                           const int now = ++in_flight;
                           most = std::max(most.load(), now);
                           co_await aio::sleep(1ms);  // several pages are "in flight" at once
                           --in_flight;
                           http::CrawlPage page;
                           page.record.url = page.record.requested = url;
                           page.record.depth = depth;
                           page.record.status = 200;
                           const int n = std::stoi(url.substr(url.rfind('/') + 1));
                           for (int k = 1; k <= 4; ++k)  // a tree of links on one host
                             page.links.push_back("http://a.test/" + std::to_string(n * 4 + k));
                           co_return page;
                         }});
  const auto records = crawl(crawler, {"http://a.test/0"});
  EXPECT_EQ(records.size(), 40U);
  EXPECT_EQ(most.load(), 2);
}

TEST(CrawlerModels, BlockingStepsDownloadThenParse) {
  TestServer server(serve_demo);
  http::CrawlerOptions o{.select = "a.post-item-title"};
  auto d = http::download_crawl_page_blocking(o, server.url("/list/2"), 1);
  EXPECT_EQ(d.record.status, 200);
  EXPECT_TRUE(d.html);
  EXPECT_EQ(d.record.attempts, 1);
  EXPECT_TRUE(d.record.items.empty());  // not parsed yet
  const auto page = http::parse_crawl_page(o, std::move(d));
  EXPECT_EQ(page.record.items.size(), static_cast<std::size_t>(kDemoPostsPerPage));
  EXPECT_EQ(page.record.items.front().text, demo_post_title(kDemoPostsPerPage + 1));
  EXPECT_FALSE(page.links.empty());
  // Inside a running loop the blocking step refuses (it would stall the loop).
  auto inside = [&]() -> aio::Task<bool> {
    try {
      http::fetch_crawl_page_blocking(o, server.url("/"), 0);
    } catch (const pyconc::RuntimeError&) {
      co_return true;
    }
    co_return false;
  };
  EXPECT_TRUE(aio::run(inside()));
  // A page that is gone: recorded, not thrown.
  const auto missing = http::fetch_crawl_page_blocking(o, server.url("/post/999999"), 2);
  EXPECT_EQ(missing.record.status, 404);
  EXPECT_FALSE(missing.record.ok());
}

// Every page parsed on the default executor (parse_offload_bytes = 0) gives the same records.
TEST(CrawlerModels, ParsingOnTheExecutorGivesTheSameRecords) {
  TestServer server(serve_demo);
  http::Crawler inline_parse({.concurrency = 8,
                              .max_pages = 200,
                              .select = "a.post-item-title",
                              .parse_offload_bytes = SIZE_MAX});
  http::Crawler offloaded({.concurrency = 8,
                           .max_pages = 200,
                           .select = "a.post-item-title",
                           .parse_offload_bytes = 0});
  const auto a = crawl(inline_parse, {server.url("/")});
  const auto b = crawl(offloaded, {server.url("/")});
  ASSERT_EQ(a.size(), 200U);
  ASSERT_EQ(b.size(), a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(b[i].url, a[i].url);
    EXPECT_EQ(b[i].title, a[i].title);
    EXPECT_EQ(b[i].items, a[i].items);
  }
}
