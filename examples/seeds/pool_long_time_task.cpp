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
// As the seed says, four tasks start at once and the fifth waits for a free worker.
// Difference: each task also returns its pid, start and end time, so the check can see it:
// five tasks ran in at most four processes, never more than four at once. --quick scales the
// sleeps down to at most 0.3 s.
#include <unistd.h>
#include <pyconc/multiprocessing.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
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

  // Four workers: never more than four tasks at once (so, with five tasks, one of them
  // started only after another had ended), in at most four processes, none of them this one.
  // Which task waits is not fixed: a task queued behind a busy worker may be taken back by
  // a worker that comes free (or starts late), as Python's FIFO hand-out would do too.
  std::set<long> pids;
  std::vector<std::pair<double, int>> edges;  // (time, +1 start / -1 end)
  for (auto& r : rs) {
    const auto [pid, start, end] = r.get();
    pids.insert(pid);
    edges.emplace_back(start, +1);
    edges.emplace_back(end, -1);
  }
  std::sort(edges.begin(), edges.end());  // at equal times ends (-1) come first
  int running = 0, most = 0;
  for (const auto& [time, step] : edges) most = std::max(most, running += step);
  if (pids.size() > 4 || pids.count(::getpid()) != 0 || most > 4) {
    print("FAIL: five tasks in at most four worker processes, at most four at once");
    return 1;
  }
  return 0;
}
