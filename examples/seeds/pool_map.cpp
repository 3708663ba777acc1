// pool_map -- seed 000 "线程池化": submit() five workers, map() three more, then wait() for the
// futures.
//
// import concurrent.futures
// import threading
//
// # 定义线程要执行的函数
// def worker(index):
//     print(f"Thread {index} is starting")
//     print(f"Thread {index} is done")
//
// # 使用线程池创建多线程
// with concurrent.futures.ThreadPoolExecutor(max_workers=3) as executor:
//     # 方式1
//     futures = [executor.submit(worker, i) for i in range(5)]
//     # 方式2
//     #####  map的结果顺序和参数列表的入参顺序是一样的 ####
//     results = executor.map(worker,[1,2,3])
// # 等待所有线程完成
// concurrent.futures.wait(futures)
//
// print("All threads are done")
//
// Differences: worker returns its index, so the order of map's results can be checked. `futures`
// and `results` outlive the `with` block in Python, so they are declared before the C++ scope.
// Python runs the three map calls even though `results` is never read; a pyconc map range that
// is destroyed unread cancels the calls not yet started, so the results are taken at once
// (to_vector(), Python's list(executor.map(...))).
// The seed's remark -- map's results come in the order of its arguments -- is then shown with
// workers that finish in reverse order.
#include <pyconc/futures.hpp>
#include <pyconc/threading.hpp>

#include <chrono>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include "print.hpp"

using namespace std::chrono_literals;
namespace cf = pyconc::futures;
namespace th = pyconc::threading;

// 定义线程要执行的函数
int worker(int index) {
  print("Thread", index, "is starting");
  print("Thread", index, "is done");
  return index;
}

// --- map的结果顺序和参数列表的入参顺序是一样的: the last argument finishes first ---
constexpr int N = 6;
std::chrono::milliseconds step = 100ms;
th::Lock finish_lock;
std::vector<int> finish_order;  // guarded by finish_lock

int slow_worker(int index) {
  std::this_thread::sleep_for((N - index) * step);
  std::lock_guard g(finish_lock);
  finish_order.push_back(index);
  return index;
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  if (quick) step = 20ms;
  bool ok = true;

  // 使用线程池创建多线程
  std::vector<pyconc::Future<int>> futures;
  std::vector<int> results;
  {
    cf::ThreadPoolExecutor executor(3);
    // 方式1
    for (int i = 0; i < 5; ++i) futures.push_back(executor.submit(worker, i));
    // 方式2
    results = executor.map(worker, std::vector{1, 2, 3}).to_vector();
  }
  // 等待所有线程完成
  auto [done, not_done] = cf::wait(futures);

  print("All threads are done");
  if (done.size() != 5 || !not_done.empty()) {
    print("FAIL: wait(futures) must return with all 5 futures done");
    ok = false;
  }
  for (int i = 0; i < 5; ++i) ok = ok && futures[i].result() == i;
  if (results != std::vector{1, 2, 3}) {
    print("FAIL: map(worker, [1, 2, 3]) must give 1, 2, 3");
    ok = false;
  }

  std::vector<int> indexes;
  for (int i = 0; i < N; ++i) indexes.push_back(i);
  std::vector<int> in_order;
  {
    cf::ThreadPoolExecutor executor(N);
    for (int r : executor.map(slow_worker, indexes)) in_order.push_back(r);
  }
  std::ostringstream finished, returned;
  for (int i : finish_order) finished << i << ' ';
  for (int r : in_order) returned << r << ' ';
  print("finished in the order:", finished.str());
  print("map returned        :", returned.str());
  if (in_order != indexes) {
    print("FAIL: map must return the results in the order of its arguments");
    ok = false;
  }
  return ok ? 0 : 1;
}
