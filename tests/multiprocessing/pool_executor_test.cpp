// cf::ProcessPoolExecutor: results, arguments, map, exceptions, broken pools (kill -9,
// abort, _exit), shutdown, cancellation, max_tasks_per_child, initializer, fork safety.
#include "pyconc/multiprocessing/process_pool_executor.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pool_test_support.hpp"
#include "pyconc/futures/thread_pool_executor.hpp"
#include "pyconc/futures/wait.hpp"
#include "pyconc/threading/event.hpp"

namespace cf = pyconc::futures;
namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;
using pool_test::Channel;

namespace {

// Set by main()-time code of a test, never by static initialization: a worker (a fresh
// execution of this program) sees the initial value.
std::string g_setting = "initial";
int g_initialized = 0;

long square(long x) {
  return x * x;
}
long my_pid() {
  return static_cast<long>(::getpid());
}
std::string shout(std::string s) {
  return s + "!";
}
std::string_view no_copy(std::string_view s) {
  return s;
}  // not Serializable: std::string_view
void nothing(int) {}
std::string read_setting() {
  return g_setting;
}
int threads_in_this_process() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

struct Point {
  double x = 0, y = 0;
  std::string label;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(x, y, label);
  }
};
Point mirror(Point p) {
  p.x = -p.x;
  p.label += "'";
  return p;
}
long sum_all(const std::vector<long>& v) {
  return std::accumulate(v.begin(), v.end(), 0L);
}
std::vector<long> iota_vec(long n) {
  std::vector<long> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0L);
  return v;
}
std::map<std::string, int> count_words(std::vector<std::string> words) {
  std::map<std::string, int> m;
  for (auto& w : words) ++m[w];
  return m;
}

int throw_out_of_range(int i) {
  throw std::out_of_range("index " + std::to_string(i));
}
int throw_value_error() {
  throw pyconc::ValueError("bad value");
}
struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
int throw_user() {
  throw ParseError("line 3");
}

// A result whose serialization fails in the worker.
struct Fragile {
  bool ok = true;
  template <class Archive>
  void save(Archive& ar) const {
    if (!ok) throw std::runtime_error("cannot encode a broken Fragile");
    ar(ok);
  }
  template <class Archive>
  void load(Archive& ar) {
    ar(ok);
  }
};
Fragile make_fragile(bool ok) {
  return Fragile{ok};
}

// Tell the test we run (our pid), then wait for the test's go (or forever).
long report_and_wait(int report_fd, int release_fd) {
  pool_test::say(report_fd, static_cast<long>(::getpid()));
  return pool_test::hear(release_fd);
}
long report_and_block(int report_fd) {
  pool_test::say(report_fd, static_cast<long>(::getpid()));
  for (;;) ::pause();
}
long report_and_abort(int report_fd) {
  pool_test::say(report_fd, static_cast<long>(::getpid()));
  std::abort();
}
long exit_three() {
  ::_exit(3);
}
long block_forever() {
  for (;;) ::pause();
}

void set_up_worker(std::string value, int n) {
  g_setting = std::move(value);
  g_initialized = n;
}
std::string initialized_state() {
  return g_setting + ":" + std::to_string(g_initialized);
}
void failing_initializer() {
  throw std::runtime_error("no database");
}

}  // namespace

// --- compile-time rules -----------------------------------------------------------------------
namespace {
struct NotSerializable {
  int* p = nullptr;
};
int takes_ns(NotSerializable) {
  return 0;
}
NotSerializable returns_ns(int) {
  return {};
}
}  // namespace
static_assert(mp::RemoteInvocable<decltype(&square), long>);
static_assert(mp::RemoteInvocable<decltype(square), int>);  // converted like a call
static_assert(mp::RemoteInvocable<decltype(&shout), const char*>);
static_assert(mp::RemoteInvocable<std::plus<>, int, int>);
static_assert(mp::RemoteInvocable<decltype([](int x) { return x; }), int>);
static_assert(!mp::RemoteInvocable<decltype(&takes_ns), NotSerializable>);  // argument
static_assert(!mp::RemoteInvocable<decltype(&returns_ns), int>);            // result
static_assert(!mp::RemoteInvocable<decltype(&no_copy), std::string>);       // result is a view
static_assert(!mp::RemoteInvocable<decltype(&square), int*>);               // pointer argument
static_assert(!mp::RemoteInvocable<std::function<long(long)>, long>);       // carries state
static_assert(!mp::RemoteInvocable<decltype(&square), std::string>);        // not callable
inline auto captured = [n = 3](int x) { return x + n; };
static_assert(!mp::RemoteInvocable<decltype(captured), int>);  // a capturing lambda

