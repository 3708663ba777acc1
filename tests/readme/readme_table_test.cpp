// tests/readme/readme_table_test.cpp -- the compiled twin of README.md's "Python → pyconc" table.
//
// Every C++ cell of the table appears here exactly as written (scripts/check_readme_table.py
// fails, as the ctest test readme.table_in_twin, when one does not), inside a small function
// or coroutine that gives it the names it uses. Rows that finish quickly and need no network
// run as tests; the others (servers, connections, blocking waits, worker processes) are compiled
// only, which is what keeps the README honest. Formatting is off: the cells are kept as the
// README spells them.
// clang-format off
#include <gtest/gtest.h>

#include <csignal>

// JSON values (nlohmann::json) are what a program asks for by name, as the README's JSON rows say.
#include <pyconc/aiohttp/json.hpp>

// README: the preamble of the table, as written.
#include <pyconc/pyconc.hpp>
namespace th = pyconc::threading;
namespace cf = pyconc::futures;
namespace sp = pyconc::subprocess;
namespace aio = pyconc::asyncio;
namespace mp = pyconc::multiprocessing;
namespace http = pyconc::aiohttp;
namespace queue = pyconc::queue;
namespace web = pyconc::aiohttp::web;
using namespace std::chrono_literals;
// The row that names it.
namespace html = pyconc::aiohttp::html;

