// tools/pyconc/crawl.cpp -- `pyconc crawl`.
//
// One frontier, four ways to fetch. aiohttp::Crawler owns what makes a crawl correct and
// polite (levels, URL normalisation and dedup, robots.txt, Crawl-delay, max_pages/max_depth,
// the merge in discovery order); the model decides only how a page is fetched:
//   asyncio    `concurrency` coroutines on one ClientSession (the Crawler's own step)
//   threads    a ThreadPoolExecutor of `concurrency` threads, each fetching with blocking
//              calls on its own loop and session (the seeds' pool.map(craw, urls))
//   pipeline   the seeds' producer-consumer: download threads and parse threads joined by
//              two bounded queue::Queue (url_queue -> craw -> html_queue -> parse)
//   processes  a ProcessPoolExecutor: each worker process downloads and parses
//   mpi        an mpi::MPIPoolExecutor (when pyconc::mpi is built): the frontier stays here,
//              the worker ranks -- this tool spawned again with MPI_Comm_spawn, on this host
//              or where the MPI launcher's hostfile puts them -- download and parse
// so every model yields the same records, and the summary can compare their wall times.
// With no URL the embedded demo site is started in-process and crawled, and the result is
// checked against the site's known pages.
// --state DIR puts the frontier, the seen-set and the records in an aiohttp::CrawlState
// (SQLite): any model, bounded memory, and the same command resumes an interrupted crawl; the
// state is the source of truth, and --out is made to agree with it before a resumed run
// appends (RecordWriter, reconcile_out).
#include "crawl.hpp"
#include "trace_cli.hpp"
#if PYCONC_TOOL_HAVE_MPI
#include "pyconc/mpi.hpp"
#endif

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <pyconc/aiohttp.hpp>
#include <pyconc/aiohttp/crawl_state.hpp>
#include <pyconc/aiohttp/json.hpp>
#include <pyconc/asyncio.hpp>
#include <pyconc/detail/cpu.hpp>
#include <pyconc/detail/trace.hpp>
#include <pyconc/futures.hpp>
#include <pyconc/multiprocessing/process_pool_executor.hpp>
#include <pyconc/queue.hpp>
#include <pyconc/threading.hpp>
#include <pyconc_demo/server.hpp>
#include <pyconc_demo/site.hpp>

namespace pyconc::tool {

namespace {

namespace aio = pyconc::asyncio;
namespace http = pyconc::aiohttp;
namespace cf = pyconc::futures;
namespace th = pyconc::threading;
using Clock = std::chrono::steady_clock;

struct CrawlArgs {
  std::vector<std::string> urls;
  std::size_t concurrency = 32;
  std::size_t per_host = 8;
  std::size_t max_pages = 0;
  int max_depth = -1;
  bool same_host = false;
  std::string select;
  std::string out;
  std::string model = "asyncio";
  int processes = 0;  // 0: min(concurrency, 2 x CPUs)
  double delay_ms = 5;
  bool no_robots = false;
  int retries = 2;
  double timeout_s = 30;
  std::size_t max_page_size = std::size_t{16} << 20;
  double max_crawl_delay_s = 5;
  std::string progress = "auto";
  std::string trace;  // --trace out.html
  std::string state;  // --state DIR
};

// Exit statuses of `pyconc crawl` (documented in --help and docs/aiohttp.md), after wget's:
// 0 the crawl ran (failed pages beyond the start URLs are reported, not fatal); 1 an error
// stopped it (or the demo check failed); 2 a wrong command line; 4 every start URL failed,
// none with an HTTP error status (DNS, connection, timeout, page too large); 8 every start URL
// failed and at least one answered with an HTTP error status (>= 400).
constexpr int kExitNetworkFailure = 4;
constexpr int kExitServerError = 8;

// ---- the processes model: what a worker process runs ----

// The options a worker needs (CrawlerOptions holds std::functions: not serializable).
struct PageConfig {
  std::string select;
  std::string user_agent;
  int retries = 2;
  long long backoff_ms = 200;
  long long timeout_ms = 30000;
  std::size_t max_body = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(select, user_agent, retries, backoff_ms, timeout_ms, max_body);
  }
};

PageConfig page_config(const http::CrawlerOptions& o) {
  PageConfig c;
  c.select = o.select;
  c.user_agent = o.user_agent;
  c.retries = o.retries;
  c.backoff_ms = o.backoff.count();
  c.timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     o.timeout.total.value_or(Clock::duration{}))
                     .count();
  c.max_body = o.max_body_bytes;
  return c;
}

