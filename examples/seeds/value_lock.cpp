// value_lock -- seed 004 "进程锁" and "通过锁机制解决争夺资源问题": two processes add to a shared
// Value, first without, then with a process lock.
//
// import multiprocessing as mp
// import time
//
// def job(v, num):
//     for _ in range(5):
//         time.sleep(0.1)
//         v.value += num
//         print(v.value, end="\n")
//
// def multicore():
//     v = mp.Value('i', 0)  # 定义共享变量
//     p1 = mp.Process(target=job, args=(v, 1))
//     p2 = mp.Process(target=job, args=(v, 3))  # 设定不同的number看如何抢夺内存
//     p1.start()
//     p2.start()
//     p1.join()
//     p2.join()
//
// # 通过锁机制解决争夺资源问题
// def job(v, num, l):
//     l.acquire()  # 锁住
//     for _ in range(5):
//         time.sleep(0.1)
//         v.value += num
//         print(v.value, end="\n")
//     l.release()  # 释放
//
// def multicore():
//     l = mp.Lock()  # 定义一个进程锁
//     v = mp.Value('i', 0)  # 定义共享变量
//     p1 = mp.Process(target=job, args=(v, 1, l))  # 需要将lock传入
//     p2 = mp.Process(target=job, args=(v, 3, l))  # 设定不同的number看如何抢夺内存
//     ...
//
// Unlocked, the two processes interleave their additions (and could lose one, as Python's
// `v.value += num` can: the racy version reads and writes through std::atomic_ref in two
// steps, so it may lose updates without undefined behaviour). Locked, one process does all
// five additions, then the other. Checks: the locked run prints 1 2 3 4 5 8 11 14 17 20 or
// 3 6 9 12 15 16 17 18 19 20 and ends at 20; the unlocked one ends at 20 or less.
#include <pyconc/multiprocessing.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "print.hpp"

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;

std::chrono::milliseconds delay = 100ms;    // time.sleep(0.1)
mp::Array<int> trace(10, {.lock = false});  // the values printed by the locked run, in order
mp::Value<int> printed(0);

void job(mp::Value<int> v, int num) {
  for (int k = 0; k < 5; ++k) {
    std::this_thread::sleep_for(delay);
    std::atomic_ref<int> value(v.value());
    value.store(value.load() + num);  // v.value += num: a read, then a write
    print(value.load());
  }
}

void locked_job(mp::Value<int> v, int num, mp::Lock l) {
  l.acquire();  // 锁住
  for (int k = 0; k < 5; ++k) {
    std::this_thread::sleep_for(delay);
    v.value() += num;
    print(v.value());
    trace[static_cast<std::size_t>(printed.value()++)] = v.value();
  }
  l.release();  // 释放
}

int multicore() {
  mp::Value<int> v(0);  // 定义共享变量
  mp::Process p1(job, v, 1);
  mp::Process p2(job, v, 3);  // 设定不同的number看如何抢夺内存
  p1.start();
  p2.start();
  p1.join();
  p2.join();
  return v.value();
}

int multicore_locked() {
  mp::Lock l;                           // 定义一个进程锁
  mp::Value<int> v(0);                  // 定义共享变量
  mp::Process p1(locked_job, v, 1, l);  // 需要将lock传入
  mp::Process p2(locked_job, v, 3, l);
  p1.start();
  p2.start();
  p1.join();
  p2.join();
  return v.value();
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--quick") delay = 5ms;
  print("-- without a lock");
  const int racy = multicore();
  print("-- with mp.Lock()");
  const int locked = multicore_locked();

  const std::vector<int> one_first{1, 2, 3, 4, 5, 8, 11, 14, 17, 20};
  const std::vector<int> three_first{3, 6, 9, 12, 15, 16, 17, 18, 19, 20};
  const std::vector<int> seen = trace.to_vector();
  if (locked != 20 || (seen != one_first && seen != three_first) || racy > 20 || racy <= 0) {
    print("FAIL: with the lock one process adds all its numbers, then the other, to 20");
    return 1;
  }
  return 0;
}
