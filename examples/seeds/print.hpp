// examples/seeds/print.hpp -- Python's print() for the translated seeds: the arguments,
// separated by spaces, written as one whole line (chained `std::cout <<` from several threads
// could interleave mid-line; Python's print does not).
#pragma once

#include <iostream>
#include <sstream>
#include <string>

template <class... Args>
void print(const Args&... args) {
  std::ostringstream line;
  int i = 0;
  ((line << (i++ != 0 ? " " : "") << args), ...);
  std::cout << line.str() + '\n' << std::flush;
}
