// pyconc/aiohttp/crawl_state.hpp -- CrawlState: a crawl's frontier, seen-set and finished
// pages on disk (SQLite), so a crawl of millions of URLs runs in bounded memory and resumes
// where it stopped.
//
// Python: Scrapy's JOBDIR (`scrapy crawl -s JOBDIR=dir`) and Heritrix's checkpointed frontier;
// here one SQLite file, DIR/state.sqlite (WAL journal, synchronous=NORMAL), with three tables:
//   seen      every normalised URL ever queued, and every final URL recorded (the dedup set)
//   frontier  (seq, depth, url): the URLs queued and not finished, in crawl order (seq grows
//             with discovery, so ORDER BY seq is the breadth-first order)
//   done      (seq, url, ..., line): each finished page's record, in the crawl's order, with
//             its `--out` JSON line -- the state is the source of truth for the output
// plus `meta`: the crawl's start URLs and the settings that decide its result, so that resuming
// with other ones is refused (begin()). `pyconc crawl --state DIR` is built on it; a Crawler uses
// it through CrawlerOptions::state:
//   auto state = std::make_shared<aiohttp::CrawlState>("crawl.state");
//   aiohttp::Crawler crawler({.state = state, .on_record = write_out});
//   co_await crawler.crawl({"https://example.org/"});   // resumes if the state holds a crawl
//
// Writes are batched: they join an open transaction that is committed every `batch` finished
// pages (or `commit_interval`, whichever comes first) and at commit() (the crawler commits after each window of pages and when the crawl
// ends, is cancelled or fails). A transaction holds a page's record, the removal of its
// frontier row and the links it queued, so after any crash -- SIGKILL, power loss included --
// the file is a consistent state: at most the last uncommitted batch is lost, and those pages
// are still in the frontier, fetched again on resume and recorded once.
//
// DIR is locked (flock on DIR/state.lock) for the object's life: a second CrawlState on the
// same DIR, in this process or another, fails with RuntimeError instead of corrupting it.
// Thread safety: none; one thread at a time (the crawler uses it from its loop thread). Every
// call may block on disk I/O (µs per call; a commit is one WAL append, no fsync in
// synchronous=NORMAL). SQLite failures throw OSError (with SQLite's message and the file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pyconc/aiohttp/crawler.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/function.hpp"

namespace pyconc::aiohttp {

// CrawlState(...)'s options; at namespace scope for designated initializers.
struct CrawlStateOptions {
  // Finished pages per transaction: larger amortises the commit (a WAL append) over more
  // pages; smaller loses fewer pages to a crash (they are fetched again on resume).
  std::size_t batch{256};
  // ... or when the open transaction is this old at a record(): a slow crawl (pages that take
  // seconds) loses at most about this much work to a crash.
  std::chrono::milliseconds commit_interval{1000};
};

// One queued URL.
struct CrawlFrontierEntry {
  std::int64_t seq = 0;  // its place in the crawl's order
  int depth = 0;
  std::string url;  // normalised
  friend bool operator==(const CrawlFrontierEntry&, const CrawlFrontierEntry&) = default;
};

class CrawlState {
 public:
  static constexpr std::string_view kFileName = "state.sqlite";
  // A setting that decides a crawl's result, by name ("max_depth") and value ("2").
  using Setting = std::pair<std::string, std::string>;

  // Opens DIR/state.sqlite, creating DIR (one level) and the file if needed. OSError if DIR
  // cannot be created or the file cannot be opened (or is not a pyconc crawl state: ValueError);
  // RuntimeError if another CrawlState holds DIR.
  explicit CrawlState(std::string dir, CrawlStateOptions options = {});
  ~CrawlState();  // commits the open batch (errors ignored: the batch is lost, not corrupted)
  CrawlState(const CrawlState&) = delete;
  CrawlState& operator=(const CrawlState&) = delete;

  const std::string& dir() const noexcept;
  std::string path() const;  // DIR/state.sqlite

  // ---- the crawl this state belongs to ----
  // True once begin() has recorded a crawl.
  bool started() const;
  // Started and nothing is left in the frontier.
  bool finished() const;
  // A fresh state records `start` (normalised URLs) and `settings`, queues the start URLs at
  // depth 0 (each once) and commits. A started one checks that they are the same: ValueError
  // naming the first difference ("the state in DIR is a crawl of ...; this one starts at ...").
  void begin(const std::vector<std::string>& start, const std::vector<Setting>& settings);
  std::vector<std::string> start_urls() const;  // empty if not started
  // Free-form values a tool keeps with the crawl (e.g. which port its demo site used).
  std::optional<std::string> meta(const std::string& key) const;
  void set_meta(const std::string& key, const std::string& value);

  // ---- seen-set and frontier ----
  bool seen(const std::string& url) const;
  // Adds `url` to the seen-set; true if it was not there.
  bool add_seen(const std::string& url);
  // Adds `url` to the seen-set and, if it was new, to the end of the frontier at `depth`.
  bool enqueue(const std::string& url, int depth);
  // The first `n` entries of the frontier, in crawl order (a bounded window: the frontier
  // itself never comes into memory).
  std::vector<CrawlFrontierEntry> frontier(std::size_t n) const;
  std::size_t frontier_size() const;
  // Takes `seq` off the frontier without a record (robots.txt disallowed it, or it redirected
  // to a page recorded already). Its URL stays seen.
  void drop(std::int64_t seq);

  // ---- finished pages ----
  // True if a record with this final (normalised) URL exists.
  bool recorded(const std::string& final_url) const;
  // Finishes frontier entry `seq` with `record` (whose final URL, normalised, is `final_url`:
  // it joins the seen-set). The record gets the next place in the output.
  void record(std::int64_t seq, const std::string& final_url, const CrawlRecord& record);
  std::size_t pages_done() const;
  // Calls `fn` with each record from place `from` (0-based) on, in the crawl's order, with its
  // `--out` line (CrawlRecord::json_line()). The records are read in batches: memory stays
  // bounded whatever their number. `fn` must not write to this state.
  void for_each_record(const std::function<void(const CrawlRecord&, std::string_view line)>& fn,
                       std::size_t from = 0) const;

  // Commits the open batch (no-op if none).
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> p_;
};

}  // namespace pyconc::aiohttp