// Runs in a worker process of the pool (found there by its address, see
// multiprocessing/process_pool_executor.hpp).
http::CrawlPage crawl_page_in_worker(std::string url, int depth, PageConfig c) {
  http::CrawlerOptions o;
  o.select = std::move(c.select);
  o.user_agent = std::move(c.user_agent);
  o.retries = c.retries;
  o.backoff = std::chrono::milliseconds(c.backoff_ms);
  if (c.timeout_ms > 0) o.timeout.total = std::chrono::milliseconds(c.timeout_ms);
  o.max_body_bytes = c.max_body;
  return http::fetch_crawl_page_blocking(o, url, depth);
}

// ---- the pipeline model: the seeds' url_queue -> craw -> html_queue -> parse ----

class Pipeline {
 public:
  Pipeline(const http::CrawlerOptions& page_options, std::size_t downloaders, std::size_t parsers)
      : o_(page_options),
        downloaders_(downloaders),
        url_queue_(static_cast<int>(downloaders)),
        html_queue_(static_cast<int>(2 * parsers)) {
    for (std::size_t i = 0; i < downloaders; ++i) {
      threads_.emplace_back(th::ThreadOptions{.name = "craw" + std::to_string(i)},
                            [this] { craw(); });
    }
    for (std::size_t i = 0; i < parsers; ++i) {
      threads_.emplace_back(th::ThreadOptions{.name = "parse" + std::to_string(i)},
                            [this] { parse(); });
    }
    for (auto& t : threads_) t.start();
  }
  ~Pipeline() {
    url_queue_.shutdown();  // downloaders finish what is queued, then leave
    for (std::size_t i = 0; i < threads_.size(); ++i) {
      if (i == downloaders_) html_queue_.shutdown();  // every download is in html_queue
      threads_[i].join();
    }
  }
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Called in the crawler's loop thread, at most `downloaders` pages at once: the url queue
  // (maxsize = downloaders) has room, so this never blocks the loop.
  pyconc::Future<http::CrawlPage> submit(std::string url, int depth) {
    pyconc::Future<http::CrawlPage> done;
    url_queue_.put_nowait(Job{std::move(url), depth, done});
    return done;
  }

 private:
  struct Job {
    std::string url;
    int depth = 0;
    pyconc::Future<http::CrawlPage> done;
  };
  struct Html {
    http::CrawlDownload download;
    pyconc::Future<http::CrawlPage> done;
  };

  void craw() {
    for (;;) {
      Job job;
      try {
        job = url_queue_.get();
      } catch (const queue::ShutDown&) {
        return;
      }
      if (!job.done.set_running_or_notify_cancel()) continue;
      try {
        html_queue_.put(Html{http::download_crawl_page_blocking(o_, job.url, job.depth), job.done});
      } catch (...) {
        job.done.set_exception(std::current_exception());
      }
    }
  }

  void parse() {
    for (;;) {
      Html item;
      try {
        item = html_queue_.get();
      } catch (const queue::ShutDown&) {
        return;
      }
      try {
        item.done.set_result(http::parse_crawl_page(o_, std::move(item.download)));
      } catch (...) {
        item.done.set_exception(std::current_exception());
      }
    }
  }

  const http::CrawlerOptions& o_;
  std::size_t downloaders_;
  queue::Queue<Job> url_queue_;
  queue::Queue<Html> html_queue_;
  std::vector<th::Thread> threads_;  // downloaders first, then parsers
};

