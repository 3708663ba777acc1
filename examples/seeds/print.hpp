// examples/seeds/print.hpp -- Python's print() for the translated seeds: the arguments,
// separated by spaces, written as one whole line (chained `std::cout <<` from several threads
// could interleave mid-line; Python's print does not). Every line is also kept, so an example
// can check that its output comes in the order the seed shows (printed_first()).
#pragma once

#include <cstddef>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

inline std::mutex printed_mutex;
inline std::vector<std::string> printed_lines;  // guarded by printed_mutex

template <class... Args>
void print(const Args&... args) {
  std::ostringstream line;
  int i = 0;
  ((line << (i++ != 0 ? " " : "") << args), ...);
  std::lock_guard lock(printed_mutex);
  printed_lines.push_back(line.str());
  std::cout << line.str() + '\n' << std::flush;
}

// True when the program's first lines were exactly `expected`, in that order; otherwise prints
// which line differs (the examples then exit non-zero).
inline bool printed_first(const std::vector<std::string>& expected) {
  std::string wrong;
  {
    std::lock_guard lock(printed_mutex);
    for (std::size_t i = 0; i < expected.size() && wrong.empty(); ++i) {
      if (i >= printed_lines.size() || printed_lines[i] != expected[i]) {
        wrong = "FAIL: line " + std::to_string(i + 1) + " should be: " + expected[i];
      }
    }
  }
  if (!wrong.empty()) print(wrong);
  return wrong.empty();
}
