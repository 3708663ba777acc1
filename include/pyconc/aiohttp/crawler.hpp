// pyconc/aiohttp/crawler.hpp -- Crawler: a breadth-first web crawler on ClientSession.
//
// Python: what the seeds build by hand with aiohttp + BeautifulSoup (fetch pages concurrently,
// parse them, follow links, collect `find_all("a", class_="post-item-title")`), as a reusable
// engine:
//   aiohttp::Crawler crawler({.concurrency = 32, .per_host = 8, .max_pages = 200,
//                             .same_host = true, .select = "a.post-item-title"});
//   std::vector<aiohttp::CrawlRecord> pages = co_await crawler.crawl({"http://127.0.0.1:8000/"});
//   for (auto& p : pages) std::cout << p.to_json().dump() << "\n";   // JSON Lines
// What it does:
//   - breadth-first by levels: every page of depth d is fetched (concurrently) before any of
//     depth d + 1, and each level is ordered by discovery (the order of the pages that linked,
//     then of the links in each page), so a crawl's result -- max_pages cut included -- is the
//     same every time;
//   - URLs are normalised (URL::normalized: no fragment, default port, dot segments, escapes)
//     and each is fetched once; a redirect's target counts as fetched too;
//   - robots.txt is fetched once per origin and honoured (RobotFileParser: RFC 9309 matching,
//     a 5xx or timed-out robots.txt disallows the site, 4xx allows it; a host that refuses
//     connections is tried anyway, so its links are recorded as errors), Crawl-delay spaces
//     the requests to that origin; respect_robots = false turns it off;
//   - concurrency and per-host limits are the crawler's session's connection limits;
//   - failures are retried with exponential backoff (backoff, 2 x backoff, ...): 5xx answers,
//     timeouts, refused or dropped connections, cut bodies; after the last try the page is
//     recorded with its status or error. Other errors (4xx, too many redirects, invalid URLs)
//     are recorded at once;
//   - links are the crawlable <a href>/<area href> of HTML pages (html::Document::crawl_links,
//     resolved against <base>); `select` picks the items recorded for each page (href made
//     absolute, text whitespace-collapsed).
// Records come back in the crawl's order; on_page is called as each page completes (in
// completion order), for progress; on_record as each record takes its place (crawl order), to
// stream the result out while the crawl runs.
// On disk: with `state` (a CrawlState, crawl_state.hpp) the frontier, the seen-set and the
// records live in SQLite -- bounded memory -- and a crawl stopped any way resumes where it was
// (`pyconc crawl --state DIR`).
//
// Crawl models. By default the pages are fetched by `concurrency` coroutines on the crawler's
// own session. `CrawlerOptions::fetch` replaces that step and only that step: the crawler
// still owns the frontier (levels, dedup, robots.txt, Crawl-delay before each page, max_pages,
// the merge in discovery order), so every model yields the same records. The blocking helpers
// below do what the built-in step does (same retries, same parsing) outside the event loop:
//   .fetch = [&](std::string url, int depth) -> aio::Task<CrawlPage> {   // a thread pool
//     co_return co_await pool.submit(fetch_crawl_page_blocking, std::cref(opts), url, depth);
//   }
// `pyconc crawl --model threads|pipeline|processes` is built this way (tools/pyconc/crawl.cpp).
//
// Cancellation: cancelling the task awaiting crawl() cancels the pages in flight (their
// connections are closed) and throws CancelledError. Thread safety: a Crawler is used from one
// event loop (its session's); crawl() may be called again after the previous one finished.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/function.hpp"

#include <nlohmann/json_fwd.hpp>

#include "pyconc/aiohttp/client_options.hpp"
#include "pyconc/aiohttp/multidict.hpp"
#include "pyconc/aiohttp/url.hpp"
#include "pyconc/asyncio/task.hpp"

namespace pyconc::detail {
struct CrawlerState;
}

namespace pyconc::aiohttp {

class CrawlState;

// One item a page's `select` matched.
struct CrawlItem {
  std::string href;  // absolute URL
  std::string text;  // whitespace collapsed
  friend bool operator==(const CrawlItem&, const CrawlItem&) = default;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(href, text);
  }
};

