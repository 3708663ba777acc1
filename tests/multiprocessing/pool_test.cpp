// mp::Pool: map/starmap/imap/imap_unordered, apply/apply_async with callbacks, AsyncResult,
// close/join/terminate, broken pools (kill -9), maxtasksperchild, initializer.
#include "pyconc/multiprocessing/pool.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <list>
#include <numeric>
#include <ranges>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "pool_test_support.hpp"

namespace mp = pyconc::multiprocessing;
namespace cf = pyconc::futures;
using namespace std::chrono_literals;
using pool_test::Channel;

namespace {

std::string g_prefix = "none";

long job(long x) {
  return x * x;
}
std::string func1(std::string s) {
  return s + "!";
}
int add(int a, int b) {
  return a + b;
}
std::string join3(std::string a, int b, double c) {
  return a + "/" + std::to_string(b) + "/" + std::to_string(static_cast<int>(c));
}
long my_pid() {
  return static_cast<long>(::getpid());
}
long my_pid_of(long) {
  return static_cast<long>(::getpid());
}
void touch(int) {}
long fail_on_three(long x) {
  if (x == 3) throw std::invalid_argument("three");
  return x;
}
long report_and_wait(int report_fd, int release_fd) {
  pool_test::say(report_fd, static_cast<long>(::getpid()));
  return pool_test::hear(release_fd);
}
long block_forever() {
  for (;;) ::pause();
}
long report_and_block(int report_fd) {
  pool_test::say(report_fd, static_cast<long>(::getpid()));
  return block_forever();
}
long wait_then(long x, int release_fd) {
  if (x == 0) pool_test::hear(release_fd);
  return x;
}
void set_prefix(std::string p) {
  g_prefix = std::move(p);
}
std::string prefixed(std::string s) {
  return g_prefix + s;
}

}  // namespace

class PoolTest : public pool_test::NoLeaks {};

TEST_F(PoolTest, MapReturnsResultsInOrder) {
  mp::Pool pool(2);
  EXPECT_EQ(pool.processes(), 2);
  std::vector<long> xs(37);
  std::iota(xs.begin(), xs.end(), 0L);
  std::vector<long> want;
  for (long x : xs) want.push_back(x * x);
  EXPECT_EQ(pool.map(job, xs), want);  // Python's chunksize: ceil(37 / 8) = 5
  for (std::size_t cs : {1U, 3U, 37U, 100U}) EXPECT_EQ(pool.map(job, xs, cs), want) << cs;
  std::list<long> as_list(xs.begin(), xs.end());
  EXPECT_EQ(pool.map(job, as_list), want);
  // A range without a size (Python: a generator) is read first.
  auto evens = xs | std::views::filter([](long x) { return x % 2 == 0; });
  EXPECT_EQ(pool.map(job, evens).size(), 19U);
  EXPECT_EQ(pool.map(job, std::views::iota(0L, 5L)), (std::vector<long>{0, 1, 4, 9, 16}));
  EXPECT_TRUE(pool.map(job, std::vector<long>{}).empty());
  // void functions: one std::monostate per item, as Python's list of None.
  EXPECT_EQ(pool.map(touch, std::vector<int>{1, 2, 3}).size(), 3U);
  // The seeds' shape: strings in, strings out.
  const std::vector<std::string> names{"malu1", "malu2", "malu3"};
  EXPECT_EQ(pool.map(func1, names), (std::vector<std::string>{"malu1!", "malu2!", "malu3!"}));
}

TEST_F(PoolTest, StarmapSpreadsTuples) {
  mp::Pool pool(2);
  std::vector<std::pair<int, int>> pairs{{1, 2}, {3, 4}, {5, 6}};
  EXPECT_EQ(pool.starmap(add, pairs), (std::vector<int>{3, 7, 11}));
  std::vector<std::tuple<std::string, int, double>> triples{{"a", 1, 2.0}, {"b", 3, 4.0}};
  EXPECT_EQ(pool.starmap(join3, triples, 1), (std::vector<std::string>{"a/1/2", "b/3/4"}));
  auto ar = pool.starmap_async(add, pairs);
  EXPECT_EQ(ar.get(), (std::vector<int>{3, 7, 11}));
}

TEST_F(PoolTest, ApplyForms) {
  mp::Pool pool(2);
  EXPECT_EQ(pool.apply(add, 2, 3), 5);
  EXPECT_EQ(pool.apply(func1, "x"), "x!");
  EXPECT_NE(pool.apply(my_pid), ::getpid());
  pool.apply(touch, 1);  // void
  auto a = pool.apply_async(func1, std::string("malu1"));
  EXPECT_EQ(a.get(), "malu1!");
  EXPECT_EQ(a.get(1s), "malu1!");
  EXPECT_TRUE(a.ready());
  EXPECT_TRUE(a.successful());
  // Python's args tuple, spread when the function does not take a tuple.
  auto b = pool.apply_async(add, std::make_tuple(4, 5));
  EXPECT_EQ(b.get(), 9);
  // The AsyncResult's pyconc::Future is the one every executor uses.
  pyconc::Future<int> f = b.future();
  EXPECT_EQ(f.result(), 9);
}

