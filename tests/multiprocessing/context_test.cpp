// Start methods: get_context / set_start_method, and pools whose workers are spawned, forked
// (inheriting main()'s state) or forked by the fork server; faults of each.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "pool_test_support.hpp"
#include "pyconc/futures.hpp"
#include "pyconc/multiprocessing.hpp"

namespace mp = pyconc::multiprocessing;
namespace cf = pyconc::futures;
using namespace std::chrono_literals;
using pool_test::Channel;

namespace {

// Assigned by the test (main()'s work, in Python's terms) before the pool starts.
std::string g_loaded = "static initialization";
std::vector<int> g_table;

std::string loaded() {
  return g_loaded + "/" + std::to_string(g_table.size());
}
long parent_pid() {
  return static_cast<long>(::getppid());
}
long own_pid() {
  return static_cast<long>(::getpid());
}
int square(int x) {
  return x * x;
}
// Waits to be killed.
long wait_forever() {
  for (;;) ::pause();
}

TEST(StartMethod, ContextsAndTheDefault) {
  EXPECT_EQ(mp::get_context("fork").get_start_method(), "fork");
  EXPECT_EQ(mp::get_context("spawn").method(), mp::StartMethod::spawn);
  EXPECT_EQ(mp::get_context("forkserver").method(), mp::StartMethod::forkserver);
  EXPECT_THROW(mp::get_context("thread"), pyconc::ValueError);
  EXPECT_EQ(mp::get_all_start_methods(), (std::vector<std::string>{"spawn", "fork", "forkserver"}));

  EXPECT_EQ(mp::get_start_method(true), "");  // Python: None
  EXPECT_EQ(mp::get_start_method(), "spawn");
  EXPECT_EQ(mp::get_context().method(), mp::StartMethod::spawn);
  mp::set_start_method("fork");
  EXPECT_EQ(mp::get_start_method(), "fork");
  EXPECT_EQ(mp::get_context(), mp::get_context("fork"));
  EXPECT_THROW(mp::set_start_method("spawn"), pyconc::RuntimeError);  // already set
  EXPECT_THROW(mp::set_start_method("nope", true), pyconc::ValueError);
  mp::set_start_method("forkserver", true);
  EXPECT_EQ(mp::get_start_method(), "forkserver");
  mp::set_start_method("", true);  // back to unset
  EXPECT_EQ(mp::get_start_method(true), "");
}

TEST(StartMethod, ForkWorkersInheritMainsState) {
  g_loaded = "assigned in main";
  g_table.assign(1000, 7);
  {
    mp::Pool pool(2, {.context = mp::get_context("fork")});
    EXPECT_EQ(pool.apply_async(loaded).get(20s), "assigned in main/1000");
    const long parent = pool.apply_async(parent_pid).get(20s);
    EXPECT_EQ(parent, static_cast<long>(::getpid()));  // forked by us (our manager thread)
    auto squares = pool.map(square, std::vector<int>{1, 2, 3, 4});
    EXPECT_EQ(squares, (std::vector<int>{1, 4, 9, 16}));
  }
  {
    // Spawned workers run the program again: they have the static initialization only.
    mp::Pool pool(1, {.context = mp::get_context("spawn")});
    EXPECT_EQ(pool.apply_async(loaded).get(20s), "static initialization/0");
  }
  {
    cf::ProcessPoolExecutor ex(2, {.mp_context = mp::get_context("fork")});
    EXPECT_EQ(ex.submit(loaded).result(20s), "assigned in main/1000");
  }
  g_loaded = "static initialization";
  g_table.clear();
}

TEST(StartMethod, ForkPoolBesideRunningThreads) {
  // The fork happens in the pool's manager thread while a thread pool is busy; tasks that do
  // not touch what those threads lock are fine.
  cf::ThreadPoolExecutor threads(4);
  std::atomic<bool> stop{false};
  std::vector<pyconc::Future<int>> busy;
  for (int i = 0; i < 4; ++i) {
    busy.push_back(threads.submit([&stop] {
      int n = 0;
      while (!stop.load()) ++n;
      return n;
    }));
  }
  {
    mp::Pool pool(2, {.context = mp::get_context("fork")});
    std::vector<int> in;
    for (int i = 0; i < 200; ++i) in.push_back(i);
    auto out = pool.map(square, in);
    ASSERT_EQ(out.size(), 200U);
    EXPECT_EQ(out[199], 199 * 199);
  }
  stop = true;
  for (auto& f : busy) (void)f.result(10s);
}

TEST(StartMethod, ForkserverWorkersComeFromTheServer) {
  g_loaded = "assigned in main";
  mp::Pool pool(2, {.context = mp::get_context("forkserver")});
  // The server was started as a spawned worker is: no state of main().
  EXPECT_EQ(pool.apply_async(loaded).get(20s), "static initialization/0");
  const long server = pool.apply_async(parent_pid).get(20s);
  EXPECT_NE(server, static_cast<long>(::getpid()));
  EXPECT_EQ(pool.map(square, std::vector<int>{5, 6}), (std::vector<int>{25, 36}));
  // A second pool reuses the same server.
  cf::ProcessPoolExecutor ex(1, {.mp_context = mp::get_context("forkserver")});
  EXPECT_EQ(ex.submit(parent_pid).result(20s), server);
  EXPECT_NE(ex.submit(own_pid).result(20s), server);
  g_loaded = "static initialization";
}

void kill_a_worker_breaks_the_pool(const char* method) {
  // (Not a pipe to learn the pid: a forkserver worker only has the descriptors the server had
  // when it started, as in Python.)
  cf::ProcessPoolExecutor ex(1, {.mp_context = mp::get_context(method)});
  const long pid = ex.submit(own_pid).result(20s);
  auto f = ex.submit(wait_forever);
  ASSERT_EQ(::kill(static_cast<pid_t>(pid), SIGKILL), 0);
  try {
    (void)f.result(20s);
    ADD_FAILURE() << method << ": the future of a killed worker did not fail";
  } catch (const cf::BrokenProcessPool& e) {
    // The exit status reached the pool (through the fork server for "forkserver").
    EXPECT_NE(std::string(e.what()).find("killed by signal 9"), std::string::npos)
        << method << ": " << e.what();
  }
}

TEST(StartMethod, AKilledWorkerFailsItsFuturesUnderEveryMethod) {
  kill_a_worker_breaks_the_pool("fork");
  kill_a_worker_breaks_the_pool("forkserver");
  kill_a_worker_breaks_the_pool("spawn");
}

TEST(StartMethod, AKilledForkServerBreaksItsPoolsAndIsReplaced) {
  {
    cf::ProcessPoolExecutor ex(1, {.mp_context = mp::get_context("forkserver")});
    const long server = ex.submit(parent_pid).result(20s);
    auto f = ex.submit(wait_forever);
    ASSERT_EQ(::kill(static_cast<pid_t>(server), SIGKILL), 0);
    // Its workers die with it (PDEATHSIG): the futures fail, nothing hangs.
    EXPECT_THROW((void)f.result(20s), cf::BrokenProcessPool);
  }
  // The next forkserver pool gets a new server.
  cf::ProcessPoolExecutor ex(1, {.mp_context = mp::get_context("forkserver")});
  EXPECT_EQ(ex.submit(square, 9).result(20s), 81);
}

TEST(StartMethod, ContextProcessForks) {
  auto ctx = mp::get_context("spawn");
  Channel ch;
  auto p = ctx.Process([fd = ch.worker_fd()] { pool_test::say(fd, 42); });
  p.start();
  EXPECT_EQ(ch.receive(), 42);
  p.join(10s);
  EXPECT_EQ(p.exitcode(), 0);
}

}  // namespace
