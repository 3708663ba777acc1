// pool_submit_as_completed -- seeds 004 and 001: submit() every job, then take the results with
// as_completed(), first finished first.
//
// Seed 004 "Futures":
//
// def download_one(url):
//     resp = requests.get(url)
//     print('Read {} from {}'.format(len(resp.content), url))
//
// def download_all(sites):
//     with concurrent.futures.ThreadPoolExecutor(max_workers=5) as executor:
//         to_do = []
//         for site in sites:
//             future = executor.submit(download_one, site)
//             to_do.append(future)
//
//         for future in concurrent.futures.as_completed(to_do):
//             future.result()
//
// def main():
//     sites = [
//         'https://en.wikipedia.org/wiki/Portal:Arts',
//         ...
//         'https://en.wikipedia.org/wiki/Go_(programming_language)'
//     ]
//     start_time = time.perf_counter()
//     download_all(sites)
//     end_time = time.perf_counter()
//     print('Download {} sites in {} seconds'.format(len(sites), end_time - start_time))
//
// Seed 001 "parse, 用submit" (htmls is the craw cell's list of (url, html), see pool_crawl.cpp):
//
// with concurrent.futures.ThreadPoolExecutor() as pool:
//     futures = {}
//     for url, html in htmls:
//         future = pool.submit(parse,html)
//         futures[future] = url
//
//     # for future,url in futures.items():  # 按传入顺序获取返回结果
//     #     print(url, future.result())
//     for future in concurrent.futures.as_completed(futures):   # 先完成的任务先返回结果
//         url = futures[future]
//         print(url,future.result())
//
// Stand-ins (no HTTP here): download_one sleeps a url-dependent time and "reads" a made-up
// number of bytes; craw makes a fake cnblogs page holding a url-dependent number of post links,
// and parse sleeps per post it finds, so the jobs finish out of submission order.
// C++: a pyconc::Future is hashable, so the seed's dict {future: url} is an unordered_map; Python
// iterates a dict as its keys, C++ says so with std::views::keys.
#include <pyconc/futures.hpp>
#include <pyconc/threading.hpp>

#include <chrono>
#include <cstddef>
#include <iostream>
#include <map>
#include <mutex>
#include <ranges>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "print.hpp"

using namespace std::chrono_literals;
namespace cf = pyconc::futures;
namespace th = pyconc::threading;

std::chrono::milliseconds unit = 100ms;  // a stand-in job sleeps 1..5 units

// --- seed 004 ---

th::Lock read_lock;
std::vector<std::string> read_sites;  // every site download_one read, guarded by read_lock

void download_one(const std::string& url) {
  std::this_thread::sleep_for(static_cast<int>(url.size() % 5 + 1) * unit);  // requests.get(url)
  const std::size_t content_length = 1000 * url.size();
  print("Read", content_length, "from", url);
  std::lock_guard g(read_lock);
  read_sites.push_back(url);
}

void download_all(const std::vector<std::string>& sites) {
  cf::ThreadPoolExecutor executor(5);
  std::vector<pyconc::Future<void>> to_do;
  for (const auto& site : sites) {
    auto future = executor.submit(download_one, site);
    to_do.push_back(future);
  }

  for (auto& future : cf::as_completed(to_do)) {
    future.result();
  }
}

bool seed_004() {
  const std::vector<std::string> sites = {
      "https://en.wikipedia.org/wiki/Portal:Arts",
      "https://en.wikipedia.org/wiki/Portal:History",
      "https://en.wikipedia.org/wiki/Portal:Society",
      "https://en.wikipedia.org/wiki/Portal:Biography",
      "https://en.wikipedia.org/wiki/Portal:Mathematics",
      "https://en.wikipedia.org/wiki/Portal:Technology",
      "https://en.wikipedia.org/wiki/Portal:Geography",
      "https://en.wikipedia.org/wiki/Portal:Science",
      "https://en.wikipedia.org/wiki/Computer_science",
      "https://en.wikipedia.org/wiki/Python_(programming_language)",
      "https://en.wikipedia.org/wiki/Java_(programming_language)",
      "https://en.wikipedia.org/wiki/PHP",
      "https://en.wikipedia.org/wiki/Node.js",
      "https://en.wikipedia.org/wiki/The_C_Programming_Language",
      "https://en.wikipedia.org/wiki/Go_(programming_language)",
  };
  const auto start_time = std::chrono::steady_clock::now();
  download_all(sites);
  const auto end_time = std::chrono::steady_clock::now();
  print("Download", sites.size(), "sites in",
        std::chrono::duration<double>(end_time - start_time).count(), "seconds");

  std::map<std::string, int> times_read;
  for (const auto& url : read_sites) ++times_read[url];
  bool ok = read_sites.size() == sites.size();
  for (const auto& site : sites) ok = ok && times_read[site] == 1;
  if (!ok) print("FAIL: every site must be read exactly once");
  return ok;
}

