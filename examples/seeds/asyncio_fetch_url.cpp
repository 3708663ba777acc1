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
// The session is a stand-in: pyconc has no HTTP client yet. ClientSession here has one method,
// text(url) -- `session.get(url)` then `response.text()` -- which waits a second for the page
// and returns a fake page naming its url; the HTTP issue will swap in aiohttp's ClientSession.
// Differences: pyconc has no get_event_loop(): the loop is an aio::EventLoop object. C++20 has
// no zip view: the zip is an index loop (gather's results come in the order of `tasks`).
// The program checks that each url got its own page, that both requests were in flight at
// once, and that the run took less than the two waits added up. --quick: a second lasts 100 ms.
#include <pyconc/asyncio.hpp>

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

// Stand-in for aiohttp.ClientSession.
class ClientSession {
 public:
  // `async with session.get(url) as response: return await response.text()`
  aio::Task<std::string> text(std::string url) {
    ++in_flight;
    most_in_flight = std::max(most_in_flight, in_flight);
    const Stopwatch waiting;
    co_await aio::sleep(1 * second);
    waited += waiting.elapsed();
    --in_flight;
    co_return "<html><!-- " + url + " --></html>";
  }
};

// 异步函数，用于从 URL 获取内容
aio::Task<std::string> fetch_url(ClientSession& session, std::string url) {
  co_return co_await session.text(url);
}

bool pages_match = false;

// 主函数，用于并发发送多个 HTTP 请求
aio::Task<> amain() {  // the seed's main()
  const std::vector<std::string> urls = {"https://www.csdn.net/", "https://www.baidu.com"};

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
      pages_match = pages_match && result == "<html><!-- " + url + " --></html>";
    }
  }
}

int main(int argc, char** argv) {
  use_quick_seconds(argc, argv,
                    std::chrono::milliseconds(100));  // the check's margin is one second

  const Stopwatch time;
  // 创建并运行事件循环
  aio::EventLoop loop;
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
