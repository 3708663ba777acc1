// CrawlState (the crawl's frontier, seen-set and records in SQLite) on its own -- order, dedup,
// batching, persistence, a crash losing only the open batch, refusals -- and under a Crawler:
// a crawl stopped at any record and resumed yields exactly the uninterrupted crawl's records,
// in its order; redirect dedup and max_pages hold across runs.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "http_test_server.hpp"
#include "pyconc/aiohttp.hpp"
#include "pyconc/aiohttp/crawl_state.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc_demo/site.hpp"

namespace aio = pyconc::asyncio;
namespace http = pyconc::aiohttp;
using namespace std::chrono_literals;
using http::CrawlFrontierEntry;
using http::CrawlState;
using pyconc_test::TestConn;
using pyconc_test::TestRequest;
using pyconc_test::TestServer;

// `statement` throws `Type` with `text` in its message.
#define PYCONC_EXPECT_THROWS(Type, statement, text)                             \
  try {                                                                         \
    statement;                                                                  \
    ADD_FAILURE() << #statement " did not throw";                               \
  } catch (const Type& e) {                                                     \
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what(); \
  }

namespace {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "crawl_state_XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // A path inside (not created).
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

http::CrawlRecord make_record(const std::string& url, int depth, std::string title = "t") {
  http::CrawlRecord r;
  r.url = url;
  r.requested = url;
  r.status = 200;
  r.depth = depth;
  r.title = std::move(title);
  r.items = {{url + "#item", "an item"}};
  r.attempts = 2;
  return r;
}

std::vector<std::string> urls_of(const std::vector<CrawlFrontierEntry>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.url);
  return out;
}

std::vector<std::string> lines_of(const CrawlState& state) {
  std::vector<std::string> out;
  state.for_each_record([&](const http::CrawlRecord& r, std::string_view line) {
    EXPECT_EQ(line, r.json_line());  // the record read back says what its line says
    out.emplace_back(line);
  });
  return out;
}

TEST(CrawlState, FreshStateQueuesTheStartUrlsOnceInOrder) {
  TempDir dir;
  CrawlState state(dir / "s");
  EXPECT_FALSE(state.started());
  EXPECT_FALSE(state.finished());
  state.begin({"http://h/b", "http://h/a", "http://h/b"}, {{"max_depth", "-1"}});
  EXPECT_TRUE(state.started());
  EXPECT_EQ(state.start_urls(),
            (std::vector<std::string>{"http://h/b", "http://h/a", "http://h/b"}));
  const auto head = state.frontier(10);
  EXPECT_EQ(urls_of(head), (std::vector<std::string>{"http://h/b", "http://h/a"}));
  EXPECT_EQ(head[0].depth, 0);
  EXPECT_LT(head[0].seq, head[1].seq);
  EXPECT_TRUE(state.seen("http://h/a"));
  EXPECT_FALSE(state.seen("http://h/c"));
  EXPECT_EQ(state.frontier_size(), 2U);
  EXPECT_EQ(state.pages_done(), 0U);
  EXPECT_TRUE(std::filesystem::exists(dir / "s/state.sqlite"));
}

