// tools/pyconc/workloads.hpp -- the seeds' CPU-bound experiments as plain functions.
//
// Python (the seeds):
//   A: is_prime(112272535095293) for each of PRIMES = [112272535095293] * 100
//   B: cpu_bound(number) = sum(i * i for i in range(number)), numbers = [10000000 + x for x in
//   range(20)]
//
// The functions here do exactly the seeds' arithmetic (same algorithm, same bounds), so the
// work timed in C++ is the work timed in Python. B's results exceed 64 bits (3.3e20 at the
// full size), so they are 128-bit and printed with to_decimal(); they must equal Python's
// integers digit for digit. The pure functions are checked against independent ones
// (Miller-Rabin, the closed form n(n-1)(2n-1)/6) by Workload::verify().
//
// Thread safety: the free functions, and function()'s, are pure. A model (models.hpp) may
// write results[i] and results[j], i != j, from different threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pyconc::tool {

// Python's int for our sizes. __extension__ keeps -Wpedantic quiet about the GNU type.
__extension__ using u128 = unsigned __int128;

// The seed's is_prime: trial division by the odd numbers 3..floor(sqrt(n)). sqrt is taken in
// double, as math.sqrt does, then floored.
bool is_prime(std::uint64_t n);

// sum(i * i for i in range(n)), summed one term at a time like Python's generator (the loop
// is kept opaque to the optimiser, which could otherwise replace it by the closed form).
u128 sum_of_squares(std::uint64_t n);

// The closed form n(n-1)(2n-1)/6, the cross-check for sum_of_squares. n < 2^40.
u128 sum_of_squares_formula(std::uint64_t n);

// Deterministic Miller-Rabin for every 64-bit n, the cross-check for is_prime.
bool is_prime_miller_rabin(std::uint64_t n);

// The decimal digits of v, as Python's str(int) prints them.
std::string to_decimal(u128 v);

// Checks to_decimal, the closed form and Miller-Rabin against values Python printed. Empty
// when all agree, else what differs.
std::string self_check();

// One experiment: a list of independent tasks, each mapping one input to one result.
struct Workload {
  enum class Kind { is_prime, sum_of_squares };
  // The seeds' function for one input, its result as a Python int (is_prime: 0 or 1).
  using Fn = u128 (*)(std::uint64_t);

  char id = 'A';  // "A" or "B", the label used in tables and by the script
  Kind kind = Kind::is_prime;
  std::string title;  // e.g. "is_prime(112272535095293) × 100"
  std::vector<std::uint64_t> inputs;
  std::vector<u128> results;  // results[i] of inputs[i]; is_prime stores 0 or 1

  static Workload primes(std::uint64_t n, std::size_t count);
  static Workload sums(std::uint64_t base, std::size_t count);

  std::size_t size() const { return inputs.size(); }
  void reset() { results.assign(inputs.size(), 0); }
  // The function of this workload's tasks: results[i] must equal function()(inputs[i]).
  Fn function() const;

  // Checks every result against the independent function. Empty when all agree, else a
  // message naming the first wrong task.
  std::string verify() const;
  // Sum of results[0..count) -- the checksum the Python script prints for the same prefix
  // (Python: sum(int(r) for r in results); True counts 1).
  u128 checksum(std::size_t count) const;
  // How one result reads in Python ("True", or the integer).
  std::string python_repr(std::size_t i) const;
};

}  // namespace pyconc::tool