class ProcessPoolExecutorTest : public pool_test::NoLeaks {};

TEST_F(ProcessPoolExecutorTest, RunsInAnotherProcess) {
  cf::ProcessPoolExecutor pool(2);
  EXPECT_EQ(pool.max_workers(), 2);
  pyconc::Future<long> f = pool.submit(square, 7L);
  EXPECT_EQ(f.result(), 49);
  const long worker = pool.submit(my_pid).result();
  EXPECT_NE(worker, ::getpid());
  const auto pids = pool.worker_pids();
  EXPECT_EQ(pids.size(), 2U);
  EXPECT_NE(std::find(pids.begin(), pids.end(), worker), pids.end());
}

TEST_F(ProcessPoolExecutorTest, ArgumentsAndResultsCrossAsValues) {
  cf::ProcessPoolExecutor pool(2);
  EXPECT_EQ(pool.submit(shout, "hi").result(), "hi!");  // a C string crosses as std::string
  EXPECT_EQ(pool.submit(shout, std::string("yo")).result(), "yo!");
  const Point p = pool.submit(mirror, Point{1.5, 2, "p"}).result();
  EXPECT_EQ(p.x, -1.5);
  EXPECT_EQ(p.label, "p'");
  EXPECT_EQ(pool.submit(sum_all, iota_vec(1000)).result(), 499500);
  const auto words = pool.submit(count_words, std::vector<std::string>{"a", "b", "a"}).result();
  EXPECT_EQ(words.at("a"), 2);
  EXPECT_EQ(pool.submit([](int a, int b) { return a * b; }, 6, 7).result(), 42);
  EXPECT_EQ(pool.submit(std::plus<>(), 2, 3).result(), 5);
  pool.submit(nothing, 1).result();  // Future<void>
  static_assert(std::is_same_v<decltype(pool.submit(nothing, 1)), pyconc::Future<void>>);
}