// ---- progress and summary ----

class Progress {
 public:
  Progress(bool enabled, std::size_t max_pages) : enabled_(enabled), max_pages_(max_pages) {}

  void page(const http::CrawlRecord& r) {
    ++pages_;
    if (!r.ok()) ++errors_;
    depth_ = std::max(depth_, r.depth);
    if (!enabled_) return;
    const auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    draw(now);
  }
  void finish() {
    if (enabled_ && pages_ > 0) std::cerr << "\r\033[K" << std::flush;
  }

 private:
  void draw(Clock::time_point now) {
    const double secs = std::chrono::duration<double>(now - start_).count();
    std::ostringstream line;
    line << "\r\033[K";
    if (max_pages_ > 0) {
      const int width = 24;
      const auto filled =
          static_cast<int>(width * std::min<std::size_t>(pages_, max_pages_) / max_pages_);
      line << "[" << std::string(static_cast<std::size_t>(filled), '#')
           << std::string(static_cast<std::size_t>(width - filled), '.') << "] ";
    }
    line << pages_ << (max_pages_ > 0 ? "/" + std::to_string(max_pages_) : std::string())
         << " pages  " << static_cast<long long>(secs > 0 ? pages_ / secs : 0) << " pages/s  depth "
         << depth_ << "  errors " << errors_;
    std::cerr << line.str() << std::flush;
  }

  bool enabled_;
  std::size_t max_pages_;
  std::size_t pages_ = 0;
  std::size_t errors_ = 0;
  int depth_ = 0;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_{};
};

