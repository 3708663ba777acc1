// is_prime_pool -- seed 001 "多进程对比多线程": a CPU-bound is_prime, one thread vs a thread pool.
//
// import math,time
// from concurrent.futures import ThreadPoolExecutor, ProcessPoolExecutor
// PRIMES = [112272535095293]*100
// def is_prime(n):
//     if n<2:
//         return False
//     if n==2:
//         return True
//     if n%2 ==0:
//         return False
//     sqrt_n = int(math.floor(math.sqrt(n)))
//     for i in range(3,sqrt_n+1,2):
//         if n%i==0:
//             return False
//     return True
//
// def single_thread():
//     for number in PRIMES:
//         is_prime(number)
//
// def multi_thread():
//     with ThreadPoolExecutor() as pool:
//         pool.map(is_prime,PRIMES)
//
// def multi_process():
//     with ProcessPoolExecutor() as pool:
//         pool.map(is_prime,PRIMES)
//
// if __name__ == "__main__":
//     start = time.time()
//     single_thread()
//     end = time.time()
//     print('single thread, cost:',end-start,'seconds')
//
//     start = time.time()
//     multi_thread()
//     end = time.time()
//     print('multi thread, cost:',end-start,'seconds')
//
//     start = time.time()
//     multi_process()
//     end = time.time()
//     print('multi process, cost:',end-start,'seconds')
//
// single thread, cost: 26.073679208755493 seconds
// multi thread, cost: 25.577187061309814 seconds
//
// The seed's lesson is that under the GIL threads do not speed up CPU-bound work (it then turns
// to ProcessPoolExecutor). pyconc has no GIL: the pool runs is_prime on every core, so the multi
// thread time drops with the number of cores. Both times are printed; no speed-up is asserted
// (a CI machine may have one core).
// Differences: both functions return the results, which the check reads (and which keeps the
// optimiser from dropping the work). Python runs every map call even though the results are
// never read; a pyconc map range that is destroyed unread cancels the calls not yet started, so
// the results are taken (to_vector(), Python's list(pool.map(...))).
// multi_process() is the same map on a ProcessPoolExecutor: in Python the only way past the
// GIL, in C++ the same speed-up as threads, plus starting the worker processes.
#include <pyconc/futures.hpp>
#include <pyconc/multiprocessing.hpp>

#include <chrono>
#include <cmath>
#include <iostream>
#include <sstream>
#include <string_view>
#include <vector>

#include "print.hpp"

namespace cf = pyconc::futures;

std::vector<long long> PRIMES(100, 112272535095293LL);

bool is_prime(long long n) {
  if (n < 2) return false;
  if (n == 2) return true;
  if (n % 2 == 0) return false;
  const auto sqrt_n = static_cast<long long>(std::floor(std::sqrt(static_cast<double>(n))));
  for (long long i = 3; i < sqrt_n + 1; i += 2) {
    if (n % i == 0) return false;
  }
  return true;
}

std::vector<bool> single_thread() {
  std::vector<bool> results;
  for (long long number : PRIMES) results.push_back(is_prime(number));
  return results;
}

std::vector<bool> multi_thread() {
  cf::ThreadPoolExecutor pool;
  return pool.map(is_prime, PRIMES).to_vector();
}

std::vector<bool> multi_process() {
  cf::ProcessPoolExecutor pool;
  return pool.map(is_prime, PRIMES).to_vector();
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  if (quick) PRIMES.resize(10);  // [112272535095293]*10

  auto start = std::chrono::steady_clock::now();
  const std::vector<bool> single = single_thread();
  auto end = std::chrono::steady_clock::now();
  const std::chrono::duration<double> single_cost = end - start;
  print("single thread, cost:", single_cost.count(), "seconds");

  start = std::chrono::steady_clock::now();
  const std::vector<bool> multi = multi_thread();
  end = std::chrono::steady_clock::now();
  const std::chrono::duration<double> multi_cost = end - start;
  print("multi thread, cost:", multi_cost.count(), "seconds");
  print("speed-up:", single_cost / multi_cost, "with a pool of",
        cf::ThreadPoolExecutor::default_max_workers(), "workers");

  start = std::chrono::steady_clock::now();
  const std::vector<bool> procs = multi_process();
  end = std::chrono::steady_clock::now();
  const std::chrono::duration<double> procs_cost = end - start;
  print("multi process, cost:", procs_cost.count(), "seconds");

  bool ok = single.size() == PRIMES.size() && multi.size() == PRIMES.size() &&
            procs.size() == PRIMES.size();
  for (bool r : single) ok = ok && r;
  for (bool r : multi) ok = ok && r;
  for (bool r : procs) ok = ok && r;
  if (!ok) {
    print("FAIL: 112272535095293 is prime, every time, in all three runs");
    return 1;
  }
  return 0;
}
