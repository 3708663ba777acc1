// asyncio_wait_gather -- seed 002 "asyncio包": a list of tasks from asyncio.create_task, awaited
// first with asyncio.wait (the done set, then each .result()) and then with asyncio.gather,
// which the seed recommends instead.
//
// 对于多个并行task可以用asyncio.gather，替代asyncio.wait：
//
//    task_list = []
//        for i in range(5):
//            task = asyncio.create_task(async_func(i))
//            task_list.append(task)
//
//    done, pending = await asyncio.wait(task_list, timeout=None)
//    for done_task in done:
//            print((f"[{current_time()}] 得到执行结果 {done_task.result()}"))
//
//    task_list = []
//        for i in range(5):
//            task = asyncio.create_task(func(i))
//            task_list.append(task)
//    results = await asyncio.gather(*task_list)
//    for result in results:
//            print((f"[{current_time()}] 得到执行结果 {result}"))
//
// The seed leaves out async_func, func and current_time (and the coroutine around the code).
// Here async_func(i) and func(i) sleep one second and return i * i; current_time() is the wall
// clock's hh:mm:ss.mmm. Each list of five tasks finishes in about one second, not five.
// Differences: `timeout=None` is the overload without a timeout. Python's `done` is a set (no
// order); pyconc's wait gives the done tasks in the order of the list. The program checks that
// every task is done with its own result, nothing pending, gather's results in list order, and
// that each list took well under its sleeps added up (as the sleeps measured them, so a slow
// machine cannot fail it). --quick: a second lasts 50 ms.
#include <pyconc/asyncio.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "print.hpp"
#include "seconds.hpp"

namespace aio = pyconc::asyncio;

std::string current_time() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm local{};
  localtime_r(&t, &local);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", local.tm_hour, local.tm_min, local.tm_sec,
                static_cast<int>(ms));
  return buf;
}

std::chrono::steady_clock::duration slept{};  // every task's sleep, added up

aio::Task<int> async_func(int i) {
  const Stopwatch sleeping;
  co_await aio::sleep(1 * second);
  slept += sleeping.elapsed();
  co_return i* i;
}

aio::Task<int> func(int i) {
  co_return co_await async_func(i);
}

bool ok = true;
void check(bool condition, const char* what) {
  if (!condition) print("FAIL:", what);
  ok = ok && condition;
}

aio::Task<> with_wait() {
  std::vector<aio::Task<int>> task_list;
  for (int i = 0; i < 5; ++i) {
    aio::Task<int> task = aio::create_task(async_func(i));
    task_list.push_back(task);
  }

  auto [done, pending] = co_await aio::wait(task_list);  // timeout=None
  for (auto& done_task : done) {
    print("[" + current_time() + "] 得到执行结果", done_task.result());
  }

  check(done.size() == 5 && pending.empty(), "wait() must return all five tasks done");
  for (std::size_t i = 0; i < task_list.size(); ++i) {
    check(task_list[i].done() && task_list[i].result() == static_cast<int>(i * i),
          "each task must hold its own result");
  }
}

aio::Task<> with_gather() {
  std::vector<aio::Task<int>> task_list;
  for (int i = 0; i < 5; ++i) {
    aio::Task<int> task = aio::create_task(func(i));
    task_list.push_back(task);
  }
  std::vector<int> results = co_await aio::gather(std::move(task_list));
  for (int result : results) {
    print("[" + current_time() + "] 得到执行结果", result);
  }

  check(results == std::vector<int>{0, 1, 4, 9, 16},
        "gather() must give the results in list order");
}

int main(int argc, char** argv) {
  use_quick_seconds(argc, argv);

  for (auto* part : {&with_wait, &with_gather}) {
    slept = {};
    const Stopwatch time;
    aio::run(part());
    print("took", time.text(), "-- the sleeps added up:", seconds_text(slept));
    // Together: 1 of the 5 seconds; allow up to 2.5 for a loaded machine.
    check(time.elapsed() < 0.5 * slept, "the five tasks did not sleep at the same time");
  }
  return ok ? 0 : 1;
}
