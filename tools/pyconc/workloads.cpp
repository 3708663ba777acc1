// tools/pyconc/workloads.cpp -- the seeds' CPU-bound functions and their cross-checks.
#include "workloads.hpp"

#include <algorithm>
#include <cmath>

namespace pyconc::tool {

bool is_prime(std::uint64_t n) {
  if (n < 2) return false;
  if (n == 2) return true;
  if (n % 2 == 0) return false;
  // int(math.floor(math.sqrt(n))): n is rounded to double first, exactly as Python does.
  const auto sqrt_n = static_cast<std::uint64_t>(std::floor(std::sqrt(static_cast<double>(n))));
  for (std::uint64_t i = 3; i <= sqrt_n; i += 2) {
    if (n % i == 0) return false;
  }
  return true;
}

u128 sum_of_squares(std::uint64_t n) {
  u128 sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::uint64_t term = i;
    // Hides `term`'s value from the optimiser. Without it Clang (-O2) recognises the
    // polynomial recurrence and computes the closed form in a few instructions -- a benchmark
    // of nothing (GCC 12 happens not to). With it the loop does what Python's generator
    // does: one multiply and one add per element.
    __asm__("" : "+r"(term));
    sum += static_cast<u128>(term) * term;
  }
  return sum;
}

u128 sum_of_squares_formula(std::uint64_t n) {
  if (n == 0) return 0;
  const u128 m = n;
  return m * (m - 1) * (2 * m - 1) / 6;
}

namespace {

std::uint64_t mul_mod(std::uint64_t a, std::uint64_t b, std::uint64_t m) {
  return static_cast<std::uint64_t>(static_cast<u128>(a) * b % m);
}

std::uint64_t pow_mod(std::uint64_t base, std::uint64_t exp, std::uint64_t m) {
  std::uint64_t result = 1 % m;
  base %= m;
  while (exp > 0) {
    if (exp & 1U) result = mul_mod(result, base, m);
    base = mul_mod(base, base, m);
    exp >>= 1U;
  }
  return result;
}

}  // namespace

bool is_prime_miller_rabin(std::uint64_t n) {
  // These twelve bases decide primality for every n < 3.3e24, so for every 64-bit n.
  constexpr std::uint64_t kBases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};
  if (n < 2) return false;
  for (std::uint64_t p : kBases) {
    if (n % p == 0) return n == p;
  }
  std::uint64_t d = n - 1;
  int s = 0;
  while ((d & 1U) == 0) {
    d >>= 1U;
    ++s;
  }
  for (std::uint64_t a : kBases) {
    std::uint64_t x = pow_mod(a, d, n);
    if (x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int r = 1; r < s && composite; ++r) {
      x = mul_mod(x, x, n);
      if (x == n - 1) composite = false;
    }
    if (composite) return false;
  }
  return true;
}

std::string to_decimal(u128 v) {
  if (v == 0) return "0";
  std::string digits;
  while (v != 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

std::string self_check() {
  struct Known {
    u128 value;
    std::string_view python;  // str(...) in Python
  };
  const Known known[] = {
      {0, "0"},
      {~u128{0}, "340282366920938463463374607431768211455"},      // 2**128 - 1
      {sum_of_squares_formula(1'000'000), "333332833333500000"},  // sum(i*i for i in range(10**6))
      {sum_of_squares_formula(10'000'000), "333333283333335000000"},  // ... range(10**7)
      {sum_of_squares_formula(10'000'019), "333335183336755002109"},  // ... range(10**7 + 19)
      {sum_of_squares(1000), "332833500"},
  };
  for (const Known& k : known) {
    if (to_decimal(k.value) != k.python) {
      return "to_decimal gave " + to_decimal(k.value) + ", Python prints " + std::string(k.python);
    }
  }
  // The seed's number is prime (Python's is_prime says True); 2**61 - 1 is a Mersenne prime.
  if (!is_prime_miller_rabin(112272535095293ULL) || !is_prime_miller_rabin((1ULL << 61) - 1) ||
      is_prime_miller_rabin(112272535095293ULL * 3) || !is_prime(1'000'003) ||
      is_prime(1'000'001)) {
    return "primality cross-check disagrees with known primes";
  }
  return {};
}

Workload Workload::primes(std::uint64_t n, std::size_t count) {
  Workload w;
  w.id = 'A';
  w.kind = Kind::is_prime;
  w.title = "is_prime(" + std::to_string(n) + ") × " + std::to_string(count);
  w.inputs.assign(count, n);
  w.reset();
  return w;
}

Workload Workload::sums(std::uint64_t base, std::size_t count) {
  Workload w;
  w.id = 'B';
  w.kind = Kind::sum_of_squares;
  w.title = "sum(i*i for i in range(" + std::to_string(base) + " + x)) for x in range(" +
            std::to_string(count) + ")";
  for (std::size_t x = 0; x < count; ++x) w.inputs.push_back(base + x);
  w.reset();
  return w;
}

Workload::Fn Workload::function() const {
  switch (kind) {
    case Kind::is_prime:
      return [](std::uint64_t n) -> u128 { return is_prime(n) ? 1 : 0; };
    case Kind::sum_of_squares:
      return [](std::uint64_t n) -> u128 { return sum_of_squares(n); };
  }
  return nullptr;
}

std::string Workload::verify() const {
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const u128 expected = kind == Kind::is_prime ? u128{is_prime_miller_rabin(inputs[i])}
                                                 : sum_of_squares_formula(inputs[i]);
    if (results[i] != expected) {
      return std::string("task ") + std::to_string(i) + " (input " + std::to_string(inputs[i]) +
             ") gave " + python_repr(i) + ", expected " +
             (kind == Kind::is_prime ? (expected != 0 ? "True" : "False") : to_decimal(expected));
    }
  }
  return {};
}

u128 Workload::checksum(std::size_t count) const {
  u128 sum = 0;
  for (std::size_t i = 0; i < count && i < results.size(); ++i) sum += results[i];
  return sum;
}

std::string Workload::python_repr(std::size_t i) const {
  if (kind == Kind::is_prime) return results[i] != 0 ? "True" : "False";
  return to_decimal(results[i]);
}

}  // namespace pyconc::tool
