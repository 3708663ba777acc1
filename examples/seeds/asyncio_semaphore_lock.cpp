// asyncio_semaphore_lock -- seed 000 "锁" / "信号量":
// "python也提供信号量机制来控制并发度和共享资源保护， 在asyncio库中支持" -- the seed's code block
// for it is empty; this is the usual asyncio code for what it describes, on the seed's crawl_page
// coroutine (seed 004):
//
// import asyncio
//
// lock = asyncio.Lock()
// sem = asyncio.Semaphore(2)       # 控制并发度: at most 2 pages at a time
// crawled = 0
//
// async def crawl_page(url):
//     global crawled
//     async with sem:
//         print('crawling {}'.format(url))
//         sleep_time = int(url.split('_')[-1])
//         await asyncio.sleep(sleep_time)
//         print('OK {}'.format(url))
//     async with lock:             # 共享资源保护: read, await, write back
//         n = crawled
//         await asyncio.sleep(0)
//         crawled = n + 1
//
// async def main(urls):
//     tasks = [asyncio.create_task(crawl_page(url)) for url in urls]
//     for task in tasks:
//         await task
//
// asyncio.run(main(['url_1', 'url_2', 'url_3', 'url_4']))
//
// Differences: `async with sem:` is a scope holding the guard co_await sem.acquire() returns.
// The check: never more than 2 pages in flight, and the counter is exact (its update reads,
// awaits, then writes back: other tasks run at the await, hence the lock, as in Python).
#include <pyconc/asyncio.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "print.hpp"

using namespace std::chrono_literals;
namespace aio = pyconc::asyncio;

std::chrono::milliseconds second = 1s;
aio::Lock lock;
aio::Semaphore sem(2);  // 控制并发度
int crawled = 0;
int in_flight = 0, peak = 0;

aio::Task<> crawl_page(std::string url) {
  {
    auto held = co_await sem.acquire();  // async with sem:
    peak = std::max(peak, ++in_flight);
    print("crawling " + url);
    const int sleep_time = std::stoi(url.substr(url.rfind('_') + 1));
    co_await aio::sleep(sleep_time * second);
    print("OK " + url);
    --in_flight;
  }
  {
    auto held = co_await lock.acquire();  // async with lock: 共享资源保护
    const int n = crawled;
    co_await aio::sleep(0s);
    crawled = n + 1;
  }
}

aio::Task<> amain(std::vector<std::string> urls) {
  std::vector<aio::Task<>> tasks;
  for (const auto& url : urls) tasks.push_back(aio::create_task(crawl_page(url)));
  for (auto& task : tasks) co_await task;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--quick") second = 10ms;
  const auto start = std::chrono::steady_clock::now();
  aio::run(amain({"url_1", "url_2", "url_3", "url_4"}));
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  print("crawled", crawled, "pages, at most", peak, "at a time, in", took.count(), "s");
  // Two lanes: url_1 then url_3 (1 + 3), url_2 then url_4 (2 + 4): about 6 units, not 10.
  if (crawled != 4 || peak != 2) {
    print("FAIL: the semaphore must allow 2 pages at a time and the lock keep the count exact");
    return 1;
  }
  return 0;
}
