// Manager, second part: Queue/Lock/RLock/Semaphore/Event/Condition/Barrier/Value/Array proxies,
// proxies passed to Pool / ProcessPoolExecutor / Process, reference counting, a TCP manager
// with an authkey (wrong key, garbage, silent clients), get_server/serve_forever, and a
// manager that dies under its clients.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "mp_test_util.hpp"
#include "pyconc/futures/exceptions.hpp"
#include "pyconc/multiprocessing/connection.hpp"
#include "pyconc/multiprocessing/manager.hpp"
#include "pyconc/multiprocessing/pool.hpp"
#include "pyconc/multiprocessing/process.hpp"
#include "pyconc/multiprocessing/process_pool_executor.hpp"
#include "pyconc/queue/exceptions.hpp"

using namespace std::chrono_literals;
namespace mp = pyconc::multiprocessing;
namespace cf = pyconc::futures;
using mp_test::closed_by_peer;
using mp_test::MpTest;
using mp_test::raw_connect;

namespace {

// Pool tasks (function pointers: they run in re-executed worker processes).
int put_tagged(mp::QueueProxy<std::string> q, std::string tag) {
  q.put(tag + ":" + std::to_string(::getpid()));
  return 1;
}
int add_one_locked(mp::ValueProxy<int> v, mp::LockProxy lk) {
  std::lock_guard g(lk);
  v.set(v.get() + 1);
  return 0;
}
bool wait_then_put(mp::EventProxy ev, mp::QueueProxy<int> q) {
  const bool set = ev.wait(20s);
  q.put(set ? 1 : 0);
  return set;
}
double array_sum(mp::ArrayProxy<double> arr) {
  double s = 0;
  for (double x : arr.to_vector()) s += x;
  return s;
}
int announce_then_get(mp::QueueProxy<long> ready, mp::QueueProxy<int> q) {
  ready.put(static_cast<long>(::getpid()));
  return q.get(60s);
}
int barrier_index(mp::BarrierProxy b) {
  return b.wait(20s);
}

// A raw TCP connection to `port`, for feeding garbage.
}  // namespace

class ManagerSyncTest : public MpTest {};

TEST_F(ManagerSyncTest, QueueProxy) {
  mp::Manager mgr;
  auto q = mgr.Queue<std::string>();
  EXPECT_TRUE(q.empty());
  q.put("a");
  q.put("b", 1s);
  EXPECT_EQ(q.qsize(), 2U);
  EXPECT_EQ(q.get(), "a");
  EXPECT_EQ(q.get_nowait(), "b");
  EXPECT_THROW(q.get_nowait(), pyconc::queue::Empty);
  EXPECT_THROW(q.get(20ms), pyconc::queue::Empty);
  EXPECT_THROW(q.get(-1s), pyconc::ValueError);
  auto bounded = mgr.Queue<int>(1);
  bounded.put(1);
  EXPECT_TRUE(bounded.full());
  EXPECT_THROW(bounded.put_nowait(2), pyconc::queue::Full);
  EXPECT_THROW(bounded.put(2, 20ms), pyconc::queue::Full);
  EXPECT_EQ(bounded.get(), 1);
  bounded.task_done();
  bounded.join();  // every item done: returns at once
  EXPECT_THROW(bounded.task_done(), pyconc::ValueError);
}

TEST_F(ManagerSyncTest, LocksSemaphoresEventsValuesArrays) {
  mp::Manager mgr;
  auto lk = mgr.Lock();
  EXPECT_TRUE(lk.acquire());
  EXPECT_TRUE(lk.locked());
  EXPECT_FALSE(lk.acquire(false));
  EXPECT_FALSE(lk.acquire(true, 20ms));
  lk.release();
  EXPECT_THROW(lk.release(), pyconc::RuntimeError);  // release unlocked lock
  { std::lock_guard g(lk); }

  auto rl = mgr.RLock();
  rl.acquire();
  rl.acquire();  // re-entrant for its owner thread
  std::thread other([&] { EXPECT_THROW(rl.release(), pyconc::RuntimeError); });
  other.join();
  rl.release();
  rl.release();

  auto sem = mgr.Semaphore(2);
  EXPECT_TRUE(sem.acquire());
  EXPECT_TRUE(sem.acquire());
  EXPECT_FALSE(sem.acquire(false));
  EXPECT_EQ(sem.get_value(), 0);
  sem.release(2);
  EXPECT_EQ(sem.get_value(), 2);
  EXPECT_THROW(mgr.Semaphore(-1), pyconc::ValueError);
  auto bs = mgr.BoundedSemaphore(1);
  EXPECT_THROW(bs.release(), pyconc::ValueError);  // released too many times

  auto ev = mgr.Event();
  EXPECT_FALSE(ev.is_set());
  EXPECT_FALSE(ev.wait(20ms));
  ev.set();
  EXPECT_TRUE(ev.wait());
  ev.clear();
  EXPECT_FALSE(ev.is_set());

  auto v = mgr.Value<int>(41);
  v.set(v.get() + 1);
  EXPECT_EQ(v.value(), 42);
  auto s = mgr.Value<std::string>("x");
  EXPECT_EQ(s.get(), "x");

  auto arr = mgr.Array<double>(3);
  EXPECT_EQ(arr.size(), 3U);
  arr.set(0, 1.5);
  arr[-1] = 2.5;
  EXPECT_EQ(arr.to_vector(), (std::vector<double>{1.5, 0.0, 2.5}));
  EXPECT_THROW(arr.get(3), pyconc::IndexError);
  auto ints = mgr.Array<int>({1, 2, 3});
  EXPECT_EQ(static_cast<int>(ints[1]), 2);

  mp::QueueProxy<int> unbound;
  EXPECT_THROW(unbound.put(1), pyconc::ValueError);
  EXPECT_THROW(mp::dumps(unbound), pyconc::ValueError);
}

