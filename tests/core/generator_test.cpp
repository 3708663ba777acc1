#include "pyconc/generator.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using pyconc::Generator;

Generator<int> count_up(int n) {
  for (int i = 0; i < n; ++i) co_yield i;
}

TEST(Generator, RangeForYieldsInOrder) {
  std::vector<int> got;
  for (int v : count_up(4)) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3}));
}

TEST(Generator, LazyUntilFirstUse) {
  bool started = false;
  auto g = [](bool& s) -> Generator<int> {
    s = true;
    co_yield 1;
  }(started);
  EXPECT_FALSE(started);
  EXPECT_EQ(g.next(), 1);
  EXPECT_TRUE(started);
}

TEST(Generator, NextThenStopIteration) {
  auto g = count_up(2);
  EXPECT_EQ(pyconc::next(g), 0);
  EXPECT_EQ(g.next(), 1);
  EXPECT_FALSE(g.done());
  EXPECT_THROW(g.next(), pyconc::StopIteration);
  EXPECT_TRUE(g.done());
  EXPECT_THROW(g.next(), pyconc::StopIteration);
}

TEST(Generator, ForLoopContinuesAfterNext) {
  // Python: next(g) then `for x in g` goes on from where next() left it.
  auto g = count_up(4);
  EXPECT_EQ(g.next(), 0);
  std::vector<int> rest;
  for (int v : g) rest.push_back(v);
  EXPECT_EQ(rest, (std::vector<int>{1, 2, 3}));
}

TEST(Generator, EmptyGenerators) {
  Generator<int> none;
  EXPECT_TRUE(none.done());
  EXPECT_EQ(none.begin(), none.end());
  EXPECT_THROW(none.next(), pyconc::StopIteration);
  auto zero = count_up(0);
  EXPECT_EQ(zero.begin(), zero.end());
}

TEST(Generator, LvalueYieldIsACopyTheConsumerMayMove) {
  auto g = []() -> Generator<std::string> {
    std::string s = "kept";
    co_yield s;
    co_yield s;  // still intact: the consumer moved from a copy
    co_yield std::string("temp");
    co_yield "literal";
  }();
  std::string a = std::move(g.next());
  EXPECT_EQ(a, "kept");
  EXPECT_EQ(g.next(), "kept");
  EXPECT_EQ(g.next(), "temp");
  EXPECT_EQ(g.next(), "literal");
}

TEST(Generator, MoveOnlyValues) {
  auto g = []() -> Generator<std::unique_ptr<int>> {
    co_yield std::make_unique<int>(7);
    auto p = std::make_unique<int>(8);
    co_yield std::move(p);
  }();
  std::vector<int> got;
  for (auto& p : g) got.push_back(*std::move(p));
  EXPECT_EQ(got, (std::vector<int>{7, 8}));
}

TEST(Generator, ExceptionReachesTheConsumer) {
  auto g = []() -> Generator<int> {
    co_yield 1;
    throw pyconc::ValueError("boom");
  }();
  auto it = g.begin();
  EXPECT_EQ(*it, 1);
  EXPECT_THROW(++it, pyconc::ValueError);
  EXPECT_TRUE(g.done());
  EXPECT_THROW(g.next(), pyconc::StopIteration);
}

TEST(Generator, ExceptionBeforeFirstYield) {
  auto g = []() -> Generator<int> {
    throw std::runtime_error("early");
    co_yield 1;
  }();
  EXPECT_THROW(g.begin(), std::runtime_error);
}

struct Tracker {
  int* destroyed;
  ~Tracker() { ++*destroyed; }
};

Generator<int> with_tracker(int& destroyed, int n) {
  Tracker t{&destroyed};
  for (int i = 0; i < n; ++i) co_yield i;
}