// One fetched page.
struct CrawlRecord {
  std::string url;        // the final URL after redirects (the requested one if none came)
  std::string requested;  // the URL the crawl queued
  int status = 0;         // 0: no response (see error)
  int depth = 0;          // 0 for the start URLs
  std::string title;      // the <title> text, "" if none
  std::vector<CrawlItem> items;
  std::string error;  // empty unless the page failed (after retries): "<Type>: <message>"
  int attempts = 1;
  bool ok() const { return error.empty() && status >= 200 && status < 400; }
  template <class Archive>
  void serialize(Archive& ar) {
    ar(url, requested, status, depth, title, items, error, attempts);
  }
  // The JSON Lines object of `pyconc crawl --out`: {"url", "status", "depth", "title",
  // "items": [{"href", "text"}]} in that order (plus "error" when there is one).
  // Using the value needs <pyconc/aiohttp/json.hpp>.
  nlohmann::ordered_json to_json() const;
  // to_json() as one line of JSON (no newline), invalid UTF-8 replaced: what `--out` writes,
  // and what CrawlState keeps.
  std::string json_line() const;
};

// A page downloaded (retries done) but not parsed yet: what a download stage hands to a parse
// stage (the pipeline model).
struct CrawlDownload {
  CrawlRecord record;     // url, requested, status, depth, attempts, error; no title/items yet
  std::string body;       // the decoded HTML when the page is to be parsed, else empty
  bool html = false;      // an HTML answer within max_body_bytes: parse_crawl_page parses it
  std::size_t bytes = 0;  // body bytes received
  int retries = 0;        // extra attempts made
};

// One page as the crawler merges it: its record and the links to follow.
struct CrawlPage {
  CrawlRecord record;
  std::vector<std::string> links;  // crawlable links (absolute, normalised) of a 2xx HTML page
  std::size_t bytes = 0;
  int retries = 0;
  std::size_t links_too_long = 0;  // links longer than html::kMaxLinkLength, not followed
  template <class Archive>
  void serialize(Archive& ar) {
    ar(record, links, bytes, retries, links_too_long);
  }
};

struct CrawlStats {
  std::size_t pages = 0;           // records produced (this run)
  std::size_t resumed = 0;         // records a CrawlState held from earlier runs
  std::size_t errors = 0;          // records with an error or a status >= 400
  std::size_t retries = 0;         // extra attempts made
  std::size_t robots_skipped = 0;  // URLs robots.txt disallowed
  std::size_t duplicates = 0;      // redirects to a page fetched already (not recorded twice)
  std::size_t bytes = 0;           // body bytes received
  std::size_t delays_capped = 0;   // origins whose Crawl-delay was cut to max_crawl_delay
  std::size_t links_too_long = 0;  // links skipped for their length (html::kMaxLinkLength)
  std::chrono::steady_clock::duration elapsed{};
};

