#include "pyconc/threading/thread.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "pyconc/threading/event.hpp"

namespace th = pyconc::threading;
using namespace std::chrono_literals;

namespace {
int add_into(int* out, int a, int b) {
  return *out = a + b;
}
}  // namespace

TEST(Thread, TargetAndArgs) {
  int out = 0;
  th::Thread t(add_into, &out, 2, 3);
  EXPECT_FALSE(t.is_alive());
  EXPECT_EQ(t.ident(), 0UL);
  EXPECT_EQ(t.native_id(), 0UL);
  t.start();
  EXPECT_NE(t.ident(), 0UL);
  EXPECT_NE(t.native_id(), 0UL);
  t.join();
  EXPECT_FALSE(t.is_alive());
  EXPECT_EQ(out, 5);
}

TEST(Thread, MoveOnlyArgumentsAndStdRef) {
  auto p = std::make_unique<int>(41);
  int seen = 0;
  th::Thread t([](std::unique_ptr<int> v, int& dst) { dst = *v + 1; }, std::move(p),
               std::ref(seen));
  t.start();
  t.join();
  EXPECT_EQ(seen, 42);
}

TEST(Thread, NamesAndDefaults) {
  th::Thread a([] {});
  EXPECT_EQ(a.name().rfind("Thread-", 0), 0U);
  th::Thread b({.name = "worker"}, [] {});
  EXPECT_EQ(b.name(), "worker");
  b.set_name("renamed");
  EXPECT_EQ(b.name(), "renamed");
  EXPECT_FALSE(b.daemon());  // inherited from the main thread
  std::string inside;
  th::Thread c({.name = "named"}, [&] { inside = th::current_thread().name(); });
  c.start();
  c.join();
  EXPECT_EQ(inside, "named");
}

TEST(Thread, StartTwiceAndJoinErrors) {
  th::Thread t([] {});
  EXPECT_THROW(t.join(), pyconc::RuntimeError);  // not started
  t.start();
  try {
    t.start();
    FAIL();
  } catch (const pyconc::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "threads can only be started once");
  }
  t.join();
  t.join();  // joining again is fine
  bool self_join_failed = false;
  th::Thread self([&] {
    try {
      th::current_thread().join();
    } catch (const pyconc::RuntimeError&) {
      self_join_failed = true;
    }
  });
  self.start();
  self.join();
  EXPECT_TRUE(self_join_failed);
  EXPECT_THROW(th::main_thread().join(), pyconc::RuntimeError);  // we are the main thread
}

TEST(Thread, JoinWithTimeout) {
  th::Event release;
  th::Thread t([&] { release.wait(10s); });
  t.start();
  EXPECT_FALSE(t.join(10ms));
  EXPECT_TRUE(t.is_alive());
  release.set();
  EXPECT_TRUE(t.join(10s));
  EXPECT_FALSE(t.is_alive());
  EXPECT_THROW(t.join(-1ms), pyconc::ValueError);
}

struct Counter : th::Thread {
  explicit Counter(int n) : Thread({.name = "counter"}), n_(n) {}
  void run() override {
    for (int i = 0; i < n_; ++i) ++total;
  }
  int n_;
  int total = 0;
};

TEST(Thread, SubclassStyle) {
  Counter c(1000);
  c.start();
  c.join();
  EXPECT_EQ(c.total, 1000);
  EXPECT_EQ(c.name(), "counter");
}

TEST(Thread, ExceptionsGoToExcepthookNotTerminate) {
  std::vector<std::string> reports;
  th::Event reported;
  auto previous = th::set_excepthook([&](const th::ExceptHookArgs& a) {
    reports.push_back(a.thread.name() + "|" + a.exc_type + "|" + a.message);
    reported.set();
  });
  th::Thread t({.name = "boom"}, [] { throw std::out_of_range("index 7"); });
  t.start();
  t.join();
  th::set_excepthook(previous);
  ASSERT_EQ(reports.size(), 1U);
  EXPECT_EQ(reports[0], "boom|std::out_of_range|index 7");
}

TEST(Thread, DefaultExcepthookPrints) {
  testing::internal::CaptureStderr();
  th::Thread t({.name = "printer"}, [] { throw pyconc::ValueError("bad value"); });
  t.start();
  t.join();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("Exception in thread printer:"), std::string::npos) << err;
  EXPECT_NE(err.find("pyconc::ValueError: bad value"), std::string::npos) << err;
}

TEST(Thread, CurrentMainEnumerate) {
  EXPECT_EQ(th::current_thread().name(), "MainThread");
  EXPECT_TRUE(th::current_thread() == th::main_thread());
  EXPECT_EQ(th::main_thread().ident(), th::get_ident());
  EXPECT_EQ(th::main_thread().native_id(), th::get_native_id());
  const int before = th::active_count();
  th::Event inside, release;
  th::Thread t({.name = "listed"}, [&] {
    inside.set();
    release.wait(10s);
  });
  t.start();
  ASSERT_TRUE(inside.wait(10s));
  EXPECT_EQ(th::active_count(), before + 1);
  auto all = th::enumerate();
  EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const th::ThreadRef& r) { return t == r; }));
  release.set();
  t.join();
  EXPECT_EQ(th::active_count(), before);
}

TEST(Thread, ForeignThreadsGetDummyEntries) {
  std::string name;
  bool daemon = false;
  std::thread raw([&] {
    name = th::current_thread().name();
    daemon = th::current_thread().daemon();
  });
  raw.join();
  EXPECT_EQ(name.rfind("Dummy-", 0), 0U) << name;
  EXPECT_TRUE(daemon);
}

TEST(Thread, DaemonIsNotWaitedFor) {
  auto release = std::make_shared<th::Event>();
  auto finished = std::make_shared<th::Event>();
  {
    th::Thread d({.name = "daemon", .daemon = true}, [release, finished] {
      release->wait(10s);
      finished->set();
    });
    d.start();
    EXPECT_TRUE(d.daemon());
    EXPECT_THROW(d.set_daemon(false), pyconc::RuntimeError);
  }  // the destructor did not wait
  EXPECT_FALSE(finished->is_set());
  release->set();
  EXPECT_TRUE(finished->wait(10s));
}

TEST(Thread, DestructorJoinsNonDaemon) {
  std::atomic<bool> ran{false};
  {
    th::Thread t([&] { ran = true; });
    t.start();
  }
  EXPECT_TRUE(ran);
}

TEST(Thread, MovableBeforeStartAndInVectors) {
  std::atomic<int> sum{0};
  std::vector<th::Thread> ts;
  for (int i = 1; i <= 10; ++i) ts.emplace_back([&sum](int v) { sum += v; }, i);
  for (auto& t : ts) t.start();
  for (auto& t : ts) t.join();
  EXPECT_EQ(sum.load(), 55);
}
