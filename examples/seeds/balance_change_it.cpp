// balance_change_it -- seed 004 "Lock": deposit then withdraw under a lock, the balance stays 0.
//
// # 假定银行存款:
// balance = 0
// lock = threading.Lock()
//
// def change_it(n):
//     # 先存后取，结果应该为0:
//     global balance
//     balance = balance + n
//     balance = balance - n
//
// def run_thread(n):
//     for i in range(100000):
//         # 先要获取锁:
//         当多个线程同时执行lock.acquire()时，只有一个线程能成功地获取锁，然后继续执行代码，其他线程就继续等待直到获得锁为止
//         #
//         获得锁的线程用完后一定要释放锁，否则那些苦苦等待锁的线程将永远等待下去，成为死线程。用try...finally来确保锁一定会被释放
//         lock.acquire()
//         try:
//             change_it(n)
//         finally:
//             # 改完了一定要释放锁:
//             lock.release()
//
// t1 = threading.Thread(target=run_thread, args=(5,))
// t2 = threading.Thread(target=run_thread, args=(8,))
// t1.start()
// t2.start()
// t1.join()
// t2.join()
// print(balance)
//
// try/finally around acquire/release is std::lock_guard in C++. `balance` is a std::atomic<long>
// with relaxed loads and stores, the seed's unprotected read-add-write: the lock is what keeps it
// right, and remove the lock and the program is still well defined (only wrong).
#include <pyconc/threading.hpp>

#include <atomic>
#include <iostream>
#include <mutex>
#include <string_view>

namespace th = pyconc::threading;

constexpr auto relaxed = std::memory_order_relaxed;

// 假定银行存款:
std::atomic<long> balance{0};
th::Lock lock;
int iterations = 100000;

void change_it(long n) {
  // 先存后取，结果应该为0:
  balance.store(balance.load(relaxed) + n, relaxed);
  balance.store(balance.load(relaxed) - n, relaxed);
}

void run_thread(long n) {
  for (int i = 0; i < iterations; ++i) {
    // 先要获取锁; 获得锁的线程用完后一定要释放锁 -- lock_guard releases it on every path:
    std::lock_guard with(lock);
    change_it(n);
  }
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  if (quick) iterations = 20000;

  th::Thread t1(run_thread, 5);
  th::Thread t2(run_thread, 8);
  t1.start();
  t2.start();
  t1.join();
  t2.join();
  std::cout << balance << '\n';

  if (balance != 0) {
    std::cout << "FAIL: with the lock the balance must be 0\n";
    return 1;
  }
  return 0;
}
