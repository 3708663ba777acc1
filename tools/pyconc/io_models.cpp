// tools/pyconc/io_models.cpp -- the C++ download models of `pyconc compare`.
#include "io_models.hpp"

#include <chrono>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "pyconc/aiohttp/client.hpp"
#include "pyconc/aiohttp/requests.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/futures.hpp"
#include "pyconc/multiprocessing.hpp"
#include "pyconc/threading/thread.hpp"

namespace pyconc::tool {

namespace th = pyconc::threading;
namespace cf = pyconc::futures;
namespace mp = pyconc::multiprocessing;
namespace aio = pyconc::asyncio;
using namespace std::chrono_literals;

namespace {

// No download may hang a model: the demo server answers in milliseconds.
constexpr auto kRequestTimeout = 30s;

// The seeds' craw(url): requests.get(url).text, here its length. A function of plain values
// so a ProcessPoolExecutor can run it in a worker process.
std::uint64_t craw(std::string url) {
  requests::Response r =
      requests::get(url, {.timeout = aiohttp::ClientTimeout{.total = kRequestTimeout}});
  r.raise_for_status();
  return r.text.size();
}

// The first exception of several threads, rethrown by the caller once all have ended (a
// thread target must not let an exception escape).
class FirstError {
 public:
  void capture() {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::current_exception();
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
};

// for url in urls: craw(url)
// On a thread of its own: pyconc::requests keeps one event loop + session per calling thread,
// and the main thread must keep none, or the Process-per-task model's children (forks of it)
// would inherit that loop's epoll instance and connections.
void run_serial(const Downloads& d, const ModelOptions& /*options*/) {
  FirstError error;
  th::Thread t([&d, &error] {
    try {
      for (std::size_t i = 0; i < d.size(); ++i) d.lengths[i] = craw(d.urls[i]);
    } catch (...) {
      error.capture();
    }
  });
  t.start();
  t.join();
  error.rethrow();
}

// The seeds' multi_thread(): threads = [Thread(target=craw, args=(url,)) for url in urls];
// start all, then join all.
void run_thread_per_task(const Downloads& d, const ModelOptions& /*options*/) {
  FirstError error;
  std::vector<th::Thread> threads;
  threads.reserve(d.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    threads.emplace_back(
        [&d, &error](std::size_t j) {
          try {
            d.lengths[j] = craw(d.urls[j]);
          } catch (...) {
            error.capture();
          }
        },
        i);
  }
  for (th::Thread& t : threads) t.start();
  for (th::Thread& t : threads) t.join();
  error.rethrow();
}

// The seeds: with ThreadPoolExecutor() as pool: htmls = pool.map(craw, urls)
void run_thread_pool_map(const Downloads& d, const ModelOptions& /*options*/) {
  cf::ThreadPoolExecutor pool;
  std::size_t i = 0;
  for (const std::uint64_t n : pool.map(craw, d.urls)) d.lengths[i++] = n;
}

// processes = [Process(target=craw_into, args=(queue, i, url)) for ...]; start all; one
// result per process from a multiprocessing Queue; join all. Each child is a fork; see
// run_serial for why no client state may be in the forking thread.
using ChildResult = std::tuple<std::uint64_t, std::uint64_t, std::string>;  // i, length, error

void craw_into(mp::Queue<ChildResult>& results, std::uint64_t i, const std::string& url) {
  try {
    results.put({i, craw(url), std::string()});
  } catch (const std::exception& e) {
    results.put({i, 0, e.what()});
  }
}

void run_process_per_task(const Downloads& d, const ModelOptions& /*options*/) {
  mp::Queue<ChildResult> results;
  std::vector<mp::Process> procs;
  procs.reserve(d.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    procs.emplace_back(craw_into, std::ref(results), std::uint64_t{i}, d.urls[i]);
  }
  for (mp::Process& p : procs) p.start();
  std::string error;
  for (std::size_t n = 0; n < d.size(); ++n) {
    // Bounded: a child that died without a result (killed) must not hang the tool.
    auto [i, length, what] = results.get(2 * kRequestTimeout);
    if (i < d.size()) d.lengths[i] = length;
    if (!what.empty() && error.empty()) error = what;
  }
  for (mp::Process& p : procs) p.join();
  if (!error.empty()) throw RuntimeError("a download in a child process failed: " + error);
}

// with ProcessPoolExecutor(N) as pool:
//     futures = [pool.submit(craw, url) for url in urls]; [f.result() for f in futures]
void run_process_pool_submit(const Downloads& d, const ModelOptions& options) {
  cf::ProcessPoolExecutor pool(options.workers);
  std::vector<Future<std::uint64_t>> futures;
  futures.reserve(d.size());
  for (const std::string& url : d.urls) futures.push_back(pool.submit(craw, url));
  for (std::size_t i = 0; i < futures.size(); ++i) d.lengths[i] = futures[i].result();
}

// async with aiohttp.ClientSession() as session:
//     await asyncio.gather(*(async_craw(session, url) for url in urls))
aio::Task<std::uint64_t> async_craw(aiohttp::ClientSession& session, std::string url) {
  aiohttp::ClientResponse resp = co_await session.get(url);
  resp.raise_for_status();
  const std::string html = co_await resp.text();
  co_return html.size();
}

aio::Task<std::vector<std::uint64_t>> gather_pages(std::span<const std::string> urls) {
  aiohttp::ClientSession session({.timeout = {.total = kRequestTimeout}});
  std::vector<aio::Task<std::uint64_t>> tasks;
  tasks.reserve(urls.size());
  for (const std::string& url : urls) tasks.push_back(async_craw(session, url));
  co_return co_await aio::gather(std::move(tasks));
}

void run_asyncio(const Downloads& d, const ModelOptions& /*options*/) {
  const std::vector<std::uint64_t> lengths = aio::run(gather_pages(d.urls));
  for (std::size_t i = 0; i < lengths.size(); ++i) d.lengths[i] = lengths[i];
}

constexpr IoModel kIoModels[] = {
    {"serial", run_serial},
    {"thread_per_task", run_thread_per_task},
    {"thread_pool_map", run_thread_pool_map},
    {"process_per_task", run_process_per_task},
    {"process_pool_submit", run_process_pool_submit},
    {"asyncio", run_asyncio},
};

}  // namespace

std::span<const IoModel> io_models() {
  return kIoModels;
}

}  // namespace pyconc::tool