TEST_F(PoolTest, CallbacksRunBeforeTheResultIsReady) {
  mp::Pool pool(2);
  std::string seen;  // written by the callback (manager thread), read after get()
  bool error_seen = false;
  auto ar =
      pool.apply_async(func1, std::make_tuple(std::string("x")), [&](std::string& v) { seen = v; });
  EXPECT_EQ(ar.get(), "x!");
  EXPECT_EQ(seen, "x!");  // no other synchronisation: get() returning implies the callback ran

  std::exception_ptr caught;
  auto bad = pool.apply_async(
      fail_on_three, std::make_tuple(3L), [&](long) { ADD_FAILURE() << "callback on failure"; },
      [&](const std::exception_ptr& e) {
        caught = e;
        error_seen = true;
      });
  EXPECT_THROW(bad.get(), std::invalid_argument);
  EXPECT_TRUE(error_seen);
  EXPECT_THROW(std::rethrow_exception(caught), std::invalid_argument);
  EXPECT_FALSE(bad.successful());

  // map_async's callback gets the whole list.
  std::vector<long> all;
  auto m =
      pool.map_async(job, std::vector<long>{1, 2, 3}, 0, [&](std::vector<long>& v) { all = v; });
  m.wait();
  EXPECT_EQ(all, (std::vector<long>{1, 4, 9}));
  // A callback that throws is reported and changes nothing.
  auto c = pool.apply_async(job, std::make_tuple(2L), [](long) { throw std::runtime_error("cb"); });
  EXPECT_EQ(c.get(), 4);
}

TEST_F(PoolTest, AsyncResultWaitAndSuccessful) {
  Channel running;
  Channel release(Channel::to_workers);
  mp::Pool pool(1);
  auto ar = pool.apply_async(report_and_wait, running.worker_fd(), release.worker_fd());
  EXPECT_GT(running.receive(), 0);
  EXPECT_FALSE(ar.ready());
  EXPECT_THROW((void)ar.successful(), pyconc::ValueError);
  EXPECT_FALSE(ar.wait(20ms));
  EXPECT_THROW(ar.get(20ms), pyconc::TimeoutError);
  release.send(5);
  ar.wait();
  EXPECT_TRUE(ar.ready());
  EXPECT_TRUE(ar.successful());
  EXPECT_EQ(ar.get(), 5);
}

TEST_F(PoolTest, ExceptionsFromMapAndImap) {
  mp::Pool pool(2);
  std::vector<long> xs{1, 2, 3, 4};
  EXPECT_THROW(pool.map(fail_on_three, xs), std::invalid_argument);
  auto ar = pool.map_async(fail_on_three, xs, 1);
  ar.wait();
  EXPECT_FALSE(ar.successful());
  // imap: the exception surfaces at its item, the other items are there.
  std::vector<long> got;
  int errors = 0;
  auto results = pool.imap(fail_on_three, xs);
  for (auto it = results.begin(); it != results.end(); ++it) {
    try {
      got.push_back(*it);
    } catch (const std::invalid_argument&) {
      ++errors;
    }
  }
  EXPECT_EQ(errors, 1);
  EXPECT_EQ(got, (std::vector<long>{1, 2, 4}));
  // imap_unordered: a failed chunk takes one position.
  got.clear();
  errors = 0;
  auto unordered = pool.imap_unordered(fail_on_three, xs, 2);  // chunks {1,2} and {3,4}
  for (auto it = unordered.begin(); it != unordered.end(); ++it) {
    try {
      got.push_back(*it);
    } catch (const std::invalid_argument&) {
      ++errors;
    }
  }
  EXPECT_EQ(errors, 1);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<long>{1, 2}));
}

TEST_F(PoolTest, ImapInOrderImapUnorderedAsCompleted) {
  Channel release(Channel::to_workers);
  mp::Pool pool(2);
  std::vector<long> xs{1, 2, 3, 4, 5, 6, 7, 8};
  std::size_t i = 0;
  for (long r : pool.imap(job, xs)) {
    EXPECT_EQ(r, xs[i] * xs[i]);
    ++i;
  }
  EXPECT_EQ(i, 8U);
  long sum = 0;
  for (long r : pool.imap(job, xs, 3)) sum += r;
  EXPECT_EQ(sum, 204);
  EXPECT_THROW(pool.imap(job, xs, 0), pyconc::ValueError);

  // Item 0 waits for the test; imap_unordered yields other items before it.
  std::vector<std::pair<long, int>> items;
  for (long x = 0; x < 6; ++x) items.emplace_back(x, release.worker_fd());
  std::vector<long> order;
  auto unordered = pool.imap_unordered(
      [](std::pair<long, int> p) { return wait_then(p.first, p.second); }, items);
  for (long r : unordered) {
    if (order.empty()) release.send(1);  // a first result arrived without item 0
    order.push_back(r);
  }
  ASSERT_EQ(order.size(), 6U);
  EXPECT_NE(order.front(), 0);
  std::sort(order.begin(), order.end());
  EXPECT_EQ(order, (std::vector<long>{0, 1, 2, 3, 4, 5}));
  // next(timeout)
  auto again = pool.imap_unordered(job, std::vector<long>{3});
  EXPECT_EQ(again.next(10s), 9);
  EXPECT_THROW(again.next(10s), std::out_of_range);
}

