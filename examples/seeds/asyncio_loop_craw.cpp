// asyncio_loop_craw -- seed 001 "Python异步IO库：asyncio": craw 50 cnblogs pages as tasks of one
// event loop, run with loop.run_until_complete(asyncio.wait(tasks)).
//
// urls = [
//     f'https://www.cnblogs.com/#p{page}' for page in range(1,50+1)
// ]
//
// import asyncio
// import aiohttp
//
// async def async_craw(url):
//     async with aiohttp.ClientSession() as session:
//         async with session.get(url) as resp:
//             result = await resp.text()
//             print(f"craw url: {url},{len(result)}")
// loop = asyncio.get_event_loop()
// tasks = [
//     loop.create_task(async_craw(url)) for url in urls
// ]
//
// import time
// start = time.time()
// loop.run_until_complete(asyncio.wait(tasks))
// end = time.time()
// print("use time seconds: ",end-start)
//
// craw url: https://www.cnblogs.com/#p5,72647
// craw url: https://www.cnblogs.com/#p3,72647
// craw url: https://www.cnblogs.com/#p10,72647
// ...
//
// (The seed's first cell has the same shape with `async def myfunc(url): await get_url(url)`;
// in the notebook both cells end in "RuntimeError: This event loop is already running", because
// Jupyter already runs a loop -- pyconc's run_until_complete raises the same error there.)
//
// The pages come from the demo blog (pyconc::demo::DemoSiteServer) on a loopback port instead
// of cnblogs: its list pages /list/1..50, each answered after one second (the sample's
// second: 50 ms with --quick), as a slow site would. async_craw is the seed's, on pyconc's
// ClientSession (one session per page, as the seed opens one per call). All 50 downloads wait at
// the same time in one thread, so the pages arrive out of order, as in the seed's output, and
// the whole crawl takes about one page's time.
// The program checks that every url was crawled once with its own page, that all 50 downloads
// were in flight at once, and that the crawl took well under the waits added up (as the waits
// measured them, so a slow machine cannot fail it).
#include <pyconc/aiohttp.hpp>
#include <pyconc/asyncio.hpp>
#include <pyconc_demo/server.hpp>
#include <pyconc_demo/site.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "print.hpp"
#include "seconds.hpp"

namespace aio = pyconc::asyncio;

namespace http = pyconc::aiohttp;

std::vector<std::string> urls;  // the site's /list/1..50, once it runs

std::chrono::steady_clock::duration waited{};  // every download's wait, added up
int in_flight = 0;                             // downloads under way now
int most_in_flight = 0;

// async with aiohttp.ClientSession() as session:
//     async with session.get(url) as resp:
//         result = await resp.text()
aio::Task<std::string> get_text(std::string url) {
  ++in_flight;
  most_in_flight = std::max(most_in_flight, in_flight);
  const Stopwatch waiting;
  http::ClientSession session;
  auto resp = co_await session.get(url);
  std::string text = co_await resp.text();
  waited += waiting.elapsed();
  --in_flight;
  co_return text;
}

std::vector<std::string> crawled;  // the urls whose page came back right, in arrival order

aio::Task<> async_craw(std::string url) {
  std::string result = co_await get_text(url);
  print("craw url: " + url + "," + std::to_string(result.size()));
  const std::string page = url.substr(url.rfind('/') + 1);
  if (result == pyconc::demo::demo_site_page("/list/" + page).body) crawled.push_back(url);
}

int main(int argc, char** argv) {
  use_quick_seconds(argc, argv);

  pyconc::demo::DemoSiteServer site(second);
  for (int page = 1; page <= 50; ++page) urls.push_back(site.url("/list/" + std::to_string(page)));

  aio::EventLoop& loop = aio::get_event_loop();
  std::vector<aio::Task<>> tasks;
  for (const auto& url : urls) tasks.push_back(loop.create_task(async_craw(url)));

  const Stopwatch start;
  loop.run_until_complete(aio::wait(tasks));
  print("use time seconds: ", start.text(), "-- the waits added up:", seconds_text(waited));

  std::vector<std::string> sorted = crawled;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> expected = urls;
  std::sort(expected.begin(), expected.end());
  if (sorted != expected) {
    print("FAIL: every url must be crawled exactly once, with its own page");
    return 1;
  }
  if (most_in_flight != static_cast<int>(urls.size())) {
    print("FAIL: all", urls.size(), "downloads must wait at the same time; at most", most_in_flight,
          "did");
    return 1;
  }
  // Together: about one page (1 s) of the 50 s of waits; allow up to a quarter.
  if (start.elapsed() > 0.25 * waited) {
    print("FAIL: the downloads did not overlap");
    return 1;
  }
  return 0;
}
