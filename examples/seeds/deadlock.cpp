// deadlock -- seed 003 "死锁": two cooks each need the kitchen knife (菜刀) and the wok (锅).
//
// from threading import Thread, Lock
// from time import sleep
//
// def fun1():
//     lock1.acquire()
//     print('fun1拿到菜刀')
//     sleep(2)
//     lock2.acquire()
//     print('fun1拿到锅')
//
//     lock2.release()
//     print('fun1释放锅')
//     lock1.release()
//     print('fun1释放菜刀')
//
// def fun2():
//     lock2.acquire()
//     print('fun2拿到锅')
//     lock1.acquire()
//     print('fun2拿到菜刀')
//     lock1.release()
//     print('fun2释放菜刀')
//     lock2.release()
//     print('fun2释放锅')
//
// if __name__ == '__main__':
//     lock1 = Lock()
//     lock2 = Lock()
//
//     t1 = Thread(target=fun1)
//     t2 = Thread(target=fun2)
//     t1.start()
//     t2.start()
//
// The seed hangs forever. Here the second acquire has a timeout, lock.acquire(True, 0.2), so
// the deadlock is reported instead of hanging; and the seed's sleep(2) becomes a Barrier, so
// both cooks surely hold their first tool before reaching for the second (deterministic).
// The fix: take both locks in one step with std::scoped_lock, which never deadlocks whatever
// the order the locks are named in (it takes one, tries the other, backs off and retries).
// And the way to find such a bug before it bites: debug mode (PYCONC_DEBUG=1, or
// th::set_deadlock_detection(true)) records which lock each thread held while taking another,
// and reports the inversion even on a run whose timing is lucky -- here the cooks one after the
// other, which never deadlocks.
#include <pyconc/threading.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>

#include "print.hpp"

using namespace std::chrono_literals;
namespace th = pyconc::threading;

th::Lock lock1;                // 菜刀
th::Lock lock2;                // 锅
th::Barrier both_hold_one(2);  // replaces sleep(2): both threads now hold their first lock
std::atomic<int> deadlocks{0};
std::atomic<int> cooked{0};

void fun1() {
  lock1.acquire();
  print("fun1拿到菜刀");
  both_hold_one.wait();
  if (!lock2.acquire(true, 200ms)) {
    print("fun1等锅超时: deadlock detected");
    ++deadlocks;
    lock1.release();
    print("fun1释放菜刀");
    return;
  }
  print("fun1拿到锅");

  lock2.release();
  print("fun1释放锅");
  lock1.release();
  print("fun1释放菜刀");
}

void fun2() {
  lock2.acquire();
  print("fun2拿到锅");
  both_hold_one.wait();
  if (!lock1.acquire(true, 200ms)) {
    print("fun2等菜刀超时: deadlock detected");
    ++deadlocks;
    lock2.release();
    print("fun2释放锅");
    return;
  }
  print("fun2拿到菜刀");
  lock1.release();
  print("fun2释放菜刀");
  lock2.release();
  print("fun2释放锅");
}

// The fix: each cook takes knife and wok together (fun2 even names them in its own order).
void fun1_fixed() {
  both_hold_one.wait();  // start together, to make the contention real
  std::scoped_lock both(lock1, lock2);
  print("fun1拿到菜刀和锅");
  ++cooked;
}
void fun2_fixed() {
  both_hold_one.wait();
  std::scoped_lock both(lock2, lock1);
  print("fun2拿到锅和菜刀");
  ++cooked;
}

// The naive cooks without the barrier: alone, each finishes.
void cook(th::Lock& first, th::Lock& second) {
  std::lock_guard a(first);
  std::lock_guard b(second);
}

// Runs f1 and f2 in two threads; false if they are still running after `limit`.
bool run(void (*f1)(), void (*f2)(), std::chrono::milliseconds limit) {
  th::Thread t1(f1);
  th::Thread t2(f2);
  t1.start();
  t2.start();
  t1.join(limit);
  t2.join(limit);
  return !t1.is_alive() && !t2.is_alive();
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  const auto limit = quick ? 5s : 30s;

  print("-- 死锁 (each takes one lock, then waits for the other) --");
  if (!run(fun1, fun2, limit) || deadlocks < 1) {
    print("FAIL: the naive version should have timed out on at least one side");
    std::_Exit(1);
  }

  print("-- 解决: std::scoped_lock(lock1, lock2) --");
  if (!run(fun1_fixed, fun2_fixed, limit) || cooked != 2) {
    print("FAIL: with scoped_lock both cooks must finish");
    std::_Exit(1);  // threads may be stuck: do not wait for them
  }
  print("both cooks finished: no deadlock");

  print("-- 调试模式: fun1 做完 fun2 才开始, 不会死锁, 但隐患照样报告 --");
  th::set_deadlock_detection(true);
  std::string report;
  th::set_deadlock_handler([&](const th::PotentialDeadlock& r) { report = r.message; });
  {
    th::Thread t1({.name = "fun1"}, cook, std::ref(lock1), std::ref(lock2));
    t1.start();
    t1.join();
    th::Thread t2({.name = "fun2"}, cook, std::ref(lock2), std::ref(lock1));
    t2.start();
    t2.join();
  }
  if (report.find("thread 'fun1'") == std::string::npos ||
      report.find("thread 'fun2'") == std::string::npos) {
    print("FAIL: the lock-order inversion was not reported");
    std::_Exit(1);
  }
  th::set_deadlock_handler(nullptr);  // back to the default (stderr): `report` dies with main
  print(report);
  return 0;
}
