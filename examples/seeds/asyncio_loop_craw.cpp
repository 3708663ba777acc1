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
// The session is a stand-in: pyconc has no HTTP client yet. session.get(url) + resp.text() is
// get_text(url), which waits as long as the page takes to arrive (0.5 to 1.5 s, depending on
// the page) and returns a fake page of the seed's length (72647) naming its url; the HTTP issue
// will swap in aiohttp's ClientSession. All 50 downloads wait at the same time in one thread, so
// the pages arrive out of order, as in the seed's output, and the whole crawl takes about the
// slowest page.
// Differences: pyconc's EventLoop has no create_task() method, and aio::create_task() needs a
// running loop; so the list holds the coroutines and asyncio.wait() makes them tasks (in list
// order) once the loop runs -- the same tasks, started in the same order as the seed's.
// The program checks that every url was crawled once with its own page, that all 50 downloads
// were in flight at once, and that the crawl took well under the waits added up (as the waits
// measured them, so a slow machine cannot fail it). --quick: a second lasts 50 ms.
#include <pyconc/asyncio.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "print.hpp"
#include "seconds.hpp"

namespace aio = pyconc::asyncio;

std::vector<std::string> urls = [] {
  std::vector<std::string> v;
  for (int page = 1; page <= 50; ++page)
    v.push_back("https://www.cnblogs.com/#p" + std::to_string(page));
  return v;
}();

std::chrono::steady_clock::duration waited{};  // every download's wait, added up
int in_flight = 0;                             // downloads under way now
int most_in_flight = 0;

// Stand-in for `async with session.get(url) as resp: await resp.text()`.
aio::Task<std::string> get_text(std::string url) {
  const int page = std::stoi(url.substr(url.rfind('p') + 1));
  const auto arrives_after = second * (2 + page * 7 % 5) / 4;  // 0.5 to 1.5 s
  ++in_flight;
  most_in_flight = std::max(most_in_flight, in_flight);
  const Stopwatch waiting;
  co_await aio::sleep(arrives_after);
  waited += waiting.elapsed();
  --in_flight;
  std::string text = "<html><!-- " + url + " -->";
  text.resize(72647, ' ');
  co_return text;
}

std::vector<std::string> crawled;  // the urls whose page came back right, in arrival order

aio::Task<> async_craw(std::string url) {
  std::string result = co_await get_text(url);
  print("craw url: " + url + "," + std::to_string(result.size()));
  if (result.size() == 72647 && result.starts_with("<html><!-- " + url + " -->"))
    crawled.push_back(url);
}

int main(int argc, char** argv) {
  use_quick_seconds(argc, argv);

  aio::EventLoop loop;
  std::vector<aio::Task<>> tasks;
  for (const auto& url : urls) tasks.push_back(async_craw(url));  // loop.create_task(...)

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
  // Together: about the slowest page (1.5 s) of the 50 s of waits; allow up to a quarter.
  if (start.elapsed() > 0.25 * waited) {
    print("FAIL: the downloads did not overlap");
    return 1;
  }
  return 0;
}