TEST(Generator, EarlyDestructionRunsDestructors) {
  int destroyed = 0;
  {
    auto g = with_tracker(destroyed, 100);
    EXPECT_EQ(g.next(), 0);
    EXPECT_EQ(g.next(), 1);
  }
  EXPECT_EQ(destroyed, 1);
  {
    auto g = with_tracker(destroyed, 100);  // never started: the frame has no Tracker yet
  }
  EXPECT_EQ(destroyed, 1);
  {
    for (int v : with_tracker(destroyed, 100)) {
      if (v == 3) break;
    }
  }
  EXPECT_EQ(destroyed, 2);
}

TEST(Generator, CloseEndsIt) {
  int destroyed = 0;
  auto g = with_tracker(destroyed, 10);
  g.next();
  g.close();
  EXPECT_EQ(destroyed, 1);
  EXPECT_TRUE(g.done());
  EXPECT_THROW(g.next(), pyconc::StopIteration);
  g.close();  // idempotent
}

TEST(Generator, MoveAssignmentClosesTheOldOne) {
  int destroyed = 0;
  auto g = with_tracker(destroyed, 10);
  g.next();
  g = count_up(1);
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(g.next(), 0);
}

Generator<int> chain(int& destroyed) {
  co_yield -1;
  co_yield pyconc::yield_from(count_up(3));
  co_yield pyconc::yield_from(with_tracker(destroyed, 2));
  co_yield 99;
}

TEST(Generator, YieldFrom) {
  int destroyed = 0;
  std::vector<int> got;
  for (int v : chain(destroyed)) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{-1, 0, 1, 2, 0, 1, 99}));
  EXPECT_EQ(destroyed, 1);
}

TEST(Generator, YieldFromDestroyedMidway) {
  int destroyed = 0;
  {
    auto g = chain(destroyed);
    for (int i = 0; i < 5; ++i) g.next();  // inside the second inner generator
  }
  EXPECT_EQ(destroyed, 1);
}

Generator<int> deep(int depth) {
  if (depth == 0) {
    co_yield 0;
    co_return;
  }
  co_yield pyconc::yield_from(deep(depth - 1));
  co_yield depth;
}

TEST(Generator, DeepYieldFromDoesNotGrowTheStack) {
  int last = -1, count = 0;
  for (int v : deep(20'000)) {
    last = v;
    ++count;
  }
  EXPECT_EQ(count, 20'001);
  EXPECT_EQ(last, 20'000);
}

TEST(Generator, YieldFromPropagatesExceptionsToTheOuterGenerator) {
  auto inner = []() -> Generator<int> {
    co_yield 1;
    throw pyconc::ValueError("inner");
  };
  auto outer = [](auto make) -> Generator<int> {
    bool failed = false;
    try {
      co_yield pyconc::yield_from(make());
    } catch (const pyconc::ValueError&) {
      failed = true;  // handled where `yield from` stood (C++: no co_yield inside a handler)
    }
    if (failed) co_yield 100;
  }(inner);
  std::vector<int> got;
  for (int v : outer) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{1, 100}));
}

TEST(Generator, YieldFromOfAPartlyConsumedGenerator) {
  auto outer = [](Generator<int> g) -> Generator<int> {
    co_yield pyconc::yield_from(std::move(g));
  }(count_up(4));
  // The inner one was moved in unstarted; consume the outer partly, then all.
  std::vector<int> got;
  for (int v : outer) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3}));

  auto inner = count_up(4);
  inner.next();  // 0 consumed before `yield from`
  auto outer2 = [](Generator<int> g) -> Generator<int> {
    co_yield pyconc::yield_from(std::move(g));
  }(std::move(inner));
  got.clear();
  for (int v : outer2) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
}

// --- two-way generators (send) ---

Generator<std::string, std::optional<int>> consumer(std::vector<int>& consumed) {
  std::string r;
  while (true) {
    std::optional<int> n = co_yield r;
    if (!n) co_return;
    consumed.push_back(*n);
    r = "200 OK";
  }
}

