#include "pyconc/threading/local.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "pyconc/threading/thread.hpp"

namespace th = pyconc::threading;

namespace {
struct Student {
  std::string name = "nobody";
};

struct Tracked {
  explicit Tracked(std::atomic<int>* live) : live_(live) { ++*live_; }
  Tracked(const Tracked&) = delete;
  ~Tracked() { --*live_; }
  std::atomic<int>* live_;
  int value = 0;
};
}  // namespace

TEST(Local, EachThreadSeesItsOwnValue) {
  th::local<Student> local_school;
  local_school->name = "main";
  std::vector<std::string> seen(2);
  std::vector<std::string> initial(2);
  th::Thread a({.name = "Thread-A"}, [&] {
    initial[0] = local_school->name;
    local_school->name = "Alice";
    seen[0] = local_school->name;
  });
  th::Thread b({.name = "Thread-B"}, [&] {
    initial[1] = local_school->name;
    local_school->name = "Bob";
    seen[1] = local_school->name;
  });
  a.start();
  b.start();
  a.join();
  b.join();
  EXPECT_EQ(initial, (std::vector<std::string>{"nobody", "nobody"}));
  EXPECT_EQ(seen, (std::vector<std::string>{"Alice", "Bob"}));
  EXPECT_EQ(local_school->name, "main");
}

TEST(Local, ConstructorArgumentsAreCopiedPerThread) {
  th::local<std::vector<int>> v(3, 9);  // each thread: std::vector<int>(3, 9)
  v->push_back(1);
  std::size_t other_size = 0;
  th::Thread t([&] { other_size = v->size(); });
  t.start();
  t.join();
  EXPECT_EQ(other_size, 3U);
  EXPECT_EQ(v->size(), 4U);
  th::local<int> n;
  n = 5;
  EXPECT_EQ(*n, 5);
}

TEST(Local, ValuesDieWithTheirThreadOrTheLocal) {
  std::atomic<int> live{0};
  {
    th::local<Tracked> l(&live);
    th::Thread t([&] { l->value = 1; });
    t.start();
    t.join();
    EXPECT_EQ(live.load(), 0);  // destroyed at thread exit
    l->value = 2;
    EXPECT_EQ(live.load(), 1);
  }
  EXPECT_EQ(live.load(), 0);  // destroyed with the local
}

TEST(Local, ManyShortLivedLocals) {
  for (int i = 0; i < 1000; ++i) {
    th::local<int> l(i);
    EXPECT_EQ(*l, i);
  }
}