TEST(CrawlState, FrontierWindowsRecordsAndDropsPersist) {
  TempDir dir;
  std::vector<std::string> lines;
  {
    CrawlState state(dir / "s", {.batch = 3});
    state.begin({"http://h/"}, {});
    EXPECT_FALSE(state.enqueue("http://h/", 1));  // seen already
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(state.enqueue("http://h/" + std::to_string(i), 1));
    EXPECT_EQ(state.frontier_size(), 11U);
    // A window is the head of the frontier, in order.
    const auto window = state.frontier(4);
    EXPECT_EQ(urls_of(window),
              (std::vector<std::string>{"http://h/", "http://h/0", "http://h/1", "http://h/2"}));
    state.record(window[0].seq, "http://h/", make_record("http://h/", 0));
    state.drop(window[1].seq);  // e.g. robots.txt said no
    // /1 redirected to /final: the final URL is recorded and seen.
    auto redirected = make_record("http://h/final", 1);
    redirected.requested = "http://h/1";
    state.record(window[2].seq, "http://h/final", redirected);
    EXPECT_TRUE(state.recorded("http://h/final"));
    EXPECT_FALSE(state.recorded("http://h/1"));
    EXPECT_TRUE(state.seen("http://h/final"));
    EXPECT_FALSE(state.enqueue("http://h/final", 2));
    EXPECT_EQ(state.pages_done(), 2U);
    EXPECT_EQ(urls_of(state.frontier(2)), (std::vector<std::string>{"http://h/2", "http://h/3"}));
    lines = lines_of(state);
    ASSERT_EQ(lines.size(), 2U);
    EXPECT_EQ(lines[0], make_record("http://h/", 0).json_line());
    state.set_meta("tool.port", "8123");
  }  // the destructor commits
  CrawlState again(dir / "s");
  EXPECT_TRUE(again.started());
  EXPECT_FALSE(again.finished());
  EXPECT_EQ(again.pages_done(), 2U);
  EXPECT_EQ(again.frontier_size(), 8U);
  EXPECT_EQ(lines_of(again), lines);
  EXPECT_EQ(again.meta("tool.port"), "8123");
  EXPECT_EQ(again.meta("no.such.key"), std::nullopt);
  // Records read back keep what --out does not show.
  again.for_each_record([](const http::CrawlRecord& r, std::string_view) {
    EXPECT_EQ(r.attempts, 2);
    if (r.url == "http://h/final") {
      EXPECT_EQ(r.requested, "http://h/1");
    }
  });
  // New entries go after the old ones; from = 1 skips the first record.
  EXPECT_TRUE(again.enqueue("http://h/new", 2));
  const auto all = again.frontier(100);
  EXPECT_EQ(all.back().url, "http://h/new");
  std::size_t n = 0;
  again.for_each_record([&](const http::CrawlRecord&, std::string_view) { ++n; }, 1);
  EXPECT_EQ(n, 1U);
  // Finish everything.
  for (const auto& e : all) again.record(e.seq, e.url, make_record(e.url, e.depth));
  EXPECT_TRUE(again.finished());
  EXPECT_EQ(again.pages_done(), 11U);
}

TEST(CrawlState, ManyRecordsAreReadBackInChunksInOrder) {
  TempDir dir;
  CrawlState state(dir / "s");
  state.begin({"http://h/"}, {});
  for (int i = 0; i < 1500; ++i) state.enqueue("http://h/p" + std::to_string(i), 1);
  for (const auto& e : state.frontier(2000))
    state.record(e.seq, e.url, make_record(e.url, e.depth));
  std::vector<std::string> urls;
  state.for_each_record(
      [&](const http::CrawlRecord& r, std::string_view) { urls.push_back(r.url); });
  ASSERT_EQ(urls.size(), 1501U);
  EXPECT_EQ(urls[0], "http://h/");
  for (int i = 0; i < 1500; ++i)
    EXPECT_EQ(urls[static_cast<std::size_t>(i) + 1], "http://h/p" + std::to_string(i));
}