// A call blocked on the server (Queue.get, Lock.acquire) blocks only its own thread.
TEST_F(ManagerSyncTest, BlockingCallsDoNotBlockOtherClients) {
  mp::Manager mgr;
  auto q = mgr.Queue<std::string>();
  auto lk = mgr.Lock();
  auto d = mgr.dict<std::string, int>();
  lk.acquire();
  auto got = std::async(std::launch::async, [q]() mutable { return q.get(20s); });
  auto locked = std::async(std::launch::async, [lk]() mutable { return lk.acquire(true, 20s); });
  d.set("a", 1);  // served while two other connections wait
  EXPECT_EQ(d.get("a"), 1);
  q.put("hello");
  EXPECT_EQ(got.get(), "hello");
  lk.release();
  EXPECT_TRUE(locked.get());
}

TEST_F(ManagerSyncTest, ConditionAndBarrier) {
  mp::Manager mgr;
  auto cond = mgr.Condition();
  auto ready = mgr.Value<bool>(false);
  auto waiter = std::async(std::launch::async, [&] {
    std::lock_guard g(cond);
    return cond.wait_for([&] { return ready.get(); }, 20s);
  });
  {
    std::lock_guard g(cond);
    ready.set(true);
    cond.notify_all();
  }
  EXPECT_TRUE(waiter.get());
  EXPECT_THROW(cond.notify(), pyconc::RuntimeError);  // not holding the lock
  {
    std::lock_guard g(cond);
    EXPECT_FALSE(cond.wait(10ms));
  }

  auto b = mgr.Barrier(2);
  EXPECT_EQ(b.parties(), 2);
  auto other = std::async(std::launch::async, [b]() mutable { return b.wait(20s); });
  const int mine = b.wait(20s);
  EXPECT_EQ(std::set<int>({mine, other.get()}), (std::set<int>{0, 1}));
  b.abort();
  EXPECT_TRUE(b.broken());
  EXPECT_THROW(b.wait(), pyconc::BrokenBarrierError);
  EXPECT_THROW(mgr.Barrier(0), pyconc::ValueError);
}

// Python's pool.apply_async(worker, (mgr.Queue(),)): pool workers are re-executed programs;
// the proxies reconnect by address + authkey.
TEST_F(ManagerSyncTest, ProxiesAreArgumentsOfPoolTasks) {
  mp::Manager mgr;  // before the pool: no thread runs when the server forks
  auto q = mgr.Queue<std::string>();
  auto v = mgr.Value<int>(0);
  auto lk = mgr.Lock();
  auto ev = mgr.Event();
  auto ints = mgr.Queue<int>();
  auto arr = mgr.Array<double>({1.0, 2.0, 3.5});
  auto b = mgr.Barrier(2);
  mp::Pool pool(2);
  std::vector<mp::AsyncResult<int>> rs;
  for (int i = 0; i < 4; ++i)
    rs.push_back(pool.apply_async(put_tagged, std::make_tuple(q, std::string("t"))));
  for (int i = 0; i < 20; ++i) pool.apply_async(add_one_locked, std::make_tuple(v, lk)).get(30s);
  for (auto& r : rs) EXPECT_EQ(r.get(30s), 1);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(q.get(10s).substr(0, 2), "t:");
  EXPECT_EQ(v.get(), 20);

  auto waiting = pool.apply_async(wait_then_put, ev, ints);
  ev.set();
  EXPECT_TRUE(waiting.get(30s));
  EXPECT_EQ(ints.get(10s), 1);
  EXPECT_DOUBLE_EQ(pool.apply(array_sum, arr), 6.5);

  // Both workers meet at the barrier: each blocks only its own server thread.
  auto b0 = pool.apply_async(barrier_index, b);
  auto b1 = pool.apply_async(barrier_index, b);
  EXPECT_EQ(b0.get(30s) + b1.get(30s), 1);
  pool.close();
  pool.join();
}

