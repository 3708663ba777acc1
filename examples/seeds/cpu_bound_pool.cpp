// cpu_bound_pool -- seed 004 "多进程": find_sums with multiprocessing.Pool().
//
// import multiprocessing
// import time
//
// def cpu_bound(number):
//     return sum(i * i for i in range(number))
//
// def find_sums(numbers):
//     with multiprocessing.Pool() as pool:
//         pool.map(cpu_bound, numbers)
//
// numbers = [10000000 + x for x in range(20)]
//
// start_time = time.time()
// find_sums(numbers)
// duration = time.time() - start_time
// print(f"Duration {duration} seconds")
//
// The sums exceed 64 bits, as Python's integers may: they are computed in unsigned __int128
// and cross back from the worker processes as decimal strings (a std::string is Serializable;
// __int128 is not a standard arithmetic type). Difference: find_sums returns the sums so the
// check can compare each with the closed form n(n-1)(2n-1)/6. --quick uses 100000 + x.
#include <pyconc/multiprocessing.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "print.hpp"

namespace mp = pyconc::multiprocessing;

__extension__ using u128 = unsigned __int128;  // GCC/Clang extension (-Wpedantic)

std::string to_decimal(u128 v) {
  std::string s;
  do {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  return s;
}

std::string cpu_bound(long number) {
  u128 sum = 0;
  for (long i = 0; i < number; ++i) sum += static_cast<u128>(i) * static_cast<u128>(i);
  return to_decimal(sum);
}

std::vector<std::string> find_sums(const std::vector<long>& numbers) {
  mp::Pool pool;
  return pool.map(cpu_bound, numbers);
}

int main(int argc, char** argv) {
  const long base = argc > 1 && std::string_view(argv[1]) == "--quick" ? 100000 : 10000000;
  std::vector<long> numbers;
  for (long x = 0; x < 20; ++x) numbers.push_back(base + x);

  const auto start_time = std::chrono::steady_clock::now();
  const std::vector<std::string> sums = find_sums(numbers);
  const std::chrono::duration<double> duration = std::chrono::steady_clock::now() - start_time;
  print("Duration", duration.count(), "seconds");

  bool ok = sums.size() == numbers.size();
  for (std::size_t i = 0; ok && i < sums.size(); ++i) {
    const auto n = static_cast<u128>(numbers[i]);
    ok = sums[i] == to_decimal(n * (n - 1) * (2 * n - 1) / 6);
  }
  if (!ok) {
    print("FAIL: every sum equals n(n-1)(2n-1)/6");
    return 1;
  }
  return 0;
}
