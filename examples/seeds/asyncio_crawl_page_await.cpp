// asyncio_crawl_page_await -- seed 004 "协程 coroutine": `await crawl_page(url)` in a loop --
// asynchronous functions, but one page after another.
//
// # await 调用 用异步接口写同步代码
// import asyncio
//
//
// async def crawl_page(url):
//     print('crawling {}'.format(url))
//     sleep_time = int(url.split('_')[-1])
//     await asyncio.sleep(sleep_time)
//     print('OK {}'.format(url))
//
//
// async def main(urls):
//     for url in urls:
//         await crawl_page(url)
//
//
// # %time asyncio.run(main(['url_1', 'url_2', 'url_3', 'url_4']))
// await main(['url_1', 'url_2', 'url_3', 'url_4'])
//
// `await` on a coroutine runs it to its end before the next line: the four pages take
// 1 + 2 + 3 + 4 = 10 seconds, each crawl begins when the one before is OK. The program checks
// exactly that (the order of the lines, and at least 10 seconds); asyncio_crawl_page_tasks
// is the concurrent version. --quick: a second lasts 50 ms.
#include <pyconc/asyncio.hpp>

#include <string>
#include <vector>

#include "print.hpp"
#include "seconds.hpp"

namespace aio = pyconc::asyncio;

aio::Task<> crawl_page(std::string url) {
  print("crawling", url);
  const int sleep_time = std::stoi(url.substr(url.rfind('_') + 1));
  co_await aio::sleep(sleep_time * second);
  print("OK", url);
}

aio::Task<> amain(std::vector<std::string> urls) {  // the seed's main(urls)
  for (const auto& url : urls) {
    co_await crawl_page(url);
  }
}

int main(int argc, char** argv) {
  use_quick_seconds(argc, argv);
  const std::vector<std::string> urls = {"url_1", "url_2", "url_3", "url_4"};

  const Stopwatch time;  // %time
  aio::run(amain(urls));
  print("Wall time:", time.text());

  // One after another: "crawling url_2" only after "OK url_1", and so on.
  std::vector<std::string> expected;
  for (const auto& url : urls) {
    expected.push_back("crawling " + url);
    expected.push_back("OK " + url);
  }
  if (!printed_first(expected)) return 1;
  if (time.elapsed() < 10 * second) {
    print("FAIL: awaiting each page in turn must take the sleeps added up (10 s)");
    return 1;
  }
  return 0;
}