namespace readme {

std::atomic<int> worked{0};
void work(int n) { worked += n; }
bool is_prime(long n) {
  if (n < 2) return false;
  for (long d = 2; d * d <= n; ++d) if (n % d == 0) return false;
  return true;
}
long job(long x) { return x * x; }
long add(long a, long b) { return a + b; }
struct Student { std::string name; };

// ---- threading ----
void row_thread() { th::Thread t(work, 1); t.start(); t.join(); }
void row_thread_options() {
  auto work = [] {};
  th::Thread t({.name = "t2", .daemon = true}, work);
  th::ThreadOptions options{.name = "t2", .daemon = true};
  th::Thread same(options, work);
  t.start();
  t.join();
}
struct MyThread : th::Thread { void run() override { work(1); } };
void row_thread_accessors(th::Thread& t) {
  t.join(500ms); t.is_alive(); t.name(); t.ident(); t.native_id();
}
void row_thread_module() {
  EXPECT_EQ(th::current_thread().name(), th::main_thread().name());
  EXPECT_GE(th::active_count(), 1);
  EXPECT_FALSE(th::enumerate().empty());
}
void row_excepthook(th::ExceptHook hook) { auto previous = th::set_excepthook(hook); th::set_excepthook(previous); }
void row_lock() {
  th::Lock lock; { std::lock_guard g(lock); }
  EXPECT_TRUE(lock.acquire(true, 100ms)); EXPECT_TRUE(lock.locked()); lock.release();
}
void row_semaphores() { th::RLock rlock; th::Semaphore sem(5); th::BoundedSemaphore bs(2); }
void row_condition() {
  bool ready = true;
  th::Condition cv; { std::lock_guard g(cv); cv.wait_for([&]{ return ready; }, 1s); }
}
void row_event() { th::Event ev; ev.set(); ev.wait(1s); }
void row_barrier(std::function<void()> f) { th::Barrier b(3, f, 5s); b.wait(); b.abort(); }
void row_timer() { auto fn = [] {}; th::Timer tm(1s, fn); tm.start(); tm.cancel(); }
void row_local() { th::local<Student> local_school; local_school->name = "Alice"; }

// ---- queue ----
template <class T> void row_queue(T x) {
  pyconc::queue::Queue<T> q(5); q.put(x); q.get(1s);
  q.task_done();
  q.put_nowait(x); q.get_nowait();
  q.task_done();
  EXPECT_THROW(q.get_nowait(), queue::Empty);
  for (int i = 0; i < 5; ++i) q.put(x);
  EXPECT_THROW(q.put_nowait(x), queue::Full);
  for (int i = 0; i < 5; ++i) { q.get(); q.task_done(); }
  q.put(x); q.get(); q.task_done(); q.join(); q.shutdown(true);
  EXPECT_THROW(q.put(x), queue::ShutDown);
}
template <class T, class Compare = std::less<T>> void row_queue_kinds() {
  queue::LifoQueue<T> lifo; queue::PriorityQueue<T, Compare> prio; queue::SimpleQueue<T> simple;
}

// ---- concurrent.futures ----
void row_thread_pool() {
  long n = 97;
  { cf::ThreadPoolExecutor pool; pool.submit(work, 1); }
  { cf::ThreadPoolExecutor pool; pool.shutdown(true); }
  cf::ThreadPoolExecutor pool;
  pyconc::Future<bool> f = pool.submit(is_prime, n); f.result(2s);
  EXPECT_TRUE(f.result());
  auto cb = [](pyconc::Future<bool>&) {};
  std::exception_ptr e = f.exception(); f.cancel(); f.add_done_callback(cb);
  EXPECT_FALSE(e);
  {
    pyconc::Future<bool> f;
    auto h = f.add_done_callback(cb); f.remove_done_callback(h);
    EXPECT_EQ(f.remove_done_callback(h), 0u);
  }
  auto fn = add;
  std::vector<long> xs{1, 2}, ys{3, 4};
  long sum = 0;
  for (auto r : pool.map(fn, xs, ys, cf::MapOptions{.timeout = 5s, .chunksize = 64})) sum += r;
  EXPECT_EQ(sum, 10);
  std::vector<pyconc::Future<bool>> fs{pool.submit(is_prime, 7L), pool.submit(is_prime, 8L)};
  for (auto& f : cf::as_completed(fs, 5s)) f.result();
  auto [done, not_done] = cf::wait(fs, cf::FIRST_COMPLETED);
  EXPECT_FALSE(done.empty());
}

void row_exception_names() {
  try {
    throw pyconc::ValueError("bad value");
  } catch (const std::exception& e) {
    EXPECT_EQ(pyconc::repr(e), "ValueError('bad value')"); EXPECT_EQ(pyconc::type_name(e), "ValueError");
    EXPECT_EQ(pyconc::type_name(e) + ": " + e.what(), "ValueError: bad value");
  }
  std::exception_ptr e = std::make_exception_ptr(pyconc::TimeoutError("late"));
  EXPECT_EQ(pyconc::repr(e), "TimeoutError('late')"); EXPECT_EQ(pyconc::type_name(e), "TimeoutError");
}

void row_exception_tree() {
  int errors = 0, cancellations = 0, others = 0;
  for (int i = 0; i < 3; ++i) {
    try {
      try {
        if (i == 0) throw pyconc::ValueError("v");
        if (i == 1) throw pyconc::CancelledError("c");
        throw pyconc::KeyboardInterrupt();
      } catch (const std::exception& e) {
        ++errors;
      }
    } catch (const pyconc::CancelledError&) {
      ++cancellations;
    } catch (const pyconc::BaseException& e) {
      ++others;
    }
  }
  EXPECT_EQ(errors, 1); EXPECT_EQ(cancellations, 1); EXPECT_EQ(others, 1);
}

// ---- asyncio ----
aio::Task<int> f() { co_return 1; }
aio::Task<void> main() { co_return; }
aio::Task<int> a() { co_return 2; }
aio::Task<int> b() { co_return 3; }
using T = int;
aio::Task<void> row_tasks() {
  auto t = aio::create_task(f(), "n"); co_await t;
  auto [x, y] = co_await aio::gather(a(), b());
  EXPECT_EQ(x + y, 5);
  std::vector<aio::Task<int>> ts;
  ts.push_back(aio::create_task(a()));
  auto results = co_await aio::gather(std::move(ts), aio::return_exceptions);
  EXPECT_EQ(results.size(), 1u);
  std::vector<aio::Outcome<T>> outcomes = std::move(results);
  EXPECT_TRUE(outcomes[0].has_value()); EXPECT_EQ(outcomes[0].value(), 2); EXPECT_FALSE(outcomes[0].exception());
  EXPECT_EQ(co_await aio::wait_for(f(), 2s), 1);
  EXPECT_EQ(co_await aio::timeout(2s, f()), 1);
  co_await aio::timeout(2s, [&](aio::Timeout&) -> aio::Task<> { co_await f(); });
  co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> { tg.create_task(f()); co_return; });
  {
    auto& loop = aio::get_running_loop();
    auto fut = loop.create_future<int>(); fut.set_result(1); co_await fut;
    EXPECT_EQ(fut.result(), 1);
  }
  EXPECT_EQ(co_await aio::shield(f()), 1);
  auto fn = [](int n) { return n * 2; };
  EXPECT_EQ(co_await aio::to_thread(fn, 3), 6);
  cf::ThreadPoolExecutor pool;
  auto four = [] { return 4; };
  EXPECT_EQ(co_await pool.submit(four), 4);
  {
    auto fn = four;
    EXPECT_EQ(co_await pool.submit(fn), 4);
  }
}
void row_run() { aio::run(main()); }
void row_event_loop() {
  auto f = [](std::string u) -> aio::Task<int> { co_return static_cast<int>(u.size()); };
  std::string u = "abc";
  std::vector<aio::Task<int>> ts;
  auto& loop = aio::get_event_loop(); auto t = loop.create_task(f(u)); loop.run_until_complete(aio::wait(ts));
}
aio::Task<void> row_task_group() {
  aio::TaskGroup tg;
  std::vector<aio::Task<int>> ts;
  ts.push_back(aio::create_task(f()));
  co_await aio::wait(ts);
  for (auto next : aio::as_completed(ts)) co_await next;
}
aio::Task<void> row_streams(std::string host, int n, std::string s) {
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", 8888);
  co_await reader.readline(); co_await reader.readexactly(n); co_await reader.readuntil(";");
  writer.write(s); co_await writer.drain();
  auto handle = [](aio::StreamReader, aio::StreamWriter) -> aio::Task<void> { co_return; };
  auto server = co_await aio::start_server(handle, host, 8888); co_await server.serve_forever();
}
aio::Task<void> row_tls() {
  auto [r, w] = co_await aio::open_connection("example.org", 443, {.ssl = aio::SSLContext::client()});
  auto handle = [](aio::StreamReader, aio::StreamWriter) -> aio::Task<void> { co_return; };
  co_await aio::start_server(handle, "", 8443, {.ssl = aio::SSLContext::server("cert.pem", "key.pem")});
}
void row_signals_runner() {
  auto& loop = aio::get_event_loop();
  loop.add_signal_handler(SIGTERM, [] { /* ... */ }); loop.remove_signal_handler(SIGTERM);
  aio::Runner runner; runner.run(a()); runner.run(b());
}
TEST(Readme, SignalsAndRunner) { row_signals_runner(); }
TEST(Readme, ContextVars) {
  pyconc::contextvars::Context().run([] {
    pyconc::contextvars::ContextVar<std::string> request_id("request_id", "-");
    auto token = request_id.set("r1"); request_id.get(); request_id.reset(token);
    EXPECT_EQ(request_id.get(), "-");
  });
}
aio::Task<void> row_async_subprocess(std::string cmd) {
  auto p = co_await aio::create_subprocess_exec({"ls", "-l"}, {.stdout_ = aio::PIPE}); auto [out, err] = co_await p.communicate();
  co_await p.wait(); p.returncode(); p.kill(); co_await aio::create_subprocess_shell(cmd);
}
aio::Task<void> row_async_primitives(std::function<bool()> pred) {
  {
    aio::Lock lock; { auto held = co_await lock.acquire(); }
    co_await lock.lock(); EXPECT_TRUE(lock.locked()); lock.release();
  }
  aio::Semaphore sem(5); { auto held = co_await sem.acquire(); } aio::BoundedSemaphore bs(2);
  aio::Event ev; co_await ev.wait(); ev.set(); ev.clear();
  aio::Condition cond; { auto held = co_await cond.acquire(); co_await cond.wait_for(pred); cond.notify_all(); }
  try {
    aio::Barrier b(3); int i = co_await b.wait(); b.abort();
    (void)i;
  } catch (const aio::BrokenBarrierError&) {
  }
}
template <class T, class Compare = std::less<T>> aio::Task<void> row_async_queue(T x) {
  aio::Queue<T> q(10); co_await q.put(x); T v = co_await q.get(); q.task_done(); co_await q.join();
  EXPECT_EQ(v, x);
  q.put_nowait(x); q.get_nowait(); EXPECT_THROW(q.get_nowait(), aio::QueueEmpty);
  aio::Queue<T> small(1); small.put_nowait(x); EXPECT_THROW(small.put_nowait(x), aio::QueueFull);
  q.shutdown(true); EXPECT_THROW(q.put_nowait(x), aio::QueueShutDown);
  aio::LifoQueue<T> lifo; aio::PriorityQueue<T, Compare> prio;
}

