// race_counter -- seed 001 "有GIL一定线程安全吗？": `n = n + 1` and `n = n - 1` race in two
// threads.
//
// import threading
//
// n = 0
//
// def add():
//     global n
//     for i in range(1000000):
//         n = n + 1
// def sub():
//     global n
//     for i in range(1000000):
//         n = n - 1
//
// if __name__ == "__main__":
//     t1 = threading.Thread(target=add)
//     t2 = threading.Thread(target=sub)
//
//     t1.start()
//     t2.start()
//
//     t1.join()
//     t2.join()
//
//     print("n的值为:", n)
//
// # n的值为: 65763
//
// The fix (the seed's rule: "始终围绕共享可变状态的读取和写入加锁"):
//
// lock = threading.Lock()
// def add():
//     global n
//     for i in range(1000000):
//         with lock:
//             n = n + 1
//
// In C++ without a GIL, a plain `long n` written by two threads is a data race: undefined
// behaviour, not just a wrong number. So `n` is a std::atomic<long> used the way the Python
// bytecode uses it -- LOAD_GLOBAL, BINARY_ADD, STORE_GLOBAL as three separate steps (a relaxed
// load, an add, a relaxed store). Another thread can run between the load and the store, so
// updates get lost exactly as in the seed, but the program stays well defined. Both threads
// wait for the Event `go` before counting, so that they surely overlap (a million steps take a
// millisecond here: t1 could be done before t2 has even started).
#include <pyconc/threading.hpp>

#include <atomic>
#include <iostream>
#include <mutex>
#include <sstream>

#include "print.hpp"

namespace th = pyconc::threading;

// Python's print(): arguments joined by spaces, one whole line per call.
constexpr auto relaxed = std::memory_order_relaxed;

std::atomic<long> n{0};
constexpr long iterations = 1000000;
th::Lock lock;
th::Event go;

void add() {
  go.wait();
  for (long i = 0; i < iterations; ++i) {
    n.store(n.load(relaxed) + 1, relaxed);  // n = n + 1: load, add, store -- not one step
  }
}
void sub() {
  go.wait();
  for (long i = 0; i < iterations; ++i) {
    n.store(n.load(relaxed) - 1, relaxed);  // n = n - 1
  }
}

void add_locked() {
  go.wait();
  for (long i = 0; i < iterations; ++i) {
    std::lock_guard with(lock);  // with lock:
    n.store(n.load(relaxed) + 1, relaxed);
  }
}
void sub_locked() {
  go.wait();
  for (long i = 0; i < iterations; ++i) {
    std::lock_guard with(lock);
    n.store(n.load(relaxed) - 1, relaxed);
  }
}

// Runs `up` and `down` in two threads, as the seed's __main__ does, and returns n.
long run(void (*up)(), void (*down)()) {
  n = 0;
  go.clear();
  th::Thread t1(up);
  th::Thread t2(down);

  t1.start();
  t2.start();
  go.set();

  t1.join();
  t2.join();
  return n.load();
}

// --quick changes nothing: the seed's million takes well under a second, even under TSan.
int main() {
  const long racy = run(add, sub);
  print("n的值为:", racy,
        racy != 0 ? "(no lock: updates were lost)"
                  : "(no lock: the threads did not overlap this time)");
  const long fixed = run(add_locked, sub_locked);
  print("n的值为:", fixed, "(with lock)");

  if (fixed != 0) {
    print("FAIL: with the lock n must be 0");
    return 1;
  }
  return 0;
}