std::string with_commas(std::size_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string format_bytes(std::size_t n) {
  char buf[32];
  if (n >= 1000000) {
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(n) / 1e6);
  } else if (n >= 1000) {
    std::snprintf(buf, sizeof buf, "%.1f kB", static_cast<double>(n) / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%zu B", n);
  }
  return buf;
}

// Calls its argument with each record of the crawl, in order: from memory, or read back from
// the --state (every run's records, never all in memory at once).
using RecordSource = std::function<void(const std::function<void(const http::CrawlRecord&)>&)>;

// Compares a full crawl of the demo site with what the site holds. Returns "" if it matches,
// else what differs.
std::string check_demo_crawl(const RecordSource& records, bool with_items) {
  using pyconc::demo::demo_post_title;
  using pyconc::demo::kDemoListPages;
  using pyconc::demo::kDemoPosts;
  std::set<std::string> expected{"/", "/about", "/robots.txt"};
  for (int n = 1; n <= kDemoListPages; ++n) expected.insert("/list/" + std::to_string(n));
  for (int id = 1; id <= kDemoPosts; ++id) expected.insert("/post/" + std::to_string(id));
  std::multiset<std::string> got;
  std::map<int, std::string> titles;  // post id -> the item text found for it
  std::size_t bad_items = 0;
  records([&](const http::CrawlRecord& r) {
    got.insert(http::URL(r.url).raw_path_qs());
    for (const auto& item : r.items) {
      const std::string path = http::URL(item.href).raw_path_qs();
      if (!path.starts_with("/post/")) {
        ++bad_items;
        continue;
      }
      const int id = std::stoi(path.substr(6));
      titles[id] = item.text;
    }
  });
  std::ostringstream why;
  for (const auto& p : expected) {
    if (got.count(p) != 1) why << p << " fetched " << got.count(p) << " times; ";
  }
  for (const auto& p : got) {
    if (!expected.contains(p)) why << "unexpected page " << p << "; ";
  }
  if (with_items) {
    if (bad_items > 0) why << bad_items << " items that are not posts; ";
    for (int id = 1; id <= kDemoPosts; ++id) {
      auto it = titles.find(id);
      if (it == titles.end()) {
        why << "post " << id << " not among the items; ";
      } else if (it->second != demo_post_title(id)) {
        why << "post " << id << " titled \"" << it->second << "\"; ";
      }
    }
  }
  std::string s = why.str();
  if (s.size() > 600) s = s.substr(0, 600) + "...";
  return s;
}

struct Outcome {
  // Every record placed (all of them unless stopped); empty with --state, which holds them.
  std::vector<http::CrawlRecord> records;
  http::CrawlStats stats;
  std::string interrupted;  // "SIGINT" / "SIGTERM" when a signal stopped the crawl
};

// The crawl as the main task: SIGTERM cancels it (as Ctrl+C does through aio::run), so both end
// the crawl gracefully -- the pages in flight are cancelled, every placed record is kept.
aio::Task<> crawl_main(http::Crawler& crawler, std::vector<std::string> urls) {
  aio::TaskRef self = aio::current_task();
  aio::get_running_loop().add_signal_handler(SIGTERM, [self]() mutable { self.cancel("SIGTERM"); });
  (void)co_await crawler.crawl(std::move(urls));
}

// `--out FILE` of a --state crawl: makes FILE hold exactly the first `records` records of the
// state (those of the earlier runs), one line each, in order -- the state is the source of
// truth. Lines beyond them (written before a crash lost their batch: those pages are fetched
// again) are cut; lines missing (the file was lost, or is older than the state) are written
// back from the state. The lines that agree stay as they are: only the file's tail moves.
void reconcile_out(const std::string& path, const http::CrawlState& state, std::size_t records) {
  std::size_t lines = 0;
  off_t keep = 0;  // the bytes of those complete lines
  bool exists = false;
  {
    std::ifstream in(path, std::ios::binary);
    exists = static_cast<bool>(in);
    std::vector<char> buf(std::size_t{1} << 16);
    off_t pos = 0;
    while (in && lines < records) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      const auto n = static_cast<std::size_t>(in.gcount());
      for (std::size_t i = 0; i < n && lines < records; ++i) {
        if (buf[i] == '\n') {
          ++lines;
          keep = pos + static_cast<off_t>(i) + 1;
        }
      }
      pos += static_cast<off_t>(n);
    }
  }
  if (exists && ::truncate(path.c_str(), keep) != 0) throw pyconc::OSError(errno, path);
  std::ofstream os(path, std::ios::binary | std::ios::app);
  if (!os) throw pyconc::OSError(errno, path);
  std::size_t place = lines;
  state.for_each_record(
      [&](const http::CrawlRecord&, std::string_view line) {
        if (place++ < records) os << line << '\n';
      },
      lines);
  os.flush();
  if (!os) throw pyconc::OSError(EIO, path);
}

// `--out`: each record written as a JSON line the moment the crawler places it, and flushed,
// so a crawl that is interrupted or crashes leaves every placed page on disk. With a --state,
// the file is first made to agree with the state's earlier records (reconcile_out), once the
// crawl has accepted the state -- at the first record, or at finish() -- and then appended to.
class RecordWriter {
 public:
  RecordWriter(const std::string& path, const http::CrawlState* state) : path_(path) {
    if (path.empty()) return;
    os_ = &std::cout;
    if (path == "-") return;
    if (state != nullptr) {
      state_ = state;
      earlier_ = state->pages_done();
      return;
    }
    open(std::ios::trunc);
  }
  void write(const http::CrawlRecord& r) {
    if (state_ != nullptr && !file_.is_open()) resume();
    if (os_ == nullptr) return;
    *os_ << r.json_line() << '\n' << std::flush;
    if (!*os_) throw pyconc::OSError(EIO, path_);
    ++lines_;
  }
  // After a crawl that ran (even if stopped): a resumed file agrees with the state even if
  // this run placed nothing.
  void finish() {
    if (state_ != nullptr && !file_.is_open()) resume();
  }
  // The lines in the output: this run's, and the earlier runs' kept in the file.
  std::size_t lines() const noexcept { return earlier_ + lines_; }