// ---- generators ----
namespace row_generator {
using T = int;
const T x = 7;
pyconc::Generator<T> gen() { co_yield x; }
pyconc::Generator<int> inner() { co_yield 1; co_yield 2; }
pyconc::Generator<int> outer() { co_yield pyconc::yield_from(inner()); }
using R = std::string;
using N = std::optional<int>;
pyconc::Generator<R, N> two_way() {
  const R r = "r";
  for (;;) {
    try {
      N n = co_yield r;
      if (n) co_yield std::to_string(*n);
    } catch (const pyconc::ValueError&) {
    }
  }
}
}  // namespace row_generator

// ---- subprocess ----
void row_subprocess(std::vector<std::string> args, std::string data, std::string d, std::map<std::string, std::string> e, std::string s) {
  auto r = sp::run(args, {.capture_output = true, .timeout = 10s});
  const std::string all = std::to_string(r.returncode) + r.stdout_text + r.stderr_text;
  sp::run(args, {.input = data, .shell = true, .cwd = d, .check = true, .text = true, .env = e});
  sp::call({"ls", "-l"}); sp::check_call({"true"}); sp::check_output({"echo", "hi"});
  sp::Popen p({"cat"}, {.stdin_ = sp::PIPE, .stdout_ = sp::PIPE, .stderr_ = sp::STDOUT});
  auto [out, err] = p.communicate("set q=mx\n", 5s);
  p.poll(); p.wait(1s); std::optional<int> rc = p.returncode(); (void)rc; p.pid(); p.kill(); p.terminate();
  for (auto& line : p.stdout_()) (void)line;
  p.stdin_().write(s);
  try {
    sp::check_call({"false"});
  } catch (const sp::CalledProcessError&) {
  } catch (const sp::TimeoutExpired&) {
  } catch (const pyconc::FileNotFoundError& e) {
    const pyconc::OSError& os = e; os.errno_();
  }
}