// --- seed 001 ---

using Posts = std::vector<std::pair<std::string, std::string>>;  // [(href, title), ...]

int page_number(const std::string& url) {  // "https://www.cnblogs.com/#p7" -> 7
  return std::stoi(url.substr(url.rfind("#p") + 2));
}
int posts_on_page(int p) {
  return p * 7 % 5 + 1;
}

std::string craw(const std::string& url) {  // stand-in: a fake page, 1..5 post links
  const int p = page_number(url);
  std::string html = "<html><body>";
  for (int k = 1; k <= posts_on_page(p); ++k) {
    html += "<a class=\"post-item-title\" href=\"https://www.cnblogs.com/author" +
            std::to_string(p) + "/p/" + std::to_string(k) + "\">post " + std::to_string(p) + "." +
            std::to_string(k) + "</a>";
  }
  return html + "</body></html>";
}

Posts parse(const std::string& html) {  // stand-in for BeautifulSoup: one unit per post
  Posts posts;
  const std::string href_open = "href=\"";
  for (std::size_t at = html.find(href_open); at != std::string::npos;
       at = html.find(href_open, at)) {
    at += href_open.size();
    const std::size_t href_end = html.find('"', at);
    const std::size_t title_begin = html.find('>', href_end) + 1;
    const std::size_t title_end = html.find("</a>", title_begin);
    posts.emplace_back(html.substr(at, href_end - at),
                       html.substr(title_begin, title_end - title_begin));
    std::this_thread::sleep_for(unit);
  }
  return posts;
}

std::string repr(const Posts& posts) {  // Python's repr of a list of tuples
  std::string out = "[";
  for (const auto& [href, title] : posts) {
    out += (out.size() > 1 ? ", ('" : "('") + href + "', '" + title + "')";
  }
  return out + "]";
}

bool seed_001(int pages) {
  std::vector<std::pair<std::string, std::string>> htmls;  // what the craw cell left behind
  for (int i = 1; i <= pages; ++i) {
    const std::string url = "https://www.cnblogs.com/#p" + std::to_string(i);
    htmls.emplace_back(url, craw(url));
  }

  std::vector<std::string> reported;  // urls in the order as_completed gave them
  bool results_ok = true;
  {
    cf::ThreadPoolExecutor pool;
    std::unordered_map<pyconc::Future<Posts>, std::string> futures;
    for (const auto& [url, html] : htmls) {
      auto future = pool.submit(parse, html);
      futures[future] = url;
    }

    // (The seed's commented-out loop, 按传入顺序获取返回结果, relies on a dict keeping insertion
    // order; an unordered_map does not, so it is left out.)
    for (auto& future : cf::as_completed(std::views::keys(futures))) {  // 先完成的任务先返回结果
      const std::string& url = futures.at(future);
      print(url, repr(future.result()));
      reported.push_back(url);
      const int p = page_number(url);
      const Posts& posts = future.result();
      results_ok = results_ok && static_cast<int>(posts.size()) == posts_on_page(p);
      for (const auto& [href, title] : posts)
        results_ok = results_ok &&
                     href.starts_with("https://www.cnblogs.com/author" + std::to_string(p) + "/p/");
    }
  }

  std::map<std::string, int> times_reported;
  for (const auto& url : reported) ++times_reported[url];
  bool in_submission_order = true;
  for (std::size_t i = 0; i < reported.size(); ++i)
    in_submission_order = in_submission_order && reported[i] == htmls[i].first;
  print("as_completed order", in_submission_order ? "matched" : "differed from",
        "the submission order");

  bool ok = results_ok && reported.size() == htmls.size();
  for (const auto& [url, html] : htmls) ok = ok && times_reported[url] == 1;
  if (!ok) print("FAIL: every url must be reported exactly once, with its own page's posts");
  return ok;
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  if (quick) unit = 10ms;

  const bool ok_004 = seed_004();
  const bool ok_001 = seed_001(quick ? 20 : 50);
  return ok_004 && ok_001 ? 0 : 1;
}