 private:
  void open(std::ios::openmode mode) {
    file_.open(path_, std::ios::binary | mode);
    if (!file_) throw pyconc::OSError(errno, path_);
    os_ = &file_;
  }
  void resume() {
    reconcile_out(path_, *state_, earlier_);
    open(std::ios::app);
  }
  std::string path_;
  const http::CrawlState* state_ = nullptr;
  std::size_t earlier_ = 0;  // records of the earlier runs (with a state)
  std::ofstream file_;
  std::ostream* os_ = nullptr;
  std::size_t lines_ = 0;
};

// Runs the crawl in the chosen model.
Outcome run_crawl(const CrawlArgs& a, http::CrawlerOptions options, Progress& progress,
                  RecordWriter& writer) {
  Outcome out;
  options.on_page = [&progress](const http::CrawlRecord& r) { progress.page(r); };
  const bool keep = !options.state;  // with a state, the records are on disk
  options.on_record = [&writer, &out, keep](const http::CrawlRecord& r) {
    writer.write(r);
    if (keep) out.records.push_back(r);
  };
  // The per-page options the fetching threads and processes read (no hooks in them).
  http::CrawlerOptions page_options = options;
  page_options.on_page = nullptr;
  page_options.on_record = nullptr;
  page_options.state = nullptr;

  std::optional<cf::ThreadPoolExecutor> threads;
  std::optional<Pipeline> pipeline;
  std::optional<cf::ProcessPoolExecutor> processes;
#if PYCONC_TOOL_HAVE_MPI
  std::optional<pyconc::mpi::MPIPoolExecutor> ranks;
#endif
  if (a.model == "threads") {
    threads.emplace(static_cast<int>(a.concurrency));
    options.fetch = [&threads, &page_options](std::string url,
                                              int depth) -> aio::Task<http::CrawlPage> {
      auto done = threads->submit([&page_options, url = std::move(url), depth] {
        return http::fetch_crawl_page_blocking(page_options, url, depth);
      });
      co_return co_await std::move(done);
    };
  } else if (a.model == "pipeline") {
    const auto parsers = static_cast<std::size_t>(std::max(1, pyconc::detail::process_cpu_count()));
    pipeline.emplace(page_options, a.concurrency, parsers);
    options.fetch = [&pipeline](std::string url, int depth) -> aio::Task<http::CrawlPage> {
      auto done = pipeline->submit(std::move(url), depth);
      co_return co_await std::move(done);
    };
  } else if (a.model == "processes" || a.model == "mpi") {
    int n = a.processes;
    if (n <= 0) {
      n = std::min(static_cast<int>(a.concurrency),
                   2 * std::max(1, pyconc::detail::process_cpu_count()));
    }
    const PageConfig config = page_config(page_options);
#if PYCONC_TOOL_HAVE_MPI
    if (a.model == "mpi") {
      ranks.emplace(pyconc::mpi::MPIPoolOptions{.max_workers = n});
      options.fetch = [&ranks, config](std::string url, int depth) -> aio::Task<http::CrawlPage> {
        auto done = ranks->submit(crawl_page_in_worker, std::move(url), depth, config);
        co_return co_await std::move(done);
      };
    }
#endif
    if (a.model == "processes") {
      processes.emplace(n);
      options.fetch = [&processes, config](std::string url,
                                           int depth) -> aio::Task<http::CrawlPage> {
        auto done = processes->submit(crawl_page_in_worker, std::move(url), depth, config);
        co_return co_await std::move(done);
      };
    }
  }

  http::Crawler crawler(std::move(options));
  try {
    aio::run(crawl_main(crawler, a.urls));
  } catch (const pyconc::KeyboardInterrupt&) {
    out.interrupted = "SIGINT";
  } catch (const pyconc::CancelledError&) {
    out.interrupted = "SIGTERM";
  }
  out.stats = crawler.stats();
  return out;
}

// The meta key of a --state crawl of the embedded demo site: the port it was served on (a
// resume serves it on the same one, so that its URLs are the same).
constexpr const char* kDemoPortKey = "pyconc.demo_port";

