// asyncio_fetch_url -- seed 000 "asyncio 协程": fetch several urls concurrently with gather(),
// run on an event loop obtained, run and closed by hand.
//
// import asyncio
// import aiohttp
//
//
// # 异步函数，用于从 URL 获取内容
// async def fetch_url(session, url):
//     async with session.get(url) as response:
//         return await response.text()
//
//
// # 主函数，用于并发发送多个 HTTP 请求
// async def main():
//     urls = ['https://www.csdn.net/', 'https://www.baidu.com',]
//
//     # 使用 aiohttp 创建异步会话
//     async with aiohttp.ClientSession() as session:
//         # 创建异步任务列表，每个任务会调用 fetch_url 函数，传递不同的 URL
//         tasks = [fetch_url(session, url) for url in urls]
//
//         # 并发执行所有异步任务，并等待结果
//         results = await asyncio.gather(*tasks)
//
//         # 打印每个 URL 的内容长度
//         for url, result in zip(urls, results):
//             print(f"Content from {url}: {len(result)} bytes")
//
//
// # 创建并运行事件循环
// loop = asyncio.get_event_loop()
// loop.run_until_complete(main())  # 运行主函数并等待其完成
// loop.close()  # 关闭事件循环
//
// The two sites are two pages of the demo blog (pyconc::demo::DemoSiteServer) on a loopback
// port, each answered after one second (100 ms with --quick), as slow sites; the session is
// pyconc's aiohttp::ClientSession.
// Differences: C++20 has no zip view: the zip is an index loop (gather's results come in the
// order of `tasks`). GCC 12: the request is made, then awaited (see docs/aiohttp.md).
// The program checks that each url got its own page, that both requests were in flight at
// once, and that the run took less than the two waits added up.
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

std::chrono::steady_clock::duration waited{};  // every request's wait, added up
int in_flight = 0;                             // requests under way now
int most_in_flight = 0;

namespace http = pyconc::aiohttp;
using http::ClientSession;

// 异步函数，用于从 URL 获取内容
aio::Task<std::string> fetch_url(ClientSession& session, std::string url) {
  ++in_flight;
  most_in_flight = std::max(most_in_flight, in_flight);
  const Stopwatch waiting;
  auto response = co_await session.get(url);  // async with session.get(url) as response:
  std::string text = co_await response.text();
  waited += waiting.elapsed();
  --in_flight;
  co_return text;
}

std::vector<std::string> urls;  // the seed's two sites: two pages of the demo blog
std::vector<std::string> paths = {"/list/1", "/post/7"};

bool pages_match = false;

// 主函数，用于并发发送多个 HTTP 请求
aio::Task<> amain() {  // the seed's main()
  // 使用 aiohttp 创建异步会话
  {
    ClientSession session;
    // 创建异步任务列表，每个任务会调用 fetch_url 函数，传递不同的 URL
    std::vector<aio::Task<std::string>> tasks;
    for (const auto& url : urls) tasks.push_back(fetch_url(session, url));

    // 并发执行所有异步任务，并等待结果
    std::vector<std::string> results = co_await aio::gather(std::move(tasks));

    // 打印每个 URL 的内容长度
    pages_match = results.size() == urls.size();
    for (std::size_t i = 0; i < urls.size() && i < results.size(); ++i) {
      const std::string& url = urls[i];
      const std::string& result = results[i];
      print("Content from " + url + ": " + std::to_string(result.size()) + " bytes");
      pages_match = pages_match && result == pyconc::demo::demo_site_page(paths[i]).body;
    }
  }
}

int main(int argc, char** argv) {
  use_quick_seconds(argc, argv,
                    std::chrono::milliseconds(100));  // the check's margin is one second

  pyconc::demo::DemoSiteServer sites(1 * second);
  for (const auto& p : paths) urls.push_back(sites.url(p));

  const Stopwatch time;
  // 创建并运行事件循环
  aio::EventLoop& loop = aio::get_event_loop();
  loop.run_until_complete(amain());  // 运行主函数并等待其完成
  loop.close();                      // 关闭事件循环
  print("took", time.text(), "-- the waits added up:", seconds_text(waited));

  if (!pages_match) {
    print("FAIL: gather must give each url its own page, in the order of urls");
    return 1;
  }
  if (most_in_flight != 2 || time.elapsed() >= waited) {
    print("FAIL: the two requests did not wait at the same time");
    return 1;
  }
  return 0;
}