TEST_F(ProcessPoolExecutorTest, LargeArgumentsAndResults) {
  // MBs each way: more than a socket buffer holds, so sends complete on EPOLLOUT.
  cf::ProcessPoolExecutor pool(2);
  std::vector<pyconc::Future<long>> sums;
  for (int i = 0; i < 4; ++i) sums.push_back(pool.submit(sum_all, iota_vec(300'000 + i)));
  auto big = pool.submit(iota_vec, 500'000L);
  for (int i = 0; i < 4; ++i) {
    const long n = 300'000 + i;
    EXPECT_EQ(sums[static_cast<std::size_t>(i)].result(), n * (n - 1) / 2);
  }
  const auto& v = big.result();
  ASSERT_EQ(v.size(), 500'000U);
  EXPECT_EQ(v.back(), 499'999);
}

TEST_F(ProcessPoolExecutorTest, MapKeepsInputOrder) {
  cf::ProcessPoolExecutor pool(2);
  std::vector<long> xs(100);
  std::iota(xs.begin(), xs.end(), 0L);
  for (std::size_t chunksize : {1U, 7U, 100U, 1000U}) {
    std::vector<long> got;
    for (long r : pool.map(square, xs, cf::MapOptions{.chunksize = chunksize})) got.push_back(r);
    ASSERT_EQ(got.size(), xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(got[i], xs[i] * xs[i]) << chunksize;
  }
  // Several iterables are zipped, stopping at the shortest.
  std::vector<int> a{1, 2, 3, 4};
  std::vector<int> b{10, 20, 30};
  std::vector<int> sums;
  for (int r : pool.map(std::plus<>(), a, b)) sums.push_back(r);
  EXPECT_EQ(sums, (std::vector<int>{11, 22, 33}));
  std::vector<long> none;
  EXPECT_EQ(pool.map(square, none).size(), 0U);
  EXPECT_THROW(pool.map(square, xs, cf::MapOptions{.chunksize = 0}), pyconc::ValueError);
}

TEST_F(ProcessPoolExecutorTest, MapTimeout) {
  Channel running;
  Channel release(Channel::to_workers);
  cf::ProcessPoolExecutor pool(1);
  std::vector<int> report{running.worker_fd()};
  std::vector<int> rel{release.worker_fd()};
  auto results = pool.map(report_and_wait, report, rel, cf::MapOptions{.timeout = 50ms});
  EXPECT_GT(running.receive(), 0);
  EXPECT_THROW(for (long r : results)(void) r, pyconc::TimeoutError);
  release.send(1);
}

TEST_F(ProcessPoolExecutorTest, ExceptionsKeepTheirType) {
  cf::ProcessPoolExecutor pool(2);
  auto f = pool.submit(throw_out_of_range, 4);
  try {
    f.result();
    FAIL();
  } catch (const std::out_of_range& e) {
    EXPECT_STREQ(e.what(), "index 4");
    try {
      std::rethrow_if_nested(e);
      FAIL() << "no nested RemoteError";
    } catch (const pyconc::RemoteError& r) {
      EXPECT_NE(r.pid(), ::getpid());
    }
  }
  EXPECT_THROW(pool.submit(throw_value_error).result(), pyconc::ValueError);
  try {
    pool.submit(throw_user).result();
    FAIL();
  } catch (const pyconc::RemoteError& e) {
    EXPECT_NE(e.type_name().find("ParseError"), std::string::npos);
    EXPECT_EQ(e.message(), "line 3");
  }
  // An exception inside map surfaces at its item.
  std::vector<int> xs{1, 2, 3};
  auto results = pool.map(throw_out_of_range, xs);
  EXPECT_THROW(*results.begin(), std::out_of_range);
  EXPECT_EQ(pool.submit(square, 3L).result(), 9);  // the pool goes on
}

TEST_F(ProcessPoolExecutorTest, UnserializableResultFailsOnlyItsFuture) {
  cf::ProcessPoolExecutor pool(1);
  auto bad = pool.submit(make_fragile, false);
  auto good = pool.submit(make_fragile, true);
  try {
    bad.result();
    FAIL();
  } catch (const mp::MaybeEncodingError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot encode a broken Fragile"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(good.result().ok);
  EXPECT_EQ(pool.submit(square, 5L).result(), 25);
}

// kill -9 of a worker in the middle of a task: every future it held, and every other pending
// future, fails with BrokenProcessPool at once; new submits throw; nothing hangs.
TEST_F(ProcessPoolExecutorTest, WorkerKilledMidTaskBreaksThePool) {
  Channel running;
  cf::ProcessPoolExecutor pool(2);
  auto blocked = pool.submit(report_and_block, running.worker_fd());
  const long pid = running.receive();
  ASSERT_GT(pid, 0);
  std::vector<pyconc::Future<long>> queued;
  for (int i = 0; i < 20; ++i) queued.push_back(pool.submit(block_forever));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(static_cast<pid_t>(pid), SIGKILL), 0);
  try {
    blocked.result(5s);
    FAIL();
  } catch (const cf::BrokenProcessPool& e) {
    EXPECT_NE(std::string(e.what()).find("SIGKILL"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(std::to_string(pid)), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  for (auto& f : queued) EXPECT_THROW(f.result(1s), cf::BrokenProcessPool);
  EXPECT_THROW(pool.submit(square, 1L), cf::BrokenProcessPool);
  EXPECT_THROW(pool.map(square, std::vector<long>{1}), cf::BrokenProcessPool);
}

TEST_F(ProcessPoolExecutorTest, AbortInATaskBreaksThePool) {
  Channel running;
  cf::ProcessPoolExecutor pool(1);
  auto f = pool.submit(report_and_abort, running.worker_fd());
  EXPECT_GT(running.receive(), 0);
  try {
    f.result(5s);
    FAIL();
  } catch (const cf::BrokenProcessPool& e) {
    EXPECT_NE(std::string(e.what()).find("SIGABRT"), std::string::npos) << e.what();
  }
  EXPECT_THROW(pool.submit(square, 1L), cf::BrokenProcessPool);
}

TEST_F(ProcessPoolExecutorTest, ExitInATaskBreaksThePool) {
  cf::ProcessPoolExecutor pool(1);
  try {
    pool.submit(exit_three).result(5s);
    FAIL();
  } catch (const cf::BrokenProcessPool& e) {
    EXPECT_NE(std::string(e.what()).find("exited with code 3"), std::string::npos) << e.what();
  }
}

TEST_F(ProcessPoolExecutorTest, ShutdownRefusesNewWork) {
  cf::ProcessPoolExecutor pool(1);
  EXPECT_EQ(pool.submit(square, 2L).result(), 4);
  pool.shutdown();
  EXPECT_THROW(pool.submit(square, 1L), pyconc::RuntimeError);
  pool.shutdown();  // twice is fine
  EXPECT_TRUE(pool.worker_pids().empty());
}

TEST_F(ProcessPoolExecutorTest, ShutdownWithoutSubmitStartsNothing) {
  cf::ProcessPoolExecutor pool(3);
  EXPECT_TRUE(pool.worker_pids().empty());
}

TEST_F(ProcessPoolExecutorTest, ShutdownWaitFinishesQueuedWork) {
  cf::ProcessPoolExecutor pool(2);
  std::vector<pyconc::Future<long>> fs;
  for (long i = 0; i < 200; ++i) fs.push_back(pool.submit(square, i));
  pool.shutdown(true);
  for (long i = 0; i < 200; ++i) EXPECT_EQ(fs[static_cast<std::size_t>(i)].result(), i * i);
}

TEST_F(ProcessPoolExecutorTest, ShutdownCancelFutures) {
  Channel running;
  Channel release(Channel::to_workers);
  cf::ProcessPoolExecutor pool(1);
  auto first = pool.submit(report_and_wait, running.worker_fd(), release.worker_fd());
  std::vector<pyconc::Future<long>> queued;
  for (int i = 0; i < 20; ++i) queued.push_back(pool.submit(square, static_cast<long>(i)));
  EXPECT_GT(running.receive(), 0);
  pool.shutdown(/*wait=*/false, /*cancel_futures=*/true);
  release.send(7);
  pool.shutdown(true);
  EXPECT_EQ(first.result(), 7);
  int cancelled = 0;
  for (std::size_t i = 0; i < queued.size(); ++i) {
    if (queued[i].cancelled()) {
      ++cancelled;
    } else {  // sent to the worker before the shutdown: it ran
      EXPECT_EQ(queued[i].result(), static_cast<long>(i * i));
    }
  }
  // At most a window of 2 tasks per worker is committed before results come back.
  EXPECT_GE(cancelled, 18);
}

TEST_F(ProcessPoolExecutorTest, CancelQueuedFuture) {
  Channel running;
  Channel release(Channel::to_workers);
  cf::ProcessPoolExecutor pool(1);
  auto first = pool.submit(report_and_wait, running.worker_fd(), release.worker_fd());
  EXPECT_GT(running.receive(), 0);
  std::vector<pyconc::Future<long>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(pool.submit(square, static_cast<long>(i)));
  EXPECT_TRUE(queued.back().cancel());
  EXPECT_FALSE(first.cancel());  // running
  release.send(1);
  EXPECT_EQ(first.result(), 1);
  EXPECT_THROW(queued.back().result(), pyconc::CancelledError);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(queued[static_cast<std::size_t>(i)].result(), i * i);
}

// Tasks committed to a worker that is stuck in a long task are taken back by the pool and run
// by the idle worker (work stealing between processes): nothing waits behind the long task.
TEST_F(ProcessPoolExecutorTest, IdleWorkersTakeTasksQueuedBehindALongOne) {
  Channel running;
  Channel release(Channel::to_workers);
  cf::ProcessPoolExecutor pool(2);
  for (long i = 0; i < 20; ++i) pool.submit(square, i).result();  // a small average run time
  auto slow = pool.submit(report_and_wait, running.worker_fd(), release.worker_fd());
  const long slow_pid = running.receive();
  std::vector<pyconc::Future<long>> quick;
  for (long i = 0; i < 300; ++i) quick.push_back(pool.submit(my_pid));
  for (auto& f : quick) EXPECT_NE(f.result(10s), slow_pid);  // all done while `slow` runs
  EXPECT_FALSE(slow.done());
  release.send(3);
  EXPECT_EQ(slow.result(), 3);
}

TEST_F(ProcessPoolExecutorTest, MaxTasksPerChildRecyclesWorkers) {
  cf::ProcessPoolExecutor pool(1, {.max_tasks_per_child = 2});
  std::vector<long> pids;
  for (int i = 0; i < 6; ++i) pids.push_back(pool.submit(my_pid).result());
  EXPECT_EQ(pids[0], pids[1]);
  EXPECT_EQ(pids[2], pids[3]);
  EXPECT_EQ(pids[4], pids[5]);
  EXPECT_EQ(std::set<long>(pids.begin(), pids.end()).size(), 3U);
  // Batched work across recycling: everything completes, in order.
  std::vector<long> xs(10);
  std::iota(xs.begin(), xs.end(), 0L);
  long i = 0;
  for (long r : pool.map(square, xs)) {
    EXPECT_EQ(r, i * i);
    ++i;
  }
  EXPECT_THROW(cf::ProcessPoolExecutor(1, {.max_tasks_per_child = -1}), pyconc::ValueError);
}

TEST_F(ProcessPoolExecutorTest, InitializerRunsInEveryWorker) {
  cf::ProcessPoolExecutor pool(
      2, {.initializer = {set_up_worker, "ready", 2}, .max_tasks_per_child = 1});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(pool.submit(initialized_state).result(), "ready:2");
}

TEST_F(ProcessPoolExecutorTest, FailingInitializerBreaksThePool) {
  cf::ProcessPoolExecutor pool(1, {.initializer = failing_initializer});
  auto f = pool.submit(square, 1L);
  try {
    f.result(10s);
    FAIL();
  } catch (const cf::BrokenProcessPool& e) {
    EXPECT_NE(std::string(e.what()).find("initializer"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no database"), std::string::npos) << e.what();
  }
  EXPECT_THROW(pool.submit(square, 1L), cf::BrokenProcessPool);
}

TEST_F(ProcessPoolExecutorTest, InvalidArguments) {
  EXPECT_THROW(cf::ProcessPoolExecutor(0), pyconc::ValueError);
  EXPECT_THROW(cf::ProcessPoolExecutor(-2), pyconc::ValueError);
  cf::ProcessPoolExecutor pool;  // the CPUs this process may use
  EXPECT_GE(pool.max_workers(), 1);
}

// Workers never come from a fork of this (threaded) process: a thread pool is busy, holding
// locks and allocating, while the process pool starts and works; each worker is a fresh
// program (one thread, and a global assigned here is back to its initial value there).
TEST_F(ProcessPoolExecutorTest, WorkersStartSafelyBesideBusyThreads) {
  g_setting = "assigned in the test";
  std::atomic<bool> stop{false};
  std::atomic<long> spins{0};
  std::mutex shared;
  cf::ThreadPoolExecutor threads(4);
  std::vector<pyconc::Future<void>> busy;
  for (int i = 0; i < 4; ++i) {
    busy.push_back(threads.submit([&] {
      while (!stop.load()) {
        std::lock_guard g(shared);  // a lock a fork could have copied held
        std::vector<std::string> garbage(16, std::string(100, 'x'));  // malloc's locks too
        spins.fetch_add(static_cast<long>(garbage.size()));
      }
    }));
  }
  {
    cf::ProcessPoolExecutor pool(2);
    std::vector<pyconc::Future<long>> fs;
    for (long i = 0; i < 200; ++i) fs.push_back(pool.submit(square, i));
    for (long i = 0; i < 200; ++i) EXPECT_EQ(fs[static_cast<std::size_t>(i)].result(), i * i);
    EXPECT_EQ(pool.submit(threads_in_this_process).result(), 1);
    EXPECT_EQ(pool.submit(read_setting).result(), "initial");
  }
  stop = true;
  for (auto& f : busy) f.result();
  EXPECT_GT(spins.load(), 0);
  g_setting = "initial";
}

TEST_F(ProcessPoolExecutorTest, ConcurrentSubmitters) {
  cf::ProcessPoolExecutor pool(2);
  std::vector<std::thread> ts;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      std::vector<pyconc::Future<long>> fs;
      for (long i = 0; i < 300; ++i) fs.push_back(pool.submit(square, i + t * 1000));
      for (long i = 0; i < 300; ++i) {
        const long x = i + t * 1000;
        if (fs[static_cast<std::size_t>(i)].result() != x * x) ++wrong;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(ProcessPoolExecutorTest, DoneCallbacksAndWait) {
  cf::ProcessPoolExecutor pool(2);
  std::atomic<int> called{0};
  std::vector<pyconc::Future<long>> fs;
  for (long i = 0; i < 10; ++i) {
    fs.push_back(pool.submit(square, i));
    fs.back().add_done_callback([&](pyconc::Future<long>& f) { called += f.result() >= 0; });
  }
  auto [done, not_done] = cf::wait(fs, 10s, cf::ALL_COMPLETED);
  EXPECT_EQ(done.size(), 10U);
  EXPECT_TRUE(not_done.empty());
  pool.shutdown();  // callbacks ran in the manager, before it exited
  EXPECT_EQ(called.load(), 10);
}

TEST_F(ProcessPoolExecutorTest, SubmitFromADoneCallback) {
  cf::ProcessPoolExecutor pool(1);
  pyconc::Future<long> second;
  pyconc::threading::Event chained;
  auto first = pool.submit(square, 3L);
  first.add_done_callback([&](pyconc::Future<long>& f) {
    second = pool.submit(square, f.result());
    chained.set();
  });
  ASSERT_TRUE(chained.wait(10s));
  EXPECT_EQ(second.result(), 81);
}
