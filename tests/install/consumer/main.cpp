// Uses the installed pyconc: two threads hand items over a bounded queue; a page is parsed
// with the HTML parser (gumbo, a private dependency a static pyconc brings along).
#include <pyconc/pyconc.hpp>

#include <cstdio>

int main() {
  namespace th = pyconc::threading;
  pyconc::queue::Queue<int> q(2);
  long sum = 0;
  th::Thread consumer([&] {
    for (int i = 0; i < 100; ++i) sum += q.get();
  });
  consumer.start();
  for (int i = 1; i <= 100; ++i) q.put(i);
  consumer.join();
  std::printf("sum=%ld\n", sum);
  pyconc::aiohttp::html::Document page("<base href='/blog/'><a class=t href=post/1>one</a>");
  const auto links = page.links(pyconc::aiohttp::URL("http://example.com/"), "a.t");
  const bool html_ok = links.size() == 1 && links[0].url.str() == "http://example.com/blog/post/1";
  std::printf("link=%s\n", links.empty() ? "-" : links[0].url.str().c_str());
  return sum == 5050 && html_ok ? 0 : 1;
}