TEST_F(ManagerSyncTest, ProxiesAreArgumentsOfProcessPoolExecutorAndProcess) {
  mp::Manager mgr;
  auto q = mgr.Queue<std::string>();
  auto ev = mgr.Event();
  auto ints = mgr.Queue<int>();
  {
    cf::ProcessPoolExecutor ex(1);
    EXPECT_EQ(ex.submit(put_tagged, q, std::string("ex")).result(30s), 1);
    auto f = ex.submit(wait_then_put, ev, ints);
    ev.set();
    EXPECT_TRUE(f.result(30s));
  }
  EXPECT_EQ(q.get(10s).substr(0, 3), "ex:");
  EXPECT_EQ(ints.get(10s), 1);

  ev.clear();
  mp::Process p([](mp::EventProxy e, mp::QueueProxy<int> out) { out.put(e.wait(20s) ? 7 : 0); }, ev,
                ints);
  p.start();
  ev.set();
  EXPECT_EQ(ints.get(20s), 7);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

// An object lives while a proxy (in any process) refers to it; copies share one reference.
TEST_F(ManagerSyncTest, ObjectsDieWithTheirLastProxy) {
  mp::Manager mgr;
  std::string bytes;
  {
    auto q = mgr.Queue<int>();
    q.put(5);
    bytes = mp::dumps(q);
    auto copy = q;
    {
      auto again = mp::loads<mp::QueueProxy<int>>(bytes);  // a second reference
      EXPECT_EQ(again.qsize(), 1U);
    }
    EXPECT_EQ(copy.get(), 5);  // dropping `again` left the object alive
  }
  try {
    mp::loads<mp::QueueProxy<int>>(bytes);
    FAIL() << "the Queue outlived its proxies";
  } catch (const pyconc::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("has no Queue"), std::string::npos) << e.what();
  }
  // The wrong proxy type for the bytes: the serialization layer says so.
  auto lk = mgr.Lock();
  EXPECT_THROW(mp::loads<mp::EventProxy>(mp::dumps(lk)), pyconc::ValueError);
}

TEST_F(ManagerSyncTest, TcpManagerWithAuthkey) {
  mp::Manager mgr({.address = {"127.0.0.1", 0}, .authkey = "secret"});
  ASSERT_NE(mgr.address().port, 0);
  auto q = mgr.Queue<int>();

  mp::BaseManager bad({.address = mgr.address(), .authkey = "wrong"});
  EXPECT_THROW(bad.connect(), mp::AuthenticationError);

  // Garbage and a silent client: each dropped or left alone, the others served.
  const int garbage = raw_connect(mgr.address().port);
  ASSERT_GE(garbage, 0);
  const char junk[] = "GET / HTTP/1.0\r\n\r\n";
  ASSERT_GT(::send(garbage, junk, sizeof junk - 1, MSG_NOSIGNAL), 0);
  EXPECT_TRUE(closed_by_peer(garbage));
  ::close(garbage);
  const int silent = raw_connect(mgr.address().port);
  ASSERT_GE(silent, 0);

  mp::BaseManager client({.address = mgr.address(), .authkey = "secret"});
  client.connect();
  EXPECT_THROW(client.connect(), pyconc::ValueError);  // already connected
  auto q2 = client.Queue<int>();
  q2.put(3);
  EXPECT_EQ(q2.get(), 3);
  q.put(9);
  // The token names the server: a proxy made by the first manager works through bytes.
  EXPECT_EQ(mp::loads<mp::QueueProxy<int>>(mp::dumps(q)).get(), 9);
  ::close(silent);
}

TEST_F(ManagerSyncTest, GetServerServeForeverAndStopServer) {
  auto [ours, theirs] = mp::Pipe();
  mp::Process server(
      [](mp::Connection c) {
        mp::BaseManager m({.address = {"127.0.0.1", 0}, .authkey = "k"});
        auto s = m.get_server();
        c.send(static_cast<int>(s.address().port));
        s.serve_forever();
        c.send(std::string("stopped"));
      },
      theirs);
  server.start();
  theirs.close();
  ASSERT_TRUE(ours.poll(20s));
  const auto port = static_cast<std::uint16_t>(ours.recv<int>());
  {
    mp::BaseManager client({.address = {"127.0.0.1", port}, .authkey = "k"});
    client.connect();
    auto d = client.dict<std::string, int>();
    d.set("x", 1);
    EXPECT_EQ(d.get("x"), 1);
    client.stop_server();
    ASSERT_TRUE(ours.poll(20s));
    EXPECT_EQ(ours.recv<std::string>(), "stopped");
  }
  EXPECT_TRUE(server.join(20s));
  EXPECT_EQ(server.exitcode(), 0);
}