int crawl_untraced(CrawlArgs a) {
  std::shared_ptr<http::CrawlState> state;
  int demo_port = 0;
  if (!a.state.empty()) {
    state = std::make_shared<http::CrawlState>(a.state);
    if (a.urls.empty() && state->started()) {
      if (auto port = state->meta(kDemoPortKey)) {
        demo_port = std::stoi(*port);
      } else {
        a.urls = state->start_urls();  // `--state DIR` alone resumes the crawl kept there
      }
    }
  }
  const bool demo = a.urls.empty();
  std::unique_ptr<pyconc::demo::DemoSiteServer> site;
  if (demo) {
    const std::chrono::milliseconds delay(static_cast<long long>(a.delay_ms));
    try {
      site = std::make_unique<pyconc::demo::DemoSiteServer>(delay, demo_port);
    } catch (const pyconc::OSError& e) {
      if (demo_port == 0) throw;
      throw pyconc::RuntimeError("the demo crawl in " + a.state + " was served on port " +
                                 std::to_string(demo_port) + ", which cannot be used now (" +
                                 e.what() + "): free it, or start a new state directory");
    }
    a.urls.push_back(site->url("/"));
    if (a.select.empty()) a.select = "a.post-item-title";  // the seeds' find_all(...)
    if (state && demo_port == 0) {
      state->set_meta(kDemoPortKey, std::to_string(site->port()));
      state->commit();
    }
  }

  http::CrawlerOptions options;
  options.concurrency = a.concurrency;
  options.per_host = a.per_host;
  options.max_pages = a.max_pages;
  options.max_depth = a.max_depth;
  options.same_host = a.same_host;
  options.select = a.select;
  options.respect_robots = !a.no_robots;
  options.retries = a.retries;
  options.timeout.total =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.timeout_s));
  options.max_body_bytes = a.max_page_size;
  options.max_crawl_delay = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(a.max_crawl_delay_s));
  options.state = state;

  const bool show = a.progress == "always" || (a.progress == "auto" && ::isatty(2) != 0);
  Progress progress(show, a.max_pages);
  RecordWriter writer(a.out, state.get());
  const auto began = Clock::now();
  Outcome result = run_crawl(a, std::move(options), progress, writer);
  writer.finish();
  const double wall = std::chrono::duration<double>(Clock::now() - began).count();
  progress.finish();
  // The crawl's records: this run's, or with a state every run's, read back from it.
  const RecordSource records = [&](const std::function<void(const http::CrawlRecord&)>& fn) {
    if (state) {
      state->for_each_record([&](const http::CrawlRecord& r, std::string_view) { fn(r); });
    } else {
      for (const auto& r : result.records) fn(r);
    }
  };
  const std::size_t total = state ? state->pages_done() : result.records.size();

  // Errors: every failed page on stderr, and counted in the summary.
  std::size_t errors = 0;
  std::size_t start_failed = 0;
  bool start_http_error = false;
  std::map<int, std::size_t> by_depth;
  std::size_t items = 0;
  records([&](const http::CrawlRecord& r) {
    ++by_depth[r.depth];
    items += r.items.size();
    if (r.ok()) return;
    ++errors;
    if (r.depth == 0) {
      ++start_failed;
      start_http_error = start_http_error || r.status >= 400;
    }
    std::cerr << "pyconc crawl: " << r.url << ": "
              << (r.error.empty() ? "HTTP " + std::to_string(r.status) : r.error)
              << (r.attempts > 1 ? " (after " + std::to_string(r.attempts) + " attempts)" : "")
              << "\n";
  });

  const std::size_t lines = writer.lines();
  std::ostream& s = a.out == "-" ? std::cerr : std::cout;
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.2f s  (%.0f pages/s)", wall,
                wall > 0 ? static_cast<double>(result.stats.pages) / wall : 0.0);
  s << "pyconc crawl: model " << a.model << ", concurrency " << a.concurrency << ", per host "
    << a.per_host << ", robots.txt " << (a.no_robots ? "ignored" : "honoured") << "\n";
  s << "  start        " << a.urls.front();
  if (a.urls.size() > 1) s << " (+" << a.urls.size() - 1 << " more)";
  if (demo) s << "  (embedded demo site, " << a.delay_ms << " ms per request)";
  s << "\n";
  s << "  pages        " << with_commas(total - errors) << " fetched, " << with_commas(errors)
    << " failed  (retries " << result.stats.retries << ", robots.txt skipped "
    << result.stats.robots_skipped << ", redirect duplicates " << result.stats.duplicates << ")\n";
  if (state) {
    s << "  state        " << a.state << ": " << with_commas(result.stats.resumed)
      << " pages from earlier runs, " << with_commas(result.stats.pages) << " this run; ";
    const std::size_t left = state->frontier_size();
    if (left == 0) {
      s << "finished\n";
    } else {
      s << with_commas(left) << " URLs left (the same command resumes)\n";
    }
  }
  if (!result.interrupted.empty()) {
    s << "  stopped      by " << result.interrupted << ": the " << with_commas(total)
      << " pages above were placed" << (a.out.empty() ? "" : " and written") << "\n";
  }
  if (result.stats.links_too_long > 0) {
    s << "  note         " << result.stats.links_too_long << " link(s) longer than "
      << with_commas(http::html::kMaxLinkLength) << " bytes not followed\n";
  }
  if (result.stats.delays_capped > 0) {
    s << "  note         Crawl-delay capped to " << a.max_crawl_delay_s << " s for "
      << result.stats.delays_capped << " site(s) (--max-crawl-delay)\n";
  }
  s << "  by depth    ";
  for (const auto& [d, n] : by_depth) s << " " << d << ": " << with_commas(n);
  s << "\n";
  if (!a.select.empty())
    s << "  items        " << with_commas(items) << " matched '" << a.select << "'\n";
  s << "  received     " << format_bytes(result.stats.bytes) << "\n";
  s << "  wall time    " << rate << "\n";
  if (!a.out.empty()) {
    s << "  results      " << (a.out == "-" ? std::string("stdout") : a.out) << " ("
      << with_commas(lines) << " JSON lines)\n";
  }
  if (!result.interrupted.empty()) return result.interrupted == "SIGINT" ? 130 : 143;
  if (demo) {
    if (a.max_pages > 0 || a.max_depth >= 0 || a.no_robots) {
      s << "  check        skipped (--max-pages, --max-depth or --no-robots change the expected "
           "set)\n";
    } else {
      const std::string why = check_demo_crawl(records, a.select == "a.post-item-title");
      if (!why.empty()) {
        s << "  check        FAILED: " << why << "\n";
        return 1;
      }
      s << "  check        OK: the demo site's " << with_commas(total) << " pages each fetched once"
        << (a.select == "a.post-item-title" ? ", all 1,000 post titles exact" : "") << "\n";
    }
  }
  // Nothing could be crawled: every start URL failed (the start URLs are the records of
  // depth 0; a start URL that robots.txt disallowed is not a record).
  const std::size_t starts = by_depth.count(0) != 0 ? by_depth[0] : 0;
  if (starts > 0 && start_failed == starts) {
    s << "  failed       every start URL failed: nothing was crawled\n";
    return start_http_error ? kExitServerError : kExitNetworkFailure;
  }
  return 0;
}

}  // namespace

