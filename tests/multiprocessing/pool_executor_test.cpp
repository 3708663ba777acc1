#include "pyconc/multiprocessing/process_pool_executor.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace cf = pyconc::futures;
namespace mp = pyconc::multiprocessing;

namespace {
long square(long x) { return x * x; }
long getpid_task() { return static_cast<long>(::getpid()); }
}  // namespace

TEST(ProcessPoolExecutor, Smoke) {
  cf::ProcessPoolExecutor pool(2);
  auto f = pool.submit(square, 7L);
  EXPECT_EQ(f.result(), 49);
  EXPECT_NE(pool.submit(getpid_task).result(), ::getpid());
  std::vector<long> xs{1, 2, 3, 4, 5};
  long sum = 0;
  for (long r : pool.map(square, xs)) sum += r;
  EXPECT_EQ(sum, 55);
  sum = 0;
  for (long r : pool.map(square, xs, cf::MapOptions{.chunksize = 2})) sum += r;
  EXPECT_EQ(sum, 55);
  auto g = pool.submit([](std::string s) { return s + "!"; }, "hi");
  EXPECT_EQ(g.result(), "hi!");
}