// A manager killed under its clients: calls in progress and new calls raise, never hang.
TEST_F(ManagerSyncTest, ADeadManagerRaisesInsteadOfHanging) {
  mp::Manager mgr;
  auto q = mgr.Queue<int>();
  auto d = mgr.dict<int, int>();
  d.set(1, 1);
  auto blocked = std::async(std::launch::async, [q]() mutable {
    try {
      q.get(60s);
      return std::string("got an item");
    } catch (const pyconc::Error& e) {
      return std::string("error");
    }
  });
  ASSERT_EQ(::kill(mgr.pid(), SIGKILL), 0);
  ASSERT_EQ(blocked.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(blocked.get(), "error");
  EXPECT_THROW(d.get(1), pyconc::Error);
  EXPECT_THROW(d.get(1), pyconc::OSError);  // reconnecting: ConnectionRefusedError
  mgr.shutdown();                           // reaps the dead server; does not hang
}

// A pool worker killed while it waits on a proxy: the pool breaks at once, the manager keeps
// serving, nothing hangs.
TEST_F(ManagerSyncTest, AWorkerKilledInAProxyCallDisturbsNobody) {
  mp::Manager mgr;
  auto ready = mgr.Queue<long>();
  auto q = mgr.Queue<int>();
  mp::Pool pool(1);
  auto ar = pool.apply_async(announce_then_get, ready, q);
  const long worker = ready.get(30s);
  ASSERT_EQ(::kill(static_cast<pid_t>(worker), SIGKILL), 0);
  EXPECT_THROW(ar.get(30s), cf::BrokenProcessPool);
  q.put(1);  // the server lost a client, nothing else
  EXPECT_EQ(q.get(10s), 1);
  pool.terminate();
  pool.join();
}

// ---- a user's class served by the manager (register_ / create / AutoProxy)
namespace {
struct Counter {
  explicit Counter(int start) : n(start) {}
  int increment(int by) {
    if (by < 0) throw pyconc::ValueError("negative step");
    return n += by;
  }
  int get() const { return n; }
  void reset() noexcept { n = 0; }
  std::string label(const std::string& prefix) const { return prefix + std::to_string(n); }
  int n;
};
struct Other {
  int f() { return 1; }
};

int bump(mp::AutoProxy c) {
  return c.callmethod<int>("increment", 1);
}
}  // namespace

TEST_F(ManagerSyncTest, RegisteredClassWithExposedMethods) {
  mp::BaseManager::register_<Counter, int>(
      "Counter",
      {.exposed = {mp::exposed<&Counter::increment>("increment"), mp::exposed<&Counter::get>("get"),
                   mp::exposed<&Counter::reset>("reset"), mp::exposed<&Counter::label>("label")}});
  const auto register_bad = [](mp::RegisterOptions options) {
    mp::BaseManager::register_<Counter, int>("Bad", std::move(options));
  };
  EXPECT_THROW(register_bad({.exposed = {mp::exposed<&Other::f>("f")}}),
               pyconc::ValueError);  // not a member of Counter
  EXPECT_THROW(register_bad({.exposed = {mp::exposed<&Counter::get>("get"),
                                         mp::exposed<&Counter::get>("get")}}),
               pyconc::ValueError);  // twice
  mp::Manager mgr;
  auto c = mgr.create("Counter", 10);
  EXPECT_EQ(c.callmethod<int>("increment", 5), 15);
  EXPECT_EQ(c.callmethod<std::string>("label", std::string("n=")), "n=15");
  EXPECT_THROW(c.callmethod<int>("increment", -1), pyconc::ValueError);  // the method's own
  EXPECT_THROW(c.callmethod<int>("nope"), pyconc::ValueError);           // not exposed
  EXPECT_THROW(c.callmethod<int>("increment", 1L), pyconc::ValueError);  // long, not int
  EXPECT_THROW(mgr.create("Counter", std::string("x")), pyconc::ValueError);
  EXPECT_THROW(mgr.create("Unknown"), pyconc::ValueError);

  // Proxies of registered objects cross to pool workers like the others; calls from several
  // workers run one at a time on the object, so none is lost.
  mp::Pool pool(2);
  std::vector<mp::AsyncResult<int>> rs;
  for (int i = 0; i < 20; ++i) rs.push_back(pool.apply_async(bump, c));
  for (auto& r : rs) r.get(30s);
  EXPECT_EQ(c.callmethod<int>("get"), 35);
  c.callmethod("reset");
  EXPECT_EQ(c.callmethod<int>("get"), 0);
  pool.close();
  pool.join();
}
