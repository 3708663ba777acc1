// bench/crawl_state_main.cpp -- what `pyconc crawl --state` costs and what it saves.
//   crawl_state_bench cost [PAGES]        the state's work per merged page (its record and 25
//                                         links, most of them seen already, as on the demo
//                                         site) beside the in-memory sets' work, same process
//   crawl_state_bench memory [--state DIR] [--links L] [--max-pages N]
//                                         crawls a generated site on a loopback server -- each
//                                         page links to L new pages -- and prints the peak RSS:
//                                         without a state the frontier and seen-set grow with
//                                         the links (N x L URLs), with one they stay on disk
// A plain program (bench/crawl_state.sh runs both and prints the table of docs/benchmarks.md).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "pyconc/aiohttp.hpp"
#include "pyconc/aiohttp/crawl_state.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc_demo/server.hpp"

namespace aio = pyconc::asyncio;
namespace http = pyconc::aiohttp;
namespace web = pyconc::aiohttp::web;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

long peak_rss_kib() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// The links of page `i` of the cost workload: 5 new URLs, 20 seen already (navigation).
std::vector<std::string> links_of(std::size_t i) {
  std::vector<std::string> v;
  for (std::size_t k = 0; k < 5; ++k)
    v.push_back("http://127.0.0.1:8000/post/" + std::to_string(i * 5 + k));
  for (std::size_t k = 0; k < 20; ++k)
    v.push_back("http://127.0.0.1:8000/list/" + std::to_string(k));
  return v;
}

int cost(std::size_t pages) {
  const std::string dir = (std::filesystem::temp_directory_path() / "crawl_state_bench").string();
  std::filesystem::remove_all(dir);
  std::vector<std::vector<std::string>> links;
  for (std::size_t i = 0; i < pages; ++i) links.push_back(links_of(i));
  http::CrawlRecord rec;
  rec.status = 200;
  rec.title = "pyconc demo blog - a post of a typical length";
  rec.items = {{"http://127.0.0.1:8000/post/1", "a title"}};

  // In memory: what the crawler does without a state (seen-set, recorded set, next level).
  auto t0 = Clock::now();
  {
    std::unordered_set<std::string> seen, fetched;
    std::vector<std::string> next;
    for (std::size_t i = 0; i < pages; ++i) {
      const std::string url = "http://127.0.0.1:8000/page/" + std::to_string(i);
      fetched.insert(url);
      seen.insert(url);
      for (const auto& l : links[i])
        if (seen.insert(l).second) next.push_back(l);
    }
  }
  const double memory_us = seconds_since(t0) * 1e6 / static_cast<double>(pages);

  // The state: the same operations, plus the record's line, batched transactions.
  double state_us = 0;
  {
    http::CrawlState state(dir);
    std::vector<std::string> start;
    for (std::size_t i = 0; i < pages; ++i)
      start.push_back("http://127.0.0.1:8000/page/" + std::to_string(i));
    state.begin(start, {});
    const auto queued = state.frontier(pages);
    t0 = Clock::now();
    for (std::size_t i = 0; i < pages; ++i) {
      rec.url = rec.requested = queued[i].url;
      if (!state.recorded(rec.url)) state.record(queued[i].seq, rec.url, rec);
      for (const auto& l : links[i]) state.enqueue(l, 1);
    }
    state.commit();
    state_us = seconds_since(t0) * 1e6 / static_cast<double>(pages);
  }
  const auto bytes = std::filesystem::file_size(dir + "/state.sqlite");
  std::filesystem::remove_all(dir);
  std::printf("per merged page (1 record, 25 links: 5 new, 20 seen), %zu pages\n", pages);
  std::printf("  in-memory sets     %8.2f us/page\n", memory_us);
  std::printf("  CrawlState         %8.2f us/page  (%.1fx; %.0f bytes/page on disk)\n", state_us,
              state_us / memory_us, static_cast<double>(bytes) / static_cast<double>(pages));
  return 0;
}

int memory(int argc, char** argv) {
  std::string state_dir;
  std::size_t links = 100;
  std::size_t max_pages = 2101;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--state") {
      state_dir = argv[i + 1];
    } else if (a == "--links") {
      links = std::stoul(argv[i + 1]);
    } else if (a == "--max-pages") {
      max_pages = std::stoul(argv[i + 1]);
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  // Page n links to pages n*L+1 .. n*L+L: a tree whose frontier grows L-fold per level.
  web::Application app;
  app.router().add_get("/{n}", [links](web::Request& req) -> aio::Task<web::Response> {
    const std::size_t n = std::stoul(req.match_info("n"));
    std::string body = "<title>page " + std::to_string(n) + "</title>";
    for (std::size_t k = 1; k <= links; ++k) {
      const std::string to = std::to_string(n * links + k);
      body += "<a href=\"/" + to + "\">" + to + "</a>\n";
    }
    co_return web::Response(std::move(body), {.content_type = "text/html"});
  });
  pyconc::demo::ServerThread server(app);
  std::shared_ptr<http::CrawlState> state;
  if (!state_dir.empty()) {
    std::filesystem::remove_all(state_dir);
    state = std::make_shared<http::CrawlState>(state_dir);
  }
  const long before = peak_rss_kib();
  http::Crawler crawler(
      {.concurrency = 32, .max_pages = max_pages, .respect_robots = false, .state = state});
  const auto t0 = Clock::now();
  const auto records = aio::run(crawler.crawl({server.url("/0")}));
  const double secs = seconds_since(t0);
  const std::size_t pages = state ? crawler.stats().pages : records.size();
  std::printf(
      "%-10s %zu pages, %zu links each (%zu URLs queued): %.2f s, peak RSS %ld MiB "
      "(%ld MiB before the crawl)\n",
      state ? "--state" : "in memory", pages, links, pages * links, secs, peak_rss_kib() / 1024,
      before / 1024);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "cost") return cost(argc > 2 ? std::stoul(argv[2]) : 100000);
  if (mode == "memory") return memory(argc, argv);
  std::fprintf(stderr,
               "usage: crawl_state_bench cost [PAGES] | memory [--state DIR] [--links L] "
               "[--max-pages N]\n");
  return 2;
}
