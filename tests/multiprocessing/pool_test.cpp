#include "pyconc/multiprocessing/pool.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;

namespace {
long job(long x) { return x * x; }
std::string func1(std::string s) { return s + "!"; }
int add(int a, int b) { return a + b; }
}  // namespace

TEST(Pool, Smoke) {
  mp::Pool pool(2);
  std::vector<long> xs{1, 2, 3, 4, 5, 6, 7};
  std::vector<long> r = pool.map(job, xs);
  EXPECT_EQ(r, (std::vector<long>{1, 4, 9, 16, 25, 36, 49}));
  EXPECT_EQ(pool.map(job, xs, 3), r);
  auto ar = pool.apply_async(func1, std::string("malu1"));
  EXPECT_EQ(ar.get(), "malu1!");
  EXPECT_EQ(ar.get(1s), "malu1!");
  EXPECT_TRUE(ar.ready());
  std::string seen;
  auto ar2 = pool.apply_async(func1, std::make_tuple(std::string("x")),
                              [&](std::string& v) { seen = v; });
  ar2.get();
  EXPECT_EQ(seen, "x!");
  long sum = 0;
  for (auto x : pool.imap(job, xs)) sum += x;
  EXPECT_EQ(sum, 140);
  sum = 0;
  for (auto x : pool.imap_unordered(job, xs)) sum += x;
  EXPECT_EQ(sum, 140);
  std::vector<std::pair<int, int>> pairs{{1, 2}, {3, 4}};
  EXPECT_EQ(pool.starmap(add, pairs), (std::vector<int>{3, 7}));
  EXPECT_EQ(pool.apply(add, 2, 3), 5);
  pool.close();
  pool.join();
}
