// Uses the installed pyconc through the umbrella header alone, and calls one function of every
// module, so that `#include <pyconc/pyconc.hpp>` can never again miss a module:
// threading, queue, concurrent.futures (threads and processes), subprocess, multiprocessing,
// asyncio (with TLS: OpenSSL, private), contextvars, aiohttp (HTML parsing with gumbo, a private dependency a static pyconc brings along;
// the web Application's router) and the version header.
#include <pyconc/pyconc.hpp>

#include <cstdio>
#include <string>

namespace {

long square(long x) {
  return x * x;
}

pyconc::asyncio::Task<int> twice(int x) {
  co_await pyconc::asyncio::sleep(std::chrono::milliseconds(1));
  co_return 2 * x;
}

pyconc::asyncio::Task<int> amain() {
  auto [a, b] = co_await pyconc::asyncio::gather(twice(1), twice(2));
  co_return a + b;
}

int failures = 0;
void check(bool ok, const char* what) {
  std::printf("%-16s %s\n", what, ok ? "ok" : "FAILED");
  if (!ok) ++failures;
}

}  // namespace

int main() {
  namespace th = pyconc::threading;
  namespace cf = pyconc::futures;
  namespace mp = pyconc::multiprocessing;
  namespace sp = pyconc::subprocess;
  namespace aio = pyconc::asyncio;
  namespace web = pyconc::aiohttp::web;

  // threading + queue
  pyconc::queue::Queue<int> q(2);
  long sum = 0;
  th::Thread consumer([&] {
    for (int i = 0; i < 100; ++i) sum += q.get();
  });
  consumer.start();
  for (int i = 1; i <= 100; ++i) q.put(i);
  consumer.join();
  check(sum == 5050, "threading+queue");

  // concurrent.futures: a thread pool and a process pool (re-executes this program)
  {
    cf::ThreadPoolExecutor pool(2);
    check(pool.submit(square, 7L).result() == 49, "ThreadPool");
    cf::ProcessPoolExecutor procs(1);
    check(procs.submit(square, 9L).result() == 81, "ProcessPool");
  }

  // subprocess
  check(sp::check_output({"echo", "hi"}) == "hi\n", "subprocess");

  // multiprocessing: a Pipe between this process and a forked child
  {
    auto [parent, child] = mp::Pipe();
    mp::Process p([&child] { child.send(std::string("from child")); });
    p.start();
    const auto got = parent.recv<std::string>();
    p.join();
    check(got == "from child" && p.exitcode() == 0, "multiprocessing");
  }

  // asyncio
  check(aio::run(amain()) == 6, "asyncio");
  // asyncio's TLS (OpenSSL, a private dependency a static pyconc brings along) and contextvars
  check(aio::SSLContext::client().check_hostname(), "asyncio TLS");
  {
    pyconc::contextvars::ContextVar<int> var("var", 1);
    const int in_copy = pyconc::contextvars::copy_context().run([&] {
      var.set(2);
      return var.get();
    });
    check(in_copy == 2 && var.get() == 1, "contextvars");
  }

  // aiohttp: the HTML parser and the web router
  pyconc::aiohttp::html::Document page("<base href='/blog/'><a class=t href=post/1>one</a>");
  const auto links = page.links(pyconc::aiohttp::URL("http://example.com/"), "a.t");
  check(links.size() == 1 && links[0].url.str() == "http://example.com/blog/post/1",
        "aiohttp.html");
  web::Application app;
  app.router().add_get("/hello/{name}", [](web::Request& req) -> aio::Task<web::Response> {
    co_return web::Response("hello, " + req.match_info("name"));
  });
  check(true, "aiohttp.web");

  check(pyconc::version.major == PYCONC_VERSION_MAJOR && PYCONC_VERSION >= 200, "version");
  return failures == 0 ? 0 : 1;
}
