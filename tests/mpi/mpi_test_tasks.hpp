// Tasks and helpers shared by the tests of pyconc::mpi (both binaries run them on worker ranks:
// function pointers cross by offset, so they live in every binary that includes this header).
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>

#include "pyconc/errors.hpp"

namespace mpi_test {

inline int square(int x) {
  return x * x;
}
inline int add(int a, int b) {
  return a + b;
}
inline std::string greet(std::string name) {
  return "hello " + name;
}
inline int fail_with(int x) {
  throw pyconc::ValueError("bad value " + std::to_string(x));
}
inline long worker_pid() {
  return static_cast<long>(::getpid());
}
inline bool is_prime(std::uint64_t n) {
  if (n < 2) return false;
  for (std::uint64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}
// Work that takes a while (the queue behind it can be cancelled).
inline int busy_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

inline int g_initialized = 0;
inline void set_up(int value) {
  g_initialized = value;
}
inline int initialized_value() {
  return g_initialized;
}
inline void failing_set_up() {
  throw pyconc::RuntimeError("no database");
}

// utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15).
inline long cpu_ticks(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  long utime = 0;
  long stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

}  // namespace mpi_test
