// mp_pool_job -- seed 004 "进程池": Pool(processes=2), map(job, range(10)), apply_async + get.
//
// import multiprocessing as mp
//
// def job(x):
//     return x * x
//
// def multicore():
//     pool = mp.Pool(processes=2)
//     res = pool.map(job, range(10))
//     print(res)
//     res = pool.apply_async(job, (2,))
//     multi_res = [pool.apply_async(job, (i,)) for i in range(10)]
//     print(res.get())  # 获取单个结果
//     print([res.get() for res in multi_res])  # 获取多个结果
//
// multicore()
//
// Checks: the squares, in order, from map and from the apply_async results.
#include <pyconc/multiprocessing.hpp>

#include <ranges>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "print.hpp"

namespace mp = pyconc::multiprocessing;

long job(long x) {
  return x * x;
}

std::string list(const std::vector<long>& v) {  // Python's repr of a list
  std::ostringstream s;
  s << '[';
  for (std::size_t i = 0; i < v.size(); ++i) s << (i != 0 ? ", " : "") << v[i];
  s << ']';
  return s.str();
}

int multicore() {
  mp::Pool pool(2);
  std::vector<long> res = pool.map(job, std::views::iota(0L, 10L));
  print(list(res));
  auto one = pool.apply_async(job, std::make_tuple(2L));
  std::vector<mp::AsyncResult<long>> multi_res;
  for (long i = 0; i < 10; ++i) multi_res.push_back(pool.apply_async(job, std::make_tuple(i)));
  print(one.get());
  std::vector<long> got;
  for (auto& r : multi_res) got.push_back(r.get());
  print(list(got));

  const std::vector<long> squares{0, 1, 4, 9, 16, 25, 36, 49, 64, 81};
  if (res != squares || got != squares || one.get() != 4) {
    print("FAIL: the squares of 0..9, in order");
    return 1;
  }
  return 0;
}

int main() {
  return multicore();
}
