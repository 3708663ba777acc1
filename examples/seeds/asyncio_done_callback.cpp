// asyncio_done_callback -- seed 004 "协程实现回调": a done-callback on each crawl_page task
// prints its result as soon as the task finishes.
//
// import asyncio
//
//
// async def crawl_page(url):
//     print('crawling {}'.format(url))
//     sleep_time = int(url.split('_')[-1])
//     await asyncio.sleep(sleep_time)
//     return 'OK {}'.format(url)
//
//
// async def main(urls):
//     tasks = [asyncio.create_task(crawl_page(url)) for url in urls]
//     for task in tasks:
//         task.add_done_callback(lambda future: print('result: ', future.result()))
//     await asyncio.gather(*tasks)
//
// # %time asyncio.run(main(['url_1', 'url_2', 'url_3', 'url_4']))
// await main(['url_1', 'url_2', 'url_3', 'url_4'])
//
// The callback receives the finished task (Python calls it `future`) and runs on the loop right
// after the task is done, before gather() returns. Python's print('result: ', x) prints two
// spaces (the one in the string and print's separator); so does this one. The program checks
// the seed's output: the four "crawling" lines, then one "result" line per page, shortest
// first, all before main() resumes (it prints "gathered" -- not in the seed -- to show that);
// and that the run took the longest sleep, not the sleeps added up.
// --quick: a second lasts 50 ms.
#include <pyconc/asyncio.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "print.hpp"
#include "seconds.hpp"

namespace aio = pyconc::asyncio;

std::chrono::steady_clock::duration slept{};  // every crawl_page's sleep, added up

aio::Task<std::string> crawl_page(std::string url) {
  print("crawling", url);
  const int sleep_time = std::stoi(url.substr(url.rfind('_') + 1));
  const Stopwatch sleeping;
  co_await aio::sleep(sleep_time * second);
  slept += sleeping.elapsed();
  co_return "OK " + url;
}

aio::Task<> amain(std::vector<std::string> urls) {  // the seed's main(urls)
  std::vector<aio::Task<std::string>> tasks;
  for (const auto& url : urls) tasks.push_back(aio::create_task(crawl_page(url)));
  for (auto& task : tasks) {
    task.add_done_callback(
        [](aio::Task<std::string>& future) { print("result: ", future.result()); });
  }
  co_await aio::gather(std::move(tasks));
  print("gathered");
}

int main(int argc, char** argv) {
  use_quick_seconds(argc, argv);
  const std::vector<std::string> urls = {"url_1", "url_2", "url_3", "url_4"};

  const Stopwatch time;  // %time
  aio::run(amain(urls));
  print("Wall time:", time.text(), "-- the sleeps added up:", seconds_text(slept));

  std::vector<std::string> expected;
  for (const auto& url : urls) expected.push_back("crawling " + url);
  for (const auto& url : urls) expected.push_back("result:  OK " + url);
  expected.push_back("gathered");
  if (!printed_first(expected)) return 1;
  // Together they take the longest sleep (4 of the 10 s); allow up to 7.5 for a loaded machine.
  if (time.elapsed() > 0.75 * slept) {
    print("FAIL: the tasks did not sleep at the same time");
    return 1;
  }
  return 0;
}