// A process that dies without committing (SIGKILL, a crash) loses the open batch, atomically:
// the records and the frontier entries they finished come back together.
// Opens the state at `path` in a forked child, runs `work` on it and dies without committing
// (as SIGKILL would: no destructor runs). True if `work` ran to its end.
bool die_after(const std::string& path, http::CrawlStateOptions options,
               const std::function<void(CrawlState&)>& work) {
  const pid_t child = ::fork();
  if (child < 0) return false;
  if (child == 0) {
    try {
      CrawlState state(path, options);
      work(state);
      ::_exit(0);  // `state` is never destroyed: its open batch is never committed
    } catch (...) {
    }
    ::_exit(1);
  }
  int status = 0;
  // Bounded by the test's ctest timeout; the child does a few SQLite calls.
  return ::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string queued_state(const TempDir& dir) {
  const std::string path = dir / "s";
  CrawlState state(path);
  state.begin({"http://h/"}, {});
  for (int i = 0; i < 6; ++i) state.enqueue("http://h/" + std::to_string(i), 1);
  state.commit();
  return path;
}

TEST(CrawlState, ACrashLosesOnlyTheOpenBatch) {
  TempDir dir;
  const std::string path = queued_state(dir);
  ASSERT_TRUE(die_after(path, {.batch = 1000}, [](CrawlState& state) {
    auto head = state.frontier(4);
    state.record(head[0].seq, head[0].url, make_record(head[0].url, 0));
    state.record(head[1].seq, head[1].url, make_record(head[1].url, 1));
    state.commit();  // two pages committed
    state.record(head[2].seq, head[2].url, make_record(head[2].url, 1));
    state.enqueue("http://h/lost", 2);
  }));
  CrawlState state(path);
  EXPECT_EQ(state.pages_done(), 2U);
  EXPECT_EQ(state.frontier_size(), 5U);  // /1 is queued again, /lost never was
  EXPECT_EQ(state.frontier(1)[0].url, "http://h/1");
  EXPECT_FALSE(state.seen("http://h/lost"));
  EXPECT_FALSE(state.recorded("http://h/1"));
}

// A batch commits when it holds `batch` records or is `commit_interval` old, whichever first.
TEST(CrawlState, BatchesCommitBySizeOrAge) {
  TempDir dir;
  const std::string path = queued_state(dir);
  auto record_three = [](CrawlState& state) {
    for (const auto& e : state.frontier(3)) state.record(e.seq, e.url, make_record(e.url, e.depth));
  };
  ASSERT_TRUE(
      die_after(path, {.batch = 2, .commit_interval = std::chrono::hours(1)}, record_three));
  EXPECT_EQ(CrawlState(path).pages_done(), 2U);  // one full batch; the third record was open
  ASSERT_TRUE(die_after(path, {.batch = 1000, .commit_interval = std::chrono::milliseconds(0)},
                        record_three));
  EXPECT_EQ(CrawlState(path).pages_done(), 5U);  // each record's batch was already old enough
}

TEST(CrawlState, ResumingAnotherCrawlIsRefused) {
  TempDir dir;
  {
    CrawlState state(dir / "s");
    state.begin({"http://h/"}, {{"max_depth", "2"}, {"select", "a.x"}});
  }
  CrawlState state(dir / "s");
  PYCONC_EXPECT_THROWS(pyconc::ValueError,
                       state.begin({"http://other/"}, {{"max_depth", "2"}, {"select", "a.x"}}),
                       "is a crawl of http://h/; this crawl starts at http://other/");
  PYCONC_EXPECT_THROWS(pyconc::ValueError,
                       state.begin({"http://h/"}, {{"max_depth", "3"}, {"select", "a.x"}}),
                       "ran with max_depth = '2'; this one asks for max_depth = '3'");
  EXPECT_NO_THROW(state.begin({"http://h/"}, {{"max_depth", "2"}, {"select", "a.x"}}));
  EXPECT_EQ(state.frontier_size(), 1U);  // a resume queues nothing again
}

TEST(CrawlState, BadDirectoriesAndFilesAreRefused) {
  TempDir dir;
  EXPECT_THROW(CrawlState(""), pyconc::ValueError);
  EXPECT_THROW(CrawlState(dir / "s", {.batch = 0}), pyconc::ValueError);
  EXPECT_THROW(CrawlState(dir / "no/such/parent"), pyconc::FileNotFoundError);
  { std::ofstream(dir / "file") << "x"; }
  EXPECT_THROW(CrawlState(dir / "file"), pyconc::NotADirectoryError);
  std::filesystem::create_directories(dir / "junk");
  { std::ofstream(dir / "junk/state.sqlite") << std::string(4096, 'j'); }
  EXPECT_THROW(CrawlState(dir / "junk"), pyconc::ValueError);
  // One user at a time.
  CrawlState first(dir / "s");
  PYCONC_EXPECT_THROWS(pyconc::RuntimeError, CrawlState(dir / "s"), "is in use by another crawl");
}

// ---- under a Crawler ----

void serve_demo(const TestRequest& r, TestConn& c) {
  const auto page = pyconc::demo::demo_site_page(r.target);
  c.respond(page.status, page.body, {}, page.content_type);
}

std::vector<std::string> lines(const std::vector<http::CrawlRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.json_line());
  return out;
}

