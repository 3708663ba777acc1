// asyncio_crawl_page_tasks -- seed 004 "协程 coroutine": the crawl_page sample with
// asyncio.create_task() -- the whole run takes as long as the slowest page.
//
// # 改为asyncio.create_task()：运行总时长等于运行时间最长的爬虫
// import asyncio
//
// async def crawl_page(url):
//     print('crawling {}'.format(url))
//     sleep_time = int(url.split('_')[-1])
//     await asyncio.sleep(sleep_time)
//     print('OK {}'.format(url))
//
// async def main(urls):
//     tasks = [asyncio.create_task(crawl_page(url)) for url in urls]
//     # for task in tasks:
//     #     await task
//     await asyncio.gather(*tasks)
//
//
// # %time asyncio.run(main(['url_1', 'url_2', 'url_3', 'url_4']))
// await main(['url_1', 'url_2', 'url_3', 'url_4'])
//
// The four tasks start before any of them finishes and sleep at the same time: the run takes
// about 4 seconds (the longest sleep), not 1 + 2 + 3 + 4 = 10 as in asyncio_crawl_page_await.
// The program checks that every "crawling" line comes before the first "OK" line, that the pages
// finish shortest first, and that the run took well under the sleeps added up (as each sleep
// measured them, so a slow machine cannot fail it). --quick: a second lasts 50 ms.
// The seed's commented-out variant (`for task in tasks: await task`) waits just as long.
#include <pyconc/asyncio.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "print.hpp"
#include "seconds.hpp"

namespace aio = pyconc::asyncio;

std::chrono::steady_clock::duration slept{};  // every crawl_page's sleep, added up

aio::Task<> crawl_page(std::string url) {
  print("crawling", url);
  const int sleep_time = std::stoi(url.substr(url.rfind('_') + 1));
  const Stopwatch sleeping;
  co_await aio::sleep(sleep_time * second);
  slept += sleeping.elapsed();
  print("OK", url);
}

aio::Task<> amain(std::vector<std::string> urls) {  // the seed's main(urls)
  std::vector<aio::Task<>> tasks;
  for (const auto& url : urls) tasks.push_back(aio::create_task(crawl_page(url)));
  // for (auto& task : tasks) co_await task;
  co_await aio::gather(std::move(tasks));
}

int main(int argc, char** argv) {
  use_quick_seconds(argc, argv);
  const std::vector<std::string> urls = {"url_1", "url_2", "url_3", "url_4"};

  const Stopwatch time;  // %time
  aio::run(amain(urls));
  print("Wall time:", time.text(), "-- the sleeps added up:", seconds_text(slept));

  // All four start before the first is OK; they finish shortest first.
  std::vector<std::string> expected;
  for (const auto& url : urls) expected.push_back("crawling " + url);
  for (const auto& url : urls) expected.push_back("OK " + url);
  if (!printed_first(expected)) return 1;
  // Together they take the longest sleep (4 of the 10 s); allow up to 7.5 for a loaded machine.
  if (time.elapsed() > 0.75 * slept) {
    print("FAIL: the tasks did not sleep at the same time");
    return 1;
  }
  return 0;
}