// ---- multiprocessing ----
struct P : mp::Process { void run() override; };
void P::run() { work(1); }
void row_process() {
  mp::Process p(work, 1); p.start(); p.join();
  p.exitcode(); p.terminate(); p.kill(); mp::current_process().pid(); mp::cpu_count();
}
void row_shared_state() {
  mp::Value<int> v(0); { std::lock_guard g(v.get_lock()); v.value() += 3; } mp::Array<int> a{1, 2, 3, 4};
  EXPECT_EQ(v.value(), 3);
  mp::Lock l; EXPECT_FALSE(l.owner_died());
}
template <class T> void row_mp_queues() {
  auto [c1, c2] = mp::Pipe(); c1.send(std::string("hi")); c2.recv<std::string>(); c2.poll(1s);
  mp::Queue<std::string> q; q.put("A"); q.get(1s); mp::JoinableQueue<T> jq; mp::SimpleQueue<T> sq;
}
void row_manager() {
  mp::Manager mgr; auto d = mgr.dict<std::string, std::string>(); auto l = mgr.list<std::string>(); d["name"] = "malu"; l.append("hi");
}
void row_shared_memory() {
  mp::shared_memory::SharedMemory m({.create = true, .size = 64}); m.buf(); m.unlink();
}
void init_worker(int) {}
void row_process_pool(std::vector<long> xs) {
  auto f = init_worker;
  int x = 1;
  long n = 97;
  auto fn = job;
  static_assert(mp::Serializable<long>);
  cf::ProcessPoolExecutor procs(2, {.initializer = {f, x}, .max_tasks_per_child = 10});
  procs.submit(is_prime, n); procs.map(fn, xs, cf::MapOptions{.chunksize = 64});
  try {
    procs.submit(is_prime, n).result();
  } catch (const cf::BrokenProcessPool&) {
  }
}
std::string func1(std::string s) { return s + "!"; }
void func2(std::string&) {}
void row_pool(std::vector<long> xs, std::vector<std::tuple<long, long>> pairs) {
  auto f = job;
  { mp::Pool pool(4); std::vector<long> r = pool.map(job, xs); }
  {
    auto ctx = mp::get_context("fork");
    mp::Pool pool(4, {.context = ctx});
    mp::set_start_method("forkserver");
    cf::ProcessPoolExecutor ex(4, {.mp_context = ctx});
  }
  mp::Pool pool(2);
  auto r = pool.apply_async(func1, std::make_tuple(std::string("x")), func2); r.get(1s);
  pool.imap(f, xs); pool.imap_unordered(f, xs); pool.starmap(add, pairs);
  pool.close(); pool.join(); pool.terminate();
}
template <class T> void row_pickle(T x) {
  std::string b = mp::dumps(x); EXPECT_EQ(mp::loads<T>(b), x);
}