TEST(TwoWayGenerator, SendLikeTheSeed) {
  std::vector<int> consumed;
  auto c = consumer(consumed);
  EXPECT_EQ(c.send(), "");  // c.send(None): runs to the first yield
  for (int n = 1; n <= 5; ++n) EXPECT_EQ(c.send(n), "200 OK");
  c.close();
  EXPECT_EQ(consumed, (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_THROW(c.send(6), pyconc::StopIteration);
}

TEST(TwoWayGenerator, SendNoneEndsIt) {
  std::vector<int> consumed;
  auto c = consumer(consumed);
  c.send();
  EXPECT_EQ(c.send(1), "200 OK");
  EXPECT_THROW(c.send(std::nullopt), pyconc::StopIteration);  // `if not n: return`
  EXPECT_TRUE(c.done());
}

TEST(TwoWayGenerator, SendBeforeStartIsAnError) {
  std::vector<int> consumed;
  auto c = consumer(consumed);
  EXPECT_THROW(c.send(1), pyconc::ValueError);
  EXPECT_EQ(c.send(), "");  // still usable
}

TEST(TwoWayGenerator, NextSendsADefaultValue) {
  auto g = []() -> Generator<int, int> {
    int total = 0;
    while (true) total += co_yield total;
  }();
  EXPECT_EQ(g.next(), 0);
  EXPECT_EQ(g.send(5), 5);
  EXPECT_EQ(g.next(), 5);  // next() sends int{} == 0
  EXPECT_EQ(g.send(2), 7);
}

TEST(TwoWayGenerator, SendReachesTheInnerGeneratorOfYieldFrom) {
  auto echo = []() -> Generator<int, int> {
    int v = co_yield -1;
    while (v != 0) v = co_yield v * 10;
  };
  auto outer = [](auto make) -> Generator<int, int> {
    co_yield pyconc::yield_from(make());
    co_yield 42;
  }(echo);
  EXPECT_EQ(outer.send(), -1);
  EXPECT_EQ(outer.send(2), 20);
  EXPECT_EQ(outer.send(3), 30);
  EXPECT_EQ(outer.send(0), 42);  // inner returned: the outer goes on
  EXPECT_THROW(outer.send(1), pyconc::StopIteration);
}

TEST(Generator, ThrowIntoTheGenerator) {
  auto g = []() -> Generator<int> {
    for (int i = 0;; ++i) {
      bool thrown = false;
      try {
        co_yield i;
      } catch (const pyconc::ValueError&) {
        thrown = true;
      }
      if (thrown) co_yield -1;  // handled: throw_() returns this
    }
  }();
  EXPECT_EQ(g.next(), 0);
  EXPECT_EQ(g.throw_(pyconc::ValueError("x")), -1);
  EXPECT_EQ(g.next(), 1);
  EXPECT_THROW(g.throw_(pyconc::RuntimeError("not handled")), pyconc::RuntimeError);
  EXPECT_TRUE(g.done());

  auto fresh = count_up(3);
  EXPECT_THROW(fresh.throw_(pyconc::ValueError("before start")), pyconc::ValueError);
  EXPECT_TRUE(fresh.done());
}

// The seed's bare `yield` used to switch between two functions.
TEST(Generator, BareYieldTaskSwitch) {
  std::vector<std::string> log;
  auto func1 = [](std::vector<std::string>& l) -> Generator<> {
    for (int i = 0; i < 3; ++i) {
      l.push_back("beijing " + std::to_string(i));
      co_yield {};
    }
  };
  auto g = func1(log);
  for (int k = 0; k < 3; ++k) {
    log.push_back("shanghai " + std::to_string(k));
    pyconc::next(g);
  }
  EXPECT_EQ(log, (std::vector<std::string>{"shanghai 0", "beijing 0", "shanghai 1", "beijing 1",
                                           "shanghai 2", "beijing 2"}));
}

static_assert(std::ranges::input_range<Generator<int>>);
static_assert(std::input_iterator<Generator<int>::iterator>);

}  // namespace
