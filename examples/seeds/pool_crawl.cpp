// pool_crawl -- seed 001 "线程池": craw 50 cnblogs pages with a ThreadPoolExecutor's map().
//
// urls = [
//     f'https://www.cnblogs.com/#p{page}' for page in range(1,50+1)
// ]
// def craw(url):
//     r=requests.get(url)
//     return r.text
//
// import concurrent.futures
//
// # craw
// with concurrent.futures.ThreadPoolExecutor() as pool:
//     htmls=pool.map(craw,urls)
//     htmls = list(zip(urls,htmls))
//     for url,html in htmls:
//         print(url,len(html))
//
// print("craw over")
//
// Here the pages come from the demo blog (pyconc::demo::DemoSiteServer) on a loopback port
// instead of cnblogs: its list pages /list/1..50, each answered after `page_delay`, as a slow
// site would; craw is requests.get(url).text with pyconc::requests (each pool thread has its
// own connection). The waits overlap in the pool, so the whole crawl takes a fraction of the
// serial sum -- the point of the seed.
#include <pyconc/aiohttp/requests.hpp>
#include <pyconc/futures.hpp>
#include <pyconc_demo/server.hpp>
#include <pyconc_demo/site.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "print.hpp"

using namespace std::chrono_literals;
namespace cf = pyconc::futures;

std::chrono::milliseconds page_delay = 200ms;  // how long the site takes to answer a page
std::atomic<std::int64_t> waited_us{0};        // the time all craw calls took, added up
std::vector<std::string> urls;                 // filled once the site runs

std::string craw(const std::string& url) {
  const auto start = std::chrono::steady_clock::now();
  auto r = pyconc::requests::get(url);
  waited_us += std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count();
  return r.text;
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  if (quick) page_delay = 30ms;
  pyconc::demo::DemoSiteServer site(page_delay);
  for (int page = 1; page <= 50; ++page) urls.push_back(site.url("/list/" + std::to_string(page)));

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, std::string>> htmls;
  // craw
  {
    cf::ThreadPoolExecutor pool;
    std::size_t i = 0;
    for (std::string html : pool.map(craw, urls)) htmls.emplace_back(urls[i++], std::move(html));
    for (const auto& [url, html] : htmls) {
      print(url, html.size());
    }
  }
  print("craw over");
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  // One page after another would take as long as all the craw calls took, added up.
  const std::chrono::duration<double> serial = std::chrono::microseconds(waited_us.load());
  print("took", took.count(), "seconds; one page after another:", serial.count(), "seconds");

  bool ok = htmls.size() == urls.size();
  for (std::size_t i = 0; ok && i < urls.size(); ++i)
    ok = htmls[i].first == urls[i] &&
         htmls[i].second == pyconc::demo::demo_site_page("/list/" + std::to_string(i + 1)).body;
  if (!ok) {
    print("FAIL: map must give each url its own page, in the order of urls");
    return 1;
  }
  if (took > 0.6 * serial) {
    print("FAIL: the pool did not overlap the waits (took >= 60% of the serial time)");
    return 1;
  }
  return 0;
}