// ---- aiohttp ----
aio::Task<void> row_client(std::string url) {
  http::ClientSession s({.limit = 100, .limit_per_host = 10});
  {
    auto request = s.get(url, {.params = {{"q", "1"}}});
    auto resp = co_await std::move(request);
  }
  auto resp = co_await s.get(url);
  resp.status(); resp.headers(); co_await resp.text(); nlohmann::json j = co_await resp.json(); resp.raise_for_status();
  {
    auto chunks = resp.content().iter_chunked(65536); while (auto chunk = co_await chunks.next()) {}
    auto wsc = co_await s.ws_connect("ws://127.0.0.1:8000/ws");
    co_await wsc.send_str("hi"); auto m = co_await wsc.receive(); co_await wsc.close();
  }
  auto post = s.post(url, {.json = {{"k", 1}}});
  co_await std::move(post);
  auto form = s.post(url, {.data = {{"k", "v"}}});
  co_await std::move(form);
  http::FormData data;
  http::RequestOptions options{.timeout = http::ClientTimeout{.total = 5s, .sock_read = 2s}};
  try {
    co_await s.get(url);
  } catch (const http::ClientConnectorError&) {
  } catch (const http::TooManyRedirects&) {
  } catch (const http::ClientResponseError&) {
  } catch (const http::ClientError&) {
  } catch (const pyconc::TimeoutError&) {
  }
  s.close();
}
void row_requests(std::string url) {
  auto r = pyconc::requests::get(url);
  if (r.status_code == 200 && !r.text.empty()) nlohmann::json j = r.json();
}
aio::Task<web::Response> h(web::Request&) { co_return web::Response(); }
void row_web() { web::Application app; app.router().add_get("/hello/{name}", h); web::run_app(app); }
void row_url(pyconc::aiohttp::URL href) {
  pyconc::aiohttp::URL u("https://a.org/p?q=1"); u.host(); u.query().getone("q");
  EXPECT_EQ(u.host(), "a.org");
  EXPECT_EQ(u.query().getone("q"), "1");
  const pyconc::aiohttp::URL& page = u;
  page.join(href); u.with_query({{"q", "a b"}}); u.normalized();
  http::MultiDict md; http::CIMultiDict cmd; cmd.add("A", "1");
  EXPECT_EQ(cmd.getone("a"), "1");
  EXPECT_THROW(md.getone("x"), pyconc::KeyError);
}
void row_html(std::string text, pyconc::aiohttp::URL page_url) {
  html::Document soup(text); soup.title();
  soup.find_all("a", {.class_ = "post-item-title"}); soup.select("div.x a");
  for (auto& tag : soup.find_all("a")) { tag.get("href"); tag.get_text(); tag.text(); }
  soup.links(page_url, "a.t");
}
void row_robots(std::string text, std::string ua, std::string url) {
  http::RobotFileParser rp; rp.parse(text); rp.can_fetch(ua, url);
}

}  // namespace readme