TEST_F(PoolTest, CloseAndJoin) {
  mp::Pool pool(2);
  EXPECT_THROW(pool.join(), pyconc::ValueError);  // still running
  std::vector<mp::AsyncResult<long>> rs;
  for (long i = 0; i < 50; ++i) rs.push_back(pool.apply_async(job, i));
  pool.close();
  EXPECT_THROW(pool.apply_async(job, 1L), pyconc::ValueError);
  EXPECT_THROW(pool.map(job, std::vector<long>{1}), pyconc::ValueError);
  pool.join();
  for (long i = 0; i < 50; ++i) EXPECT_EQ(rs[static_cast<std::size_t>(i)].get(), i * i);
  EXPECT_TRUE(pool.worker_pids().empty());
}

TEST_F(PoolTest, TerminateStopsEverything) {
  Channel running;
  mp::Pool pool(1);
  auto stuck = pool.apply_async(report_and_block, running.worker_fd());
  EXPECT_GT(running.receive(), 0);
  std::vector<mp::AsyncResult<long>> queued;
  for (long i = 0; i < 10; ++i) queued.push_back(pool.apply_async(job, i));
  pool.terminate();
  EXPECT_THROW(stuck.get(1s), pyconc::CancelledError);
  for (auto& q : queued) EXPECT_THROW(q.get(1s), pyconc::CancelledError);
  pool.join();
  EXPECT_THROW(pool.apply(job, 1L), pyconc::ValueError);
}

TEST_F(PoolTest, DestructorWithoutCloseTerminates) {
  Channel running;
  const auto t0 = std::chrono::steady_clock::now();
  {
    mp::Pool pool(2);
    pool.apply_async(block_forever);
    (void)pool.apply_async(report_and_block, running.worker_fd());
    EXPECT_GT(running.receive(), 0);
  }  // like leaving `with Pool() as pool:` -- no hang
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

TEST_F(PoolTest, DestructorAfterCloseFinishesWork) {
  std::vector<mp::AsyncResult<long>> rs;
  {
    mp::Pool pool(2);
    for (long i = 0; i < 20; ++i) rs.push_back(pool.apply_async(job, i));
    pool.close();
  }
  for (long i = 0; i < 20; ++i) EXPECT_EQ(rs[static_cast<std::size_t>(i)].get(0s), i * i);
}

// Python's Pool hangs forever here; ours fails every unfinished result at once.
TEST_F(PoolTest, WorkerKilledBreaksThePool) {
  Channel running;
  mp::Pool pool(2);
  auto held = pool.apply_async(report_and_block, running.worker_fd());
  const long pid = running.receive();
  ASSERT_GT(pid, 0);
  auto mapped = pool.map_async(job, std::vector<long>(100, 3), 1);
  std::vector<mp::AsyncResult<long>> more;
  for (int i = 0; i < 10; ++i) more.push_back(pool.apply_async(block_forever));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(static_cast<pid_t>(pid), SIGKILL), 0);
  EXPECT_THROW(held.get(5s), cf::BrokenProcessPool);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  for (auto& r : more) EXPECT_THROW(r.get(1s), cf::BrokenProcessPool);
  try {
    (void)mapped.get(1s);  // it may have finished before the kill: then it holds its values
  } catch (const cf::BrokenProcessPool&) {
  }
  EXPECT_THROW(pool.apply_async(job, 1L), cf::BrokenProcessPool);
  pool.close();
  pool.join();
}

TEST_F(PoolTest, MaxTasksPerChildAndInitializer) {
  mp::Pool pool(1, {.initializer = {set_prefix, "init:"}, .maxtasksperchild = 3});
  std::vector<long> pids = pool.map(my_pid_of, std::vector<long>(9, 0), 1);
  EXPECT_EQ(std::set<long>(pids.begin(), pids.end()).size(), 3U);
  EXPECT_EQ(pool.apply(prefixed, "x"), "init:x");
  EXPECT_THROW(mp::Pool(0), pyconc::ValueError);
  EXPECT_THROW(mp::Pool(1, {.maxtasksperchild = -1}), pyconc::ValueError);
}

TEST_F(PoolTest, DefaultSizeIsTheCpuCount) {
  mp::Pool pool;
  EXPECT_GE(pool.processes(), 1);
  EXPECT_EQ(static_cast<int>(pool.worker_pids().size()) <= pool.processes(), true);
  pool.close();
  pool.join();
}
