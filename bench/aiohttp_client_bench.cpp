// bench/aiohttp_client_bench.cpp -- the HTTP client: N GETs against a local nginx, 32 at a
// time, with pyconc's ClientSession (libcurl multi driven by our event loop) beside libcurl's
// own event loop (curl_multi_poll, the same multi interface without pyconc: what driving it
// from our loop costs); CPython's aiohttp (default loop and uvloop) runs the same workloads in
// bench/python/aiohttp_client.py.
//
// Needs PYCONC_BENCH_HTTP_URL, the base URL of a server with /small.txt (1 KiB) and
// /64k.bin (64 KiB): bench/run.sh starts nginx for it (bench/nginx.sh). Without it every
// benchmark is skipped with an error message.
//
// Workloads (time per request; items_per_iteration = requests per iteration):
//   Http_GetSmall  2000 GETs of 1 KiB, at most 32 connections, body read
//   Http_Get64K     500 GETs of 64 KiB, same
// Each iteration opens a new session (so its 32 connections), as the Python side does with
// one `async with ClientSession()` per run.
#include <curl/curl.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "common.hpp"
#include "pyconc/aiohttp.hpp"
#include "pyconc/asyncio.hpp"

namespace aio = pyconc::asyncio;
namespace http = pyconc::aiohttp;

namespace {

constexpr int kConcurrency = 32;

const char* base_url() {
  return std::getenv("PYCONC_BENCH_HTTP_URL");
}

aio::Task<std::size_t> fetch(http::ClientSession& session, const std::string& url) {
  auto resp = co_await session.get(url);
  co_return (co_await resp.read()).size();
}

std::size_t pyconc_batch(const std::string& url, int n) {
  return aio::run([](std::string url, int n) -> aio::Task<std::size_t> {
    http::ClientSession session({.limit = kConcurrency});
    std::vector<aio::Task<std::size_t>> tasks;
    tasks.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) tasks.push_back(aio::create_task(fetch(session, url)));
    std::size_t bytes = 0;
    for (std::size_t b : co_await aio::gather(std::move(tasks))) bytes += b;
    co_return bytes;
  }(url, n));
}

// libcurl alone: 32 easy handles kept busy on one multi handle, curl_multi_poll as the loop.
std::size_t curl_batch(const std::string& url, int n) {
  struct Sink {
    std::string body;
    static std::size_t write(char* p, std::size_t s, std::size_t k, void* self) {
      static_cast<Sink*>(self)->body.append(p, s * k);
      return s * k;
    }
  };
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(kConcurrency));
  std::vector<CURL*> easies(kConcurrency);
  std::vector<Sink> sinks(kConcurrency);
  int started = 0, finished = 0;
  std::size_t bytes = 0;
  auto start_one = [&](int slot) {
    CURL* e = easies[static_cast<std::size_t>(slot)];
    sinks[static_cast<std::size_t>(slot)].body.clear();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Sink::write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &sinks[static_cast<std::size_t>(slot)]);
    curl_easy_setopt(e, CURLOPT_PRIVATE,
                     static_cast<void*>(&sinks[static_cast<std::size_t>(slot)]));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_multi_add_handle(multi, e);
    ++started;
  };
  for (int i = 0; i < kConcurrency; ++i) {
    easies[static_cast<std::size_t>(i)] = curl_easy_init();
    if (started < n) start_one(i);
  }
  while (finished < n) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      CURL* e = m->easy_handle;
      curl_multi_remove_handle(multi, e);
      ++finished;
      for (int s = 0; s < kConcurrency; ++s) {
        if (easies[static_cast<std::size_t>(s)] != e) continue;
        bytes += sinks[static_cast<std::size_t>(s)].body.size();
        if (started < n) start_one(s);
      }
    }
    if (finished < n) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  for (CURL* e : easies) curl_easy_cleanup(e);
  curl_multi_cleanup(multi);
  return bytes;
}

template <std::size_t (*Batch)(const std::string&, int)>
void run_http(benchmark::State& state, const char* path, int n, std::size_t size) {
  const char* base = base_url();
  if (base == nullptr) {
    state.SkipWithError("PYCONC_BENCH_HTTP_URL is not set (bench/run.sh starts nginx for it)");
    return;
  }
  const std::string url = std::string(base) + path;
  for (auto _ : state) {
    const std::size_t bytes = Batch(url, n);
    if (bytes != size * static_cast<std::size_t>(n)) {
      state.SkipWithError("wrong number of bytes received");
      return;
    }
  }
  state.counters["items_per_iteration"] = n;
}

void BM_Http_GetSmall_pyconc(benchmark::State& s) {
  run_http<pyconc_batch>(s, "/small.txt", 2000, 1024);
}
void BM_Http_GetSmall_libcurl_multi(benchmark::State& s) {
  run_http<curl_batch>(s, "/small.txt", 2000, 1024);
}
void BM_Http_Get64K_pyconc(benchmark::State& s) {
  run_http<pyconc_batch>(s, "/64k.bin", 500, 65536);
}
void BM_Http_Get64K_libcurl_multi(benchmark::State& s) {
  run_http<curl_batch>(s, "/64k.bin", 500, 65536);
}

}  // namespace

// Wall-clock time: the work is I/O with a server in another process.
BENCHMARK(BM_Http_GetSmall_pyconc)
    ->Name("BM_Http_GetSmall/pyconc")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Http_GetSmall_libcurl_multi)
    ->Name("BM_Http_GetSmall/libcurl_multi")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Http_Get64K_pyconc)
    ->Name("BM_Http_Get64K/pyconc")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Http_Get64K_libcurl_multi)
    ->Name("BM_Http_Get64K/libcurl_multi")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const int rc = run_benchmarks(argc, argv);
  curl_global_cleanup();
  return rc;
}
