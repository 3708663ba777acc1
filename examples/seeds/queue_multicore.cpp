// queue_multicore -- seed 004 "输出结果存放至Queue" and "效率对比": two processes put their
// results in a Queue; the same work serially, in two threads and in two processes.
//
// import multiprocessing as mp
// import threading as td
// import time
//
// def job(q):
//     res = 0
//     for i in range(1000000):
//         res += i + i ** 2 + i ** 3
//     q.put(res)
//
// # 多核/多进程
// def multicore():
//     q = mp.Queue()
//     p1 = mp.Process(target=job, args=(q,))
//     p2 = mp.Process(target=job, args=(q,))
//     p1.start(); p2.start(); p1.join(); p2.join()
//     res1 = q.get(); res2 = q.get()
//     print('multicore:', res1 + res2)
//
// # 多线程
// def multithread():
//     q = mp.Queue()
//     t1 = td.Thread(target=job, args=(q,))
//     t2 = td.Thread(target=job, args=(q,))
//     t1.start(); t2.start(); t1.join(); t2.join()
//     res1 = q.get(); res2 = q.get()
//     print('multithread:', res1 + res2)
//
// def normal():
//     res = 0
//     for _ in range(2):
//         for i in range(1000000):
//             res += i + i ** 2 + i ** 3
//     print('normal:', res)
//
// if __name__ == '__main__':
//     st = time.time()
//     normal()
//     st1 = time.time()
//     print('normal time:', st1 - st)
//     multithread()
//     st2 = time.time()
//     print('multithread time:', st2 - st1)
//     multicore()
//     st3 = time.time()
//     print('multicore time:', st3 - st2)
//
// The sums exceed 64 bits (Python's integers do not care): they are computed in unsigned
// __int128 and cross the Queue as decimal strings. Without a GIL the threads scale like the
// processes do; at 10^6 the work takes milliseconds, so starting processes shows in the
// times (the seed's 10^6 in both modes; --quick only skips nothing but is accepted).
// Checks: the three totals are equal, and equal to the closed form.
#include <pyconc/multiprocessing.hpp>
#include <pyconc/threading.hpp>

#include <chrono>
#include <string>

#include "print.hpp"

namespace mp = pyconc::multiprocessing;
namespace td = pyconc::threading;

__extension__ typedef unsigned __int128 u128;

std::string decimal(u128 v) {
  std::string s;
  do {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  return s;
}
u128 from_decimal(const std::string& s) {
  u128 v = 0;
  for (char c : s) v = v * 10 + static_cast<unsigned>(c - '0');
  return v;
}

constexpr long kN = 1000000;

u128 work() {
  u128 res = 0;
  for (long k = 0; k < kN; ++k) {
    const u128 i = static_cast<u128>(k);
    res += i + i * i + i * i * i;
  }
  return res;
}

void job(mp::Queue<std::string> q) {
  q.put(decimal(work()));
}

// 多核/多进程
u128 multicore() {
  mp::Queue<std::string> q;
  mp::Process p1(job, q);
  mp::Process p2(job, q);
  p1.start();
  p2.start();
  p1.join();
  p2.join();
  const u128 res1 = from_decimal(q.get());
  const u128 res2 = from_decimal(q.get());
  print("multicore:", decimal(res1 + res2));
  return res1 + res2;
}

// 多线程
u128 multithread() {
  mp::Queue<std::string> q;
  td::Thread t1(job, q);
  td::Thread t2(job, q);
  t1.start();
  t2.start();
  t1.join();
  t2.join();
  const u128 res1 = from_decimal(q.get());
  const u128 res2 = from_decimal(q.get());
  print("multithread:", decimal(res1 + res2));
  return res1 + res2;
}

u128 normal() {
  u128 res = 0;
  for (int rep = 0; rep < 2; ++rep) res += work();
  print("normal:", decimal(res));
  return res;
}

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

int main() {
  const auto st = std::chrono::steady_clock::now();
  const u128 a = normal();
  const auto st1 = std::chrono::steady_clock::now();
  print("normal time:", since(st));
  const u128 b = multithread();
  const auto st2 = std::chrono::steady_clock::now();
  print("multithread time:", since(st1));
  const u128 c = multicore();
  print("multicore time:", since(st2));

  // sum i + i^2 + i^3 for i < n, twice: n(n-1)/2 + n(n-1)(2n-1)/6 + (n(n-1)/2)^2
  const u128 n = kN;
  const u128 tri = n * (n - 1) / 2;
  const u128 want = 2 * (tri + n * (n - 1) * (2 * n - 1) / 6 + tri * tri);
  if (a != want || b != want || c != want) {
    print("FAIL: normal, multithread and multicore totals equal the closed form");
    return 1;
  }
  return 0;
}
