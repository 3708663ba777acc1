// pool_long_time_task -- seed 004 "用进程池方式批量创建子进程": Pool(4), five apply_async.
//
// def long_time_task(name):
//     print('Run task %s (%s)...' % (name, os.getpid()))
//     start = time.time()
//     time.sleep(random.random() * 3)
//     end = time.time()
//     print('Task %s runs %0.2f seconds.' % (name, (end - start)))
//
// # task 0，1，2，3是立刻执行的，而task 4要等待前面某个task完成后才执行
// print('Parent process %s.' % os.getpid())
// p = Pool(4)
// for i in range(5):
//     p.apply_async(long_time_task, args=(i,))
// print('Waiting for all subprocesses done...')
// p.close()
// p.join()
// print('All subprocesses done.')
//
// As the seed says, tasks 0-3 start at once and task 4 waits for a free worker. Difference:
// each task also returns its pid and start time, so the check can see it: five tasks ran in
// at most four processes, and task 4 started after one of the others ended. --quick scales
// the sleeps down to at most 0.3 s.
#include <unistd.h>
#include <pyconc/multiprocessing.hpp>

#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "print.hpp"

namespace mp = pyconc::multiprocessing;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Returns (pid, start, end).
std::tuple<long, double, double> long_time_task(int name, double scale) {
  print("Run task " + std::to_string(name) + " (" + std::to_string(::getpid()) + ")...");
  const double start = now_seconds();
  std::mt19937 rng(std::random_device{}());
  std::this_thread::sleep_for(
      std::chrono::duration<double>(std::uniform_real_distribution<double>(0.0, 1.0)(rng) * scale));
  const double end = now_seconds();
  char line[64];
  std::snprintf(line, sizeof line, "Task %d runs %0.2f seconds.", name, end - start);
  print(line);
  return {static_cast<long>(::getpid()), start, end};
}

int main(int argc, char** argv) {
  const double scale = argc > 1 && std::string_view(argv[1]) == "--quick" ? 0.3 : 3.0;
  print("Parent process " + std::to_string(::getpid()) + ".");
  mp::Pool p(4);
  std::vector<mp::AsyncResult<std::tuple<long, double, double>>> rs;
  for (int i = 0; i < 5; ++i)
    rs.push_back(p.apply_async(long_time_task, std::make_tuple(i, scale)));
  print("Waiting for all subprocesses done...");
  p.close();
  p.join();
  print("All subprocesses done.");

  std::set<long> pids;
  double first_end = 1e300;
  for (int i = 0; i < 4; ++i)
    first_end = std::min(first_end, std::get<2>(rs[static_cast<std::size_t>(i)].get()));
  for (auto& r : rs) pids.insert(std::get<0>(r.get()));
  const bool waited = std::get<1>(rs[4].get()) >= first_end - 1e-3;
  if (pids.size() > 4 || pids.count(::getpid()) != 0 || !waited) {
    print("FAIL: five tasks in at most four worker processes, task 4 after a free worker");
    return 1;
  }
  return 0;
}