// --trace: tracing is decided at start-up, so the crawl runs again as a traced child of this
// process (same command line), then its trace becomes the page. A run already traced by the
// user (PYCONC_TRACE set) is rendered from its own file.
int crawl_command(const CrawlArgs& a) {
  if (a.trace.empty() || is_traced_child()) return crawl_untraced(a);
  if (!pyconc::detail::tracing()) {
    const std::string json = trace_json_path(a.trace);
    const std::vector<std::string> args(command_line().begin() + 1, command_line().end());
    const int rc = run_traced_child(args, json);
    return write_run_timeline(json, a.trace, "pyconc crawl — timeline", rc);
  }
  const int rc = crawl_untraced(a);
  pyconc::detail::trace_flush();
  return write_run_timeline(std::getenv("PYCONC_TRACE"), a.trace, "pyconc crawl — timeline", rc);
}

void register_crawl(CLI::App& app, std::function<int()>& command) {
  auto args = std::make_shared<CrawlArgs>();
  auto* sub = app.add_subcommand(
      "crawl",
      "Crawl web pages breadth-first: URL normalisation and dedup, robots.txt, retries with "
      "backoff, per-host limits, a progress bar and a summary. With no URL, crawls the "
      "embedded demo blog (50 list pages x 20 posts) and checks the result. Exit status: 0 "
      "the crawl ran (failed pages are listed and counted); 1 an error stopped it or the demo "
      "check failed; 2 a wrong command line; 4 every start URL failed, none with an HTTP error "
      "status (no connection, timeout, page too large); "
      "8 every start URL failed, at least one with an HTTP error status; 130/143 stopped by "
      "SIGINT/SIGTERM (gracefully: --out keeps every page placed).");
  sub->add_option("urls", args->urls, "start URLs (http or https); none: the embedded demo site");
  sub->add_option("--concurrency", args->concurrency, "pages in flight at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  sub->add_option("--per-host", args->per_host, "connections per host (0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  sub->add_option("--max-pages", args->max_pages, "stop after this many pages (0: no limit)")
      ->capture_default_str();
  sub->add_option("--max-depth", args->max_depth,
                  "follow links this deep (0: the start URLs only; -1: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 1000000));
  sub->add_flag("--same-host", args->same_host, "follow only links to the start URLs' hosts");
  sub->add_option("--select", args->select,
                  "CSS selector of the items recorded per page (demo default: a.post-item-title)");
  sub->add_option("--out", args->out, "write JSON Lines, one object per page ('-': stdout)");
  sub->add_option("--model", args->model, "how pages are fetched")
      ->capture_default_str()
#if PYCONC_TOOL_HAVE_MPI
      ->check(CLI::IsMember({"asyncio", "threads", "pipeline", "processes", "mpi"}));
#else
      ->check(CLI::IsMember({"asyncio", "threads", "pipeline", "processes"}));
#endif
  sub->add_option("--processes", args->processes,
                  "worker processes (ranks) of --model processes and --model mpi (0: "
                  "min(concurrency, 2 x CPUs))")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  sub->add_option("--delay", args->delay_ms, "the demo site's delay per request, in ms")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 60000.0));
  sub->add_flag("--no-robots", args->no_robots, "do not read or honour robots.txt");
  sub->add_option("--retries", args->retries,
                  "extra attempts after a 5xx, timeout or dropped connection")
      ->capture_default_str()
      ->check(CLI::Range(0, 20));
  sub->add_option("--timeout", args->timeout_s, "seconds allowed per page attempt")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 3600.0));
  sub->add_option("--max-page-size", args->max_page_size,
                  "largest page accepted, after decoding (e.g. 16MiB, 500k); a larger one is "
                  "stopped while it arrives and recorded as failed (0: no limit)")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  sub->add_option("--max-crawl-delay", args->max_crawl_delay_s,
                  "robots.txt Crawl-delay values above this many seconds are capped to it")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  sub->add_option("--state", args->state,
                  "keep the frontier, the seen URLs and the records in DIR/state.sqlite: the "
                  "crawl runs in bounded memory, and the same command resumes it after an "
                  "interruption without fetching a recorded page again (--out is made to "
                  "agree with the state, then appended to); `--state DIR` alone resumes the "
                  "crawl kept there. Every --model works with it.")
      ->type_name("DIR");
  sub->add_option("--progress", args->progress, "progress bar on stderr")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "always", "never"}));
  sub->add_option("--trace", args->trace,
                  "record this crawl's timeline (every page, request and worker) and write it as "
                  "a page (pyconc trace view); the JSON beside it opens in Perfetto")
      ->type_name("out.html");
  sub->callback([args, &command] { command = [args] { return crawl_command(*args); }; });
}

}  // namespace pyconc::tool