// ---- the rows that run ----
using namespace readme;

TEST(ReadmeTable, Threading) {
  row_thread();
  row_thread_options();
  MyThread mt; mt.start(); mt.join();
  row_thread_accessors(mt);
  row_thread_module();
  row_excepthook([](const th::ExceptHookArgs&) {});
  row_lock();
  row_semaphores();
  row_condition();
  row_event();
  row_timer();
  row_local();
  EXPECT_EQ(worked.load(), 2);
}

TEST(ReadmeTable, Queue) {
  row_queue(3);
  row_queue_kinds<int>();
  row_queue_kinds<int, std::greater<int>>();
}

TEST(ReadmeTable, Futures) {
  row_thread_pool();
  row_exception_names();
  row_exception_tree();
}

TEST(ReadmeTable, Asyncio) {
  aio::run(row_tasks());
  row_run();
  aio::run(row_async_queue(5));
}

TEST(ReadmeTable, Generators) {
  using namespace row_generator;
  {
    auto g = gen();
    for (auto& v : gen()) EXPECT_EQ(v, 7);
    EXPECT_EQ(pyconc::next(g), 7);
  }
  std::vector<int> got;
  for (auto& v : outer()) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{1, 2}));
  {
    auto g = two_way();
    int n = 4;
    auto e = std::make_exception_ptr(pyconc::ValueError("x"));
    EXPECT_EQ(g.send(), "r"); EXPECT_EQ(g.send(n), "4"); g.throw_(e); g.close();
  }
}

TEST(ReadmeTable, Multiprocessing) {
  row_shared_state();
  row_shared_memory();
  row_pickle(std::string("malu"));
  row_pickle(std::vector<int>{1, 2, 3});
}

TEST(ReadmeTable, Aiohttp) {
  row_url(pyconc::aiohttp::URL("/x"));
  row_html("<html><head><title>T</title></head><body><a class='t' href='/a'>A</a></body></html>",
           pyconc::aiohttp::URL("https://a.org/"));
  row_robots("User-agent: *\nDisallow: /private\n", "bot", "https://a.org/private");
}

// The rows compiled only: a reference keeps each function odr-used without running it.
TEST(ReadmeTable, CompiledOnly) {
  void (*const compiled[])() = {
      [] { row_barrier({}); },           [] { row_event_loop(); },
      [] { aio::run(row_task_group()); }, [] { aio::run(row_streams("127.0.0.1", 1, "x")); },
      [] { aio::run(row_async_subprocess("true")); },
      [] { aio::run(row_async_primitives({})); },
      [] { row_subprocess({}, "", "", {}, ""); }, [] { row_process(); },
      [] { row_mp_queues<int>(); },      [] { row_manager(); },
      [] { row_process_pool({}); },      [] { row_pool({}, {}); },
      [] { aio::run(row_client("http://127.0.0.1:1/")); }, [] { row_requests(""); },
      [] { row_web(); },
  };
  EXPECT_EQ(std::size(compiled), 15u);
}