// Crawler(...)'s options; at namespace scope for designated initializers.
struct CrawlerOptions {
  std::size_t concurrency{32};  // pages in flight at once (the session's limit)
  std::size_t per_host{8};      // connections per host (the session's limit_per_host)
  std::size_t max_pages{0};     // stop after this many records (0: no limit)
  int max_depth{-1};            // follow links this deep (0: the start URLs only; -1: no limit)
  bool same_host{false};        // follow only links to the hosts of the start URLs
  std::string select{};         // CSS selector of the items to record ("" = none)
  bool respect_robots{true};
  // Sent as User-Agent; its product token ("pyconc") is what robots.txt groups are matched on.
  std::string user_agent{"pyconc/0.1 (aiohttp-style crawler)"};
  int retries{2};                          // extra attempts after a retryable failure
  std::chrono::milliseconds backoff{200};  // before the first retry; doubles each time
  ClientTimeout timeout{.total = std::chrono::seconds(30)};  // per page (each attempt)
  // The largest page, in bytes after decoding: a larger one is stopped while it arrives (its
  // Content-Length alone may say so) and recorded as failed ("ClientResponseTooLarge: ..."), not
  // retried. 0: no limit. `pyconc crawl --max-page-size`.
  std::size_t max_body_bytes{std::size_t{16} << 20};
  // Crawl-delay values of robots.txt above this are capped to it (a site asking for 10^6 s
  // would stall the crawl forever; the wait is outside `timeout`); CrawlStats::delays_capped
  // counts the origins capped. `pyconc crawl --max-crawl-delay`.
  std::chrono::milliseconds max_crawl_delay{std::chrono::seconds(5)};
  // HTML pages of at least this many bytes are parsed on the loop's default executor
  // (asyncio::to_thread) instead of the loop thread: parsing is CPU work (gumbo: ~25 MB/s), and
  // on the loop it would hold up every other transfer -- the advice Python gives for
  // BeautifulSoup in asyncio code (run_in_executor), which pays off here since there is no GIL.
  // SIZE_MAX: always on the loop thread. (Only the built-in step; `fetch` steps parse where
  // they run.)
  std::size_t parse_offload_bytes{32 * 1024};
  CIMultiDict headers{};                              // sent with every request
  std::function<void(const CrawlRecord&)> on_page{};  // progress: each page as it completes
  // Each record as it takes its place in the crawl's result, in the result's order, moments
  // after its page completed (when every page discovered before it is done too): write it out
  // here and a crawl that is stopped, cancelled or crashes keeps every record handed out.
  // Redirect duplicates never reach it. Called in the loop thread.
  std::function<void(const CrawlRecord&)> on_record{};
  // Fetches one page instead of the built-in coroutine step (see "Crawl models" above). Called
  // in the loop thread, up to `concurrency` at once; an exception it throws ends the crawl.
  std::function<asyncio::Task<CrawlPage>(std::string url, int depth)> fetch{};
  // The frontier, seen-set and records on disk (crawl_state.hpp): the crawl runs in bounded
  // memory -- the frontier is read a window of max(1024, 16 x concurrency) URLs at a time, in
  // crawl order -- and a crawl given a state that holds an unfinished crawl resumes it: the
  // pages recorded there are not fetched again, the order (levels, discovery) and max_depth
  // go on as if never stopped, and max_pages counts the records of every run. The start URLs,
  // max_depth, same_host, select, respect_robots and user_agent must be those of the state's
  // crawl (ValueError otherwise); the other options may change between runs. With a state,
  // crawl() returns no records (they are in the state: CrawlState::for_each_record, and go
  // through on_record as they are placed); stats().resumed counts the earlier runs' records.
  // The crawler commits the state after each window and when the crawl ends, is cancelled or
  // fails. Not shared between crawls running at once.
  std::shared_ptr<CrawlState> state{};
};

// The crawler's per-page step, usable outside the crawler's event loop (threads, processes).
// Blocking; each calling thread uses its own event loop and ClientSession (as pyconc::requests),
// with the options' User-Agent, headers and timeout on every request. Page failures are in the
// record (never thrown); RuntimeError if the calling thread runs an event loop.
// Thread safety: any thread; `options` is only read.
CrawlDownload download_crawl_page_blocking(const CrawlerOptions& options, const std::string& url,
                                           int depth);
// Parses a download: title, `select` items, links. Pure; any thread.
CrawlPage parse_crawl_page(const CrawlerOptions& options, CrawlDownload download);
// Both: parse_crawl_page(options, download_crawl_page_blocking(options, url, depth)).
CrawlPage fetch_crawl_page_blocking(const CrawlerOptions& options, const std::string& url,
                                    int depth);

class Crawler {
 public:
  explicit Crawler(CrawlerOptions options = {});
  ~Crawler();
  Crawler(const Crawler&) = delete;
  Crawler& operator=(const Crawler&) = delete;

  // Crawls from `start` (absolute http(s) URLs, depth 0). InvalidURL for a start URL that is
  // not one; page failures are records, not exceptions.
  asyncio::Task<std::vector<CrawlRecord>> crawl(std::vector<std::string> start);
  // Figures of the last (or running) crawl.
  const CrawlStats& stats() const noexcept;
  const CrawlerOptions& options() const noexcept;

 private:
  std::shared_ptr<detail::CrawlerState> s_;
};

}  // namespace pyconc::aiohttp