// Crawls with `state` until `stop_after` records were handed out in this run (then cancels the
// crawl, as Ctrl+C does), or to the end (stop_after = 0). Returns the lines handed out.
std::vector<std::string> crawl_with_state(const std::string& url,
                                          const std::shared_ptr<CrawlState>& state,
                                          std::size_t stop_after, http::CrawlStats* stats = nullptr,
                                          std::size_t max_pages = 0) {
  std::vector<std::string> got;
  aio::Task<std::vector<http::CrawlRecord>>* running = nullptr;
  http::Crawler crawler({.concurrency = 8,
                         .max_pages = max_pages,
                         .select = "a.post-item-title",
                         .on_record =
                             [&](const http::CrawlRecord& r) {
                               got.push_back(r.json_line());
                               if (stop_after > 0 && got.size() == stop_after) running->cancel();
                             },
                         .state = state});
  aio::run(aio::wait_for(
      [&]() -> aio::Task<> {
        auto t = aio::create_task(crawler.crawl({url}));
        running = &t;
        try {
          const auto returned = co_await t;
          EXPECT_TRUE(returned.empty());  // with a state, the records are there
        } catch (const pyconc::CancelledError&) {
          EXPECT_GT(stop_after, 0U);
        }
      }(),
      60s));
  if (stats != nullptr) *stats = crawler.stats();
  return got;
}

TEST(CrawlerWithState, InterruptedAndResumedCrawlsGiveTheSameRecordsInOrder) {
  TestServer server(serve_demo);
  http::Crawler reference({.concurrency = 8, .select = "a.post-item-title"});
  const auto expected = lines(aio::run(aio::wait_for(reference.crawl({server.url("/")}), 60s)));
  ASSERT_EQ(expected.size(), 1053U);

  TempDir dir;
  std::vector<std::string> all;
  // Stops in the first level, inside a window, at a window's end, and the rest.
  std::size_t runs = 0;
  for (std::size_t stop : {1U, 40U, 300U, 0U}) {
    auto state = std::make_shared<CrawlState>(dir / "state");
    http::CrawlStats stats;
    const auto got = crawl_with_state(server.url("/"), state, stop, &stats);
    EXPECT_EQ(stats.resumed, all.size());
    all.insert(all.end(), got.begin(), got.end());
    // Everything handed out was committed, and nothing else.
    EXPECT_EQ(state->pages_done(), all.size());
    ++runs;
    if (stop == 0) {
      EXPECT_TRUE(state->finished());
    }
  }
  EXPECT_EQ(runs, 4U);
  EXPECT_EQ(all, expected);  // each page once, in the uninterrupted crawl's order
  CrawlState state(dir / "state");
  EXPECT_EQ(lines_of(state), expected);
}

