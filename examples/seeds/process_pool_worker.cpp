// process_pool_worker -- seed 000 "进程池化": ProcessPoolExecutor(max_workers=3), submit and map.
//
// import concurrent.futures
//
// # 定义进程要执行的函数
// def worker(index):
//     print(f"Process {index} is starting")
//     print(f"Process {index} is done")
//
// # 使用进程池创建多进程
// with concurrent.futures.ProcessPoolExecutor(max_workers=3) as executor:
//     # 方式 1
//     futures = [executor.submit(worker, i) for i in range(5)]
//     for future in concurrent.futures.as_completed(futures): ...
//     # 方式 2
//     results = executor.map(worker,[1,2,3])
//
// # 等待所有进程完成
// concurrent.futures.wait(futures)
//
// (The seed's as_completed line is unfinished: `for future in future.as_completed()`; it is
// completed here as the seed's comment describes.) Difference: worker returns the pid of the
// process it ran in, so the check can see that the work ran in at most 3 other processes;
// every future is done after the `with` block (the destructor waits, shutdown(wait=True)).
#include <unistd.h>
#include <pyconc/futures.hpp>
#include <pyconc/multiprocessing.hpp>

#include <set>
#include <string>
#include <vector>

#include "print.hpp"

namespace cf = pyconc::futures;

long worker(int index) {
  print("Process " + std::to_string(index) + " is starting");
  print("Process " + std::to_string(index) + " is done");
  return static_cast<long>(::getpid());
}

int main() {
  std::vector<pyconc::Future<long>> futures;
  std::vector<long> results;
  {
    cf::ProcessPoolExecutor executor(3);
    // 方式 1
    for (int i = 0; i < 5; ++i) futures.push_back(executor.submit(worker, i));
    for (auto& future : cf::as_completed(futures)) (void)future.result();
    // 方式 2
    for (long pid : executor.map(worker, std::vector<int>{1, 2, 3})) results.push_back(pid);
  }
  auto [done, not_done] = cf::wait(futures);
  print("All processes are done");

  std::set<long> pids(results.begin(), results.end());
  for (auto& f : futures) pids.insert(f.result());
  if (done.size() != 5 || !not_done.empty() || results.size() != 3 || pids.size() > 3 ||
      pids.count(::getpid()) != 0) {
    print("FAIL: 5 + 3 calls, all done, in at most 3 worker processes");
    return 1;
  }
  return 0;
}
