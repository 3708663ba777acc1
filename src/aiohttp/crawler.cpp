// Crawler: level-synchronous breadth-first crawling on a ClientSession.
#include "pyconc/aiohttp/crawler.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "pyconc/aiohttp/client.hpp"
#include "pyconc/aiohttp/crawl_state.hpp"
#include "pyconc/aiohttp/html.hpp"
#include "pyconc/aiohttp/link_scanner.hpp"
#include "pyconc/aiohttp/robots.hpp"
#include "pyconc/asyncio/gather.hpp"
#include "pyconc/asyncio/semaphore.hpp"
#include "pyconc/asyncio/sleep.hpp"
#include "pyconc/asyncio/threads.hpp"
#include "pyconc/detail/exception_info.hpp"
#include "pyconc/detail/trace.hpp"
#include "thread_client.hpp"

namespace pyconc::detail {

// robots.txt of one origin, and the pacing its Crawl-delay asks for.
struct CrawlOrigin {
  aiohttp::RobotFileParser parser;
  std::optional<std::chrono::milliseconds> delay;
  std::chrono::steady_clock::time_point next_slot{};
  bool ready = false;
};

}  // namespace pyconc::detail

namespace pyconc::aiohttp {

namespace {

using Clock = std::chrono::steady_clock;
using detail::CrawlOrigin;

std::string netloc(const URL& u) {
  return std::string(u.host()) + ":" + std::to_string(u.port().value_or(0));
}

std::string describe(const std::exception_ptr& e) {
  const auto info = detail::describe_exception(e);
  std::string type = info.type;
  if (type.starts_with("pyconc::aiohttp::")) type.erase(0, 17);
  if (type.starts_with("pyconc::")) type.erase(0, 8);
  return type + ": " + info.message;
}

bool is_html(const std::string& content_type) {
  return content_type == "text/html" || content_type == "application/xhtml+xml";
}

}  // namespace

nlohmann::ordered_json CrawlRecord::to_json() const {
  nlohmann::ordered_json j;
  j["url"] = url;
  j["status"] = status;
  j["depth"] = depth;
  j["title"] = title;
  j["items"] = nlohmann::ordered_json::array();
  for (const auto& it : items) j["items"].push_back({{"href", it.href}, {"text", it.text}});
  if (!error.empty()) j["error"] = error;
  return j;
}

std::string CrawlRecord::json_line() const {
  return to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace pyconc::aiohttp

namespace pyconc::detail {

struct CrawlerState {
  using CrawlerOptions = aiohttp::CrawlerOptions;
  using ClientSession = aiohttp::ClientSession;
  using ClientSessionOptions = aiohttp::ClientSessionOptions;
  CrawlerOptions options;
  ClientSession session;
  std::unordered_map<std::string, std::shared_ptr<CrawlOrigin>> origins;
  std::unordered_set<std::string> seen;     // normalised URLs queued or fetched
  std::unordered_set<std::string> fetched;  // normalised final URLs recorded
  // per_host for a custom fetch step, which does not go through the session's limits.
  std::unordered_map<std::string, std::unique_ptr<asyncio::Semaphore>> host_slots;
  bool running = false;

  static ClientSessionOptions session_options(const CrawlerOptions& o) {
    if (o.concurrency == 0) throw ValueError("Crawler: concurrency must be at least 1");
    ClientSessionOptions so{.limit = o.concurrency, .limit_per_host = o.per_host};
    so.headers = o.headers;
    if (!so.headers.contains("User-Agent")) so.headers.add("User-Agent", o.user_agent);
    so.timeout = o.timeout;
    if (o.max_body_bytes > 0) so.max_response_size = o.max_body_bytes;
    return so;
  }
  aiohttp::CrawlStats stats;
  explicit CrawlerState(CrawlerOptions o)
      : options(std::move(o)), session(session_options(options)) {}
};

}  // namespace pyconc::detail

namespace pyconc::aiohttp {

namespace {
using StatePtr = std::shared_ptr<detail::CrawlerState>;
}  // namespace

Crawler::Crawler(CrawlerOptions options)
    : s_(std::make_shared<detail::CrawlerState>(std::move(options))) {
  if (s_->options.retries < 0) throw ValueError("Crawler: retries must not be negative");
}

Crawler::~Crawler() = default;

const CrawlStats& Crawler::stats() const noexcept {
  return s_->stats;
}
const CrawlerOptions& Crawler::options() const noexcept {
  return s_->options;
}

namespace {

std::chrono::milliseconds backoff_for(const CrawlerOptions& o, int attempt) {
  return o.backoff * (1LL << std::min(attempt, 20));
}

// GET robots.txt of `origin` (retrying transient failures) and parse it the way Python's
// RobotFileParser.read() treats the answer: 2xx parsed, 401/403 disallow all, other 4xx allow
// all, 5xx (after the retries) disallow all (RFC 9309). A server that cannot be connected to
// at all is let through: its pages will fail the same way and be recorded as errors (a broken
// link is worth reporting), while nothing is fetched from it.
asyncio::Task<> fetch_robots(StatePtr s, std::shared_ptr<CrawlOrigin> rules, URL origin) {
  const CrawlerOptions& o = s->options;
  const URL url = origin.join("/robots.txt");
  for (int attempt = 0;; ++attempt) {
    bool retry = false;
    try {
      auto resp = co_await s->session.get(url);
      if (resp.status() >= 500 && attempt < o.retries) {
        resp.release();
        retry = true;
      } else {
        std::string body;
        if (resp.status() < 300) body = co_await resp.text(std::nullopt, "replace");
        rules->parser.parse_response(resp.status(), body);
      }
    } catch (const CancelledError&) {
      throw;
    } catch (const ClientConnectorError&) {
      retry = attempt < o.retries;
      if (!retry) rules->parser.parse_response(404, "");  // unreachable host: see above
    } catch (const TimeoutError&) {
      retry = attempt < o.retries;
      if (!retry) rules->parser.parse_response(0, "");
    } catch (const ClientError&) {
      retry = attempt < o.retries;
      if (!retry) rules->parser.parse_response(0, "");
    } catch (const std::exception&) {
      rules->parser.parse_response(0, "");
    }
    if (!retry) break;
    co_await asyncio::sleep(backoff_for(o, attempt));
  }
  rules->delay = rules->parser.crawl_delay(o.user_agent);
  if (rules->delay && *rules->delay > o.max_crawl_delay) {
    rules->delay = o.max_crawl_delay;
    ++s->stats.delays_capped;
  }
  rules->ready = true;
}

// Makes sure the robots.txt of every origin of `level` is known.
asyncio::Task<> ensure_robots(StatePtr s, const std::vector<URL>& level) {
  std::vector<asyncio::Task<>> fetches;
  for (const URL& u : level) {
    const std::string key = u.origin().str();
    auto [it, fresh] = s->origins.try_emplace(key);
    if (!fresh) continue;
    it->second = std::make_shared<CrawlOrigin>();
    fetches.push_back(asyncio::create_task(fetch_robots(s, it->second, u.origin())));
  }
  if (!fetches.empty()) co_await asyncio::gather(std::move(fetches));
}

// Waits for the slot Crawl-delay gives the next request to this origin.
asyncio::Task<> pace(StatePtr s, const URL& url) {
  auto it = s->origins.find(url.origin().str());
  if (it == s->origins.end() || !it->second->delay) co_return;
  CrawlOrigin& r = *it->second;
  const auto now = Clock::now();
  const auto slot = std::max(now, r.next_slot);
  r.next_slot = slot + *r.delay;
  if (slot > now) co_await asyncio::sleep(slot - now);
}

// The request options every page request of `o` carries when it is not made on the crawler's
// own session (whose options already say all this).
RequestOptions page_request_options(const CrawlerOptions& o) {
  RequestOptions r;
  r.headers = o.headers;
  if (!r.headers.contains("User-Agent")) r.headers.add("User-Agent", o.user_agent);
  r.timeout = o.timeout;
  if (o.max_body_bytes > 0) r.max_response_size = o.max_body_bytes;
  return r;
}

// Downloads one page with the crawler's retry policy: 5xx answers, timeouts, refused or dropped
// connections and cut bodies are retried after backoff, 2 x backoff, ...; after the last try
// (or at once for other errors) the failure is the record's `error`. `pace` (may be empty) is
// awaited before each attempt (Crawl-delay). Only CancelledError escapes.
asyncio::Task<CrawlDownload> download_page(ClientSession& session, const CrawlerOptions& o,
                                           std::optional<RequestOptions> request, URL url,
                                           int depth, std::function<asyncio::Task<>()> pace) {
  CrawlDownload d;
  d.record.requested = url.str();
  d.record.url = d.record.requested;
  d.record.depth = depth;
  for (int attempt = 0;; ++attempt) {
    d.record.attempts = attempt + 1;
    if (pace) co_await pace();
    bool retry = false;
    std::exception_ptr failure;
    try {
      ClientResponse resp;
      if (request) {
        auto call = session.get(url, *request);
        resp = co_await std::move(call);
      } else {
        resp = co_await session.get(url);
      }
      d.record.status = resp.status();
      d.record.url = resp.url().str();
      if (resp.status() >= 500 && attempt < o.retries) {
        resp.release();
        retry = true;
      } else {
        const std::string type = resp.content_type();
        if (is_html(type)) {
          d.body = co_await resp.text(std::nullopt, "replace");
          d.bytes += resp.body().size();
          d.html = true;
        } else {
          d.bytes += (co_await resp.read()).size();
        }
        d.record.error.clear();
        co_return d;
      }
    } catch (const CancelledError&) {
      throw;
    } catch (const TimeoutError&) {
      failure = std::current_exception();
      retry = true;
    } catch (const ClientConnectionError&) {
      failure = std::current_exception();
      retry = true;
    } catch (const ClientResponseTooLarge&) {
      failure = std::current_exception();  // the same page would be as large again
    } catch (const ClientPayloadError&) {
      failure = std::current_exception();
      retry = true;
    } catch (...) {
      failure = std::current_exception();  // 4xx-like failures: not worth another try
    }
    if (failure) d.record.error = describe(failure);
    if (!retry || attempt >= o.retries) co_return d;
    ++d.retries;
    co_await asyncio::sleep(backoff_for(o, attempt));
  }
}

// A URL of the level (or, with a state, of the window) being fetched.
struct Queued {
  URL url;
  int depth = 0;
  std::int64_t seq = -1;  // its CrawlState frontier entry (-1: no state)
};

// Keeps the entries robots.txt allows (fetching the robots.txt of new origins first); with a
// state, the others leave its frontier.
asyncio::Task<std::vector<Queued>> allowed_by_robots(StatePtr s, std::vector<Queued> level) {
  const CrawlerOptions& o = s->options;
  std::vector<URL> urls;
  urls.reserve(level.size());
  for (const Queued& q : level) urls.push_back(q.url);
  co_await ensure_robots(s, urls);
  std::vector<Queued> allowed;
  for (Queued& q : level) {
    if (s->origins.at(q.url.origin().str())->parser.can_fetch(o.user_agent, q.url)) {
      allowed.push_back(std::move(q));
    } else {
      ++s->stats.robots_skipped;
      if (o.state) o.state->drop(q.seq);
    }
  }
  co_return allowed;
}

// One level's pages (with a state: one window of the frontier), merged into the crawl's
// records in discovery order as soon as every page before them is done -- not when the whole
// level is -- so that on_record sees each record moments after its page completes, and a crawl
// stopped midway has handed out every record it could place. The order (and so the redirect
// dedup) is the same as merging the level at once. With a state, the seen-set, the recorded
// final URLs and the next level are the state's tables instead of this process's memory.
// Loop-thread only.
struct LevelMerge {
  StatePtr s;
  const std::vector<Queued>* level = nullptr;
  const std::unordered_set<std::string>* hosts = nullptr;
  std::vector<CrawlRecord>* out = nullptr;  // without a state
  std::vector<CrawlPage> results{};
  std::vector<char> done{};
  std::size_t merged = 0;
  std::vector<URL> next_level{};  // without a state

  void complete(std::size_t i) {
    done[i] = 1;
    while (merged < results.size() && done[merged] != 0) {
      const std::size_t j = merged++;
      merge_one(results[j], (*level)[j]);
    }
  }

  void merge_one(CrawlPage& r, const Queued& q) {
    const CrawlerOptions& o = s->options;
    CrawlState* state = o.state.get();
    std::string final_url = r.record.url;
    try {
      final_url = URL(r.record.url).normalized().str();
    } catch (const ValueError&) {
    }
    if (final_url != r.record.requested &&
        (state != nullptr ? state->recorded(final_url) : s->fetched.contains(final_url))) {
      ++s->stats.duplicates;  // redirected to a page recorded already
      if (state != nullptr) state->drop(q.seq);
      r = CrawlPage{};
      return;
    }
    if (!r.record.ok()) ++s->stats.errors;
    if (state != nullptr) {
      state->record(q.seq, final_url, r.record);
      ++s->stats.pages;
    } else {
      s->fetched.insert(final_url);
      s->seen.insert(final_url);
      out->push_back(std::move(r.record));
      s->stats.pages = out->size();
    }
    if (o.max_depth < 0 || q.depth < o.max_depth) {
      for (const std::string& text : r.links) {
        URL link;
        try {
          link = URL(text);
        } catch (const ValueError&) {
          continue;  // a custom fetch step handed back something that is not a URL
        }
        if (o.same_host && !hosts->contains(netloc(link))) continue;
        if (state != nullptr) {
          state->enqueue(text, q.depth + 1);
        } else if (s->seen.insert(text).second) {
          next_level.push_back(std::move(link));
        }
      }
    }
    if (o.on_record) o.on_record(state != nullptr ? r.record : out->back());
    r = CrawlPage{};  // merged: its links and record are not needed twice
  }
};

// Tracing: a page's span (fetch, retries, parse), named by its URL, with status and depth.
void trace_page(const CrawlPage& page, std::int64_t since) noexcept {
  try {
    detail::TraceArgs a;
    a.k1 = "status";
    a.v1 = page.record.status;
    a.k2 = "depth";
    a.v2 = page.record.depth;
    a.k3 = "links";
    a.v3 = static_cast<std::int64_t>(page.links.size());
    if (!page.record.error.empty()) {
      a.skey = "error";
      a.sval = page.record.error;
    }
    detail::trace_async_span("crawler", "page " + page.record.requested, since,
                             detail::trace_now_ns(), std::move(a));
  } catch (...) {
  }
}

asyncio::Task<> worker(StatePtr s, const std::vector<Queued>& level, LevelMerge& merge,
                       std::size_t& next) {
  std::vector<CrawlPage>& results = merge.results;
  const CrawlerOptions& o = s->options;
  for (;;) {
    const std::size_t i = next++;
    if (i >= level.size()) co_return;
    const URL& url = level[i].url;
    const int depth = level[i].depth;
    const std::int64_t traced_since = detail::tracing() ? detail::trace_now_ns() : 0;
    if (o.fetch) {
      // The session's limit_per_host does not apply to a custom step: the same limit here.
      asyncio::Held<asyncio::Semaphore> slot;
      if (o.per_host > 0) {
        auto& sem = s->host_slots[netloc(url)];
        if (!sem) sem = std::make_unique<asyncio::Semaphore>(static_cast<int>(o.per_host));
        slot = co_await sem->acquire();
      }
      if (o.respect_robots) co_await pace(s, url);
      results[i] = co_await o.fetch(url.str(), depth);
    } else {
      std::function<asyncio::Task<>()> pacer;
      if (o.respect_robots) pacer = [s, &url] { return pace(s, url); };
      CrawlDownload d =
          co_await download_page(s->session, o, std::nullopt, url, depth, std::move(pacer));
      if (d.html && d.body.size() >= o.parse_offload_bytes) {
        // The options are only read, here and by the parse: sharing them is safe.
        results[i] = co_await asyncio::to_thread(
            [&o](CrawlDownload download) { return parse_crawl_page(o, std::move(download)); },
            std::move(d));
      } else {
        results[i] = parse_crawl_page(o, std::move(d));
      }
    }
    if (traced_since != 0) [[unlikely]]
      trace_page(results[i], traced_since);
    s->stats.retries += static_cast<std::size_t>(results[i].retries);
    s->stats.bytes += results[i].bytes;
    s->stats.links_too_long += results[i].links_too_long;
    if (o.on_page) o.on_page(results[i].record);
    merge.complete(i);
  }
}

// Fetches `level` with up to `concurrency` workers and merges it in order; returns the next
// level's URLs (without a state; with one they went to its frontier).
asyncio::Task<std::vector<URL>> run_level(StatePtr s, const std::vector<Queued>& level,
                                          const std::unordered_set<std::string>& hosts,
                                          std::vector<CrawlRecord>* out) {
  LevelMerge merge{.s = s, .level = &level, .hosts = &hosts, .out = out};
  merge.results.resize(level.size());
  merge.done.assign(level.size(), 0);
  std::size_t next = 0;
  std::vector<asyncio::Task<>> workers;
  const std::size_t n = std::min(s->options.concurrency, level.size());
  for (std::size_t w = 0; w < n; ++w)
    workers.push_back(asyncio::create_task(worker(s, level, merge, next)));
  co_await asyncio::gather(std::move(workers));
  co_return std::move(merge.next_level);
}

// The start URLs, checked and normalised; their hosts go into `hosts` (for same_host).
std::vector<URL> start_urls(const std::vector<std::string>& start,
                            std::unordered_set<std::string>& hosts) {
  std::vector<URL> urls;
  for (const std::string& text : start) {
    URL u;
    try {
      u = URL(text);
    } catch (const ValueError& e) {
      throw InvalidURL(text, e.what());
    }
    if (u.scheme() != "http" && u.scheme() != "https")
      throw InvalidURL(text, "not an http or https URL");
    if (u.host().empty()) throw InvalidURL(text, "the URL has no host");
    u = u.normalized();
    hosts.insert(netloc(u));
    urls.push_back(std::move(u));
  }
  return urls;
}

// The options a resumed crawl must share with the state's (they decide which pages are
// crawled and what their records hold).
std::vector<CrawlState::Setting> result_settings(const CrawlerOptions& o) {
  return {{"max_depth", std::to_string(o.max_depth)},
          {"same_host", o.same_host ? "true" : "false"},
          {"select", o.select},
          {"respect_robots", o.respect_robots ? "true" : "false"},
          {"user_agent", o.user_agent}};
}

// The crawl on a CrawlState: the frontier is read a window at a time, in order; each window's
// pages go through the same merge as a level's, into the state's tables.
asyncio::Task<> crawl_with_state(StatePtr s, const std::vector<URL>& start,
                                 const std::unordered_set<std::string>& hosts) {
  const CrawlerOptions& o = s->options;
  CrawlState& state = *o.state;
  std::vector<std::string> start_text;
  for (const URL& u : start) start_text.push_back(u.str());
  state.begin(start_text, result_settings(o));
  s->stats.resumed = state.pages_done();
  // Whatever ends the crawl (done, cancelled, failed), the records placed are kept.
  struct CommitOnExit {
    CrawlState& state;
    ~CommitOnExit() {
      try {
        state.commit();
      } catch (...) {  // NOLINT(bugprone-empty-catch): that batch is fetched again on resume
      }
    }
  } commit_on_exit{state};
  const std::size_t window = std::max<std::size_t>(1024, 16 * o.concurrency);
  for (;;) {
    std::size_t n = window;
    if (o.max_pages > 0) {
      const std::size_t done = state.pages_done();
      if (done >= o.max_pages) break;
      n = std::min(n, o.max_pages - done);
    }
    std::vector<Queued> level;
    for (CrawlFrontierEntry& e : state.frontier(n)) {
      try {
        level.push_back({URL(e.url), e.depth, e.seq});
      } catch (const ValueError&) {
        state.drop(e.seq);  // not a URL (cannot come from this crawler)
      }
    }
    if (level.empty() && state.frontier_size() == 0) break;
    if (o.respect_robots) level = co_await allowed_by_robots(s, std::move(level));
    if (!level.empty()) co_await run_level(s, level, hosts, nullptr);
    state.commit();
  }
}

asyncio::Task<std::vector<CrawlRecord>> crawl_impl(StatePtr s, std::vector<std::string> start) {
  if (s->running) throw RuntimeError("Crawler: a crawl is already running");
  s->running = true;
  struct Done {
    detail::CrawlerState* s;
    ~Done() { s->running = false; }
  } done{s.get()};
  const CrawlerOptions& o = s->options;
  const auto began = Clock::now();
  s->stats = {};
  s->seen.clear();
  s->fetched.clear();

  std::unordered_set<std::string> hosts;
  const std::vector<URL> starts = start_urls(start, hosts);
  std::vector<CrawlRecord> out;
  if (o.state) {
    co_await crawl_with_state(s, starts, hosts);
    s->stats.elapsed = Clock::now() - began;
    co_return out;
  }

  std::vector<Queued> level;
  for (const URL& u : starts) {
    if (s->seen.insert(u.str()).second) level.push_back({u, 0});
  }
  for (int depth = 0; !level.empty(); ++depth) {
    if (o.respect_robots) level = co_await allowed_by_robots(s, std::move(level));
    if (o.max_pages > 0 && level.size() > o.max_pages - out.size())
      level.resize(o.max_pages - out.size());
    if (level.empty()) break;

    // Merged in discovery order as pages complete: the next level's order does not depend on
    // timing.
    std::vector<URL> next_level = co_await run_level(s, level, hosts, &out);
    s->stats.pages = out.size();
    if (o.max_pages > 0 && out.size() >= o.max_pages) break;
    level.clear();
    for (URL& u : next_level) level.push_back({std::move(u), depth + 1});
  }
  s->stats.pages = out.size();
  s->stats.elapsed = Clock::now() - began;
  co_return out;
}

}  // namespace

asyncio::Task<std::vector<CrawlRecord>> Crawler::crawl(std::vector<std::string> start) {
  return crawl_impl(s_, std::move(start));
}

CrawlPage parse_crawl_page(const CrawlerOptions& o, CrawlDownload d) {
  CrawlPage page;
  page.bytes = d.bytes;
  page.retries = d.retries;
  if (d.html) {
    URL base;
    try {
      base = URL(d.record.url);
    } catch (const ValueError&) {
      d.html = false;
    }
    if (d.html && o.select.empty()) {
      // No selector: the title and the links are all a page gives, and the streaming scanner
      // finds them without building a tree (same results as html::Document's, a fraction of
      // the time and memory).
      const html::LinkScanner scan(d.body);
      std::string().swap(d.body);
      d.record.title = scan.title().value_or("");
      if (d.record.status >= 200 && d.record.status < 300) {
        html::CrawlLinkStats skipped;
        for (const URL& link : scan.crawl_links(base, &skipped)) page.links.push_back(link.str());
        page.links_too_long = skipped.too_long;
      }
    } else if (d.html) {
      const html::Document doc(std::move(d.body));
      d.record.title = doc.title().value_or("");
      if (d.record.status >= 200 && d.record.status < 300) {
        html::CrawlLinkStats skipped;
        for (const URL& link : doc.crawl_links(base, &skipped)) page.links.push_back(link.str());
        page.links_too_long = skipped.too_long;
      }
      for (const auto& link : doc.links(base, o.select))
        d.record.items.push_back({link.url.str(), link.text});
    }
  }
  page.record = std::move(d.record);
  return page;
}

CrawlDownload download_crawl_page_blocking(const CrawlerOptions& o, const std::string& url,
                                           int depth) {
  detail::ThreadClient& c = detail::thread_client("download_crawl_page_blocking");
  URL u;
  try {
    u = URL(url);
  } catch (const ValueError& e) {
    throw InvalidURL(url, e.what());
  }
  return c.run(download_page(c.session, o, page_request_options(o), std::move(u), depth, {}));
}

CrawlPage fetch_crawl_page_blocking(const CrawlerOptions& o, const std::string& url, int depth) {
  return parse_crawl_page(o, download_crawl_page_blocking(o, url, depth));
}

}  // namespace pyconc::aiohttp