TEST(CrawlerWithState, RedirectDedupAndMaxPagesHoldAcrossRuns) {
  std::atomic<int> redirect_hits{0};
  TestServer server([&](const TestRequest& r, TestConn& c) {
    auto page = [&](const std::string& title, const std::vector<std::string>& links) {
      std::string body = "<title>" + title + "</title>";
      for (const auto& l : links) body += "<a href=\"" + l + "\">" + l + "</a>";
      c.respond(200, body, {}, "text/html");
    };
    if (r.path == "/robots.txt") {
      c.respond(404, "");
    } else if (r.path == "/") {
      page("home", {"/a", "/b", "/r", "/c"});
    } else if (r.path == "/r") {
      ++redirect_hits;
      c.respond(302, "", {{"Location", "/a"}});
    } else {
      page(r.path, {});
    }
  });
  TempDir dir;
  auto run = [&](std::size_t max_pages, http::CrawlStats* stats) {
    auto state = std::make_shared<CrawlState>(dir / "s");
    std::vector<std::string> paths;
    http::Crawler crawler(
        {.concurrency = 2,
         .max_pages = max_pages,
         .on_record =
             [&](const http::CrawlRecord& r) { paths.push_back(http::URL(r.url).raw_path_qs()); },
         .state = state});
    const auto records = aio::run(aio::wait_for(crawler.crawl({server.url("/")}), 30s));
    EXPECT_TRUE(records.empty());
    *stats = crawler.stats();
    return paths;
  };
  http::CrawlStats stats;
  EXPECT_EQ(run(2, &stats), (std::vector<std::string>{"/", "/a"}));
  EXPECT_EQ(stats.pages, 2U);
  // max_pages counts every run's records: one more page.
  EXPECT_EQ(run(3, &stats), (std::vector<std::string>{"/b"}));
  EXPECT_EQ(stats.resumed, 2U);
  // /r leads to /a, recorded two runs ago: a duplicate, not a record.
  EXPECT_EQ(run(0, &stats), (std::vector<std::string>{"/c"}));
  EXPECT_EQ(stats.duplicates, 1U);
  EXPECT_EQ(redirect_hits.load(), 1);
  EXPECT_EQ(run(0, &stats), (std::vector<std::string>{}));  // finished: nothing fetched
  EXPECT_EQ(redirect_hits.load(), 1);
}

TEST(CrawlerWithState, ResumingWithOtherResultOptionsIsRefused) {
  TestServer server(serve_demo);
  TempDir dir;
  auto state = std::make_shared<CrawlState>(dir / "s");
  {
    http::Crawler crawler({.max_pages = 1, .state = state});
    aio::run(aio::wait_for(crawler.crawl({server.url("/")}), 30s));
  }
  http::Crawler deeper({.max_depth = 1, .state = state});
  EXPECT_THROW(aio::run(aio::wait_for(deeper.crawl({server.url("/")}), 30s)), pyconc::ValueError);
  http::Crawler elsewhere({.state = state});
  EXPECT_THROW(aio::run(aio::wait_for(elsewhere.crawl({server.url("/list/1")}), 30s)),
               pyconc::ValueError);
  // Options that only change how pages are fetched may change.
  http::Crawler faster(
      {.concurrency = 4, .per_host = 2, .max_pages = 2, .retries = 0, .state = state});
  aio::run(aio::wait_for(faster.crawl({server.url("/")}), 30s));
  EXPECT_EQ(state->pages_done(), 2U);
}

// A custom fetch step (the threads / processes models) works on a state too: the frontier is
// the crawler's either way.
TEST(CrawlerWithState, CustomFetchStepResumes) {
  TestServer server(serve_demo);
  TempDir dir;
  http::CrawlerOptions page_options;
  std::vector<std::string> got;
  pyconc::futures::ThreadPoolExecutor pool(4);
  for (std::size_t max_pages : {100U, 0U}) {
    auto state = std::make_shared<CrawlState>(dir / "s");
    http::Crawler crawler(
        {.concurrency = 4,
         .max_pages = max_pages,
         .on_record = [&](const http::CrawlRecord& r) { got.push_back(r.json_line()); },
         .fetch = [&](std::string url, int depth) -> aio::Task<http::CrawlPage> {
           co_return co_await pool.submit(http::fetch_crawl_page_blocking, std::cref(page_options),
                                          url, depth);
         },
         .state = state});
    aio::run(aio::wait_for(crawler.crawl({server.url("/")}), 60s));
  }
  http::Crawler reference({.concurrency = 4});
  EXPECT_EQ(got, lines(aio::run(aio::wait_for(reference.crawl({server.url("/")}), 60s))));
}

}  // namespace
