// examples/seeds/seconds.hpp -- the seeds' "one second" and their time.time() differences, for
// the samples whose lesson is how long they take.
//
// `second` is a real second; with --quick (what ctest runs) it shrinks so that a sample sleeping
// "4 seconds" takes a fraction of one. Stopwatch is `start = time.time() ... time.time() - start`.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

inline std::chrono::milliseconds second{1000};

// Reads the command line: --quick makes `second` last `quick_second`.
inline void use_quick_seconds(
    int argc, char** argv, std::chrono::milliseconds quick_second = std::chrono::milliseconds(50)) {
  if (argc > 1 && std::string_view(argv[1]) == "--quick") second = quick_second;
}

// The seeds' durations, in the sample's seconds (a duration of 3 * second reads as 3).
inline double in_seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d) / std::chrono::duration<double>(second);
}

// "4.01 s" in the sample's seconds -- and under --quick also the real time: "4.01 s (201 ms)".
inline std::string seconds_text(std::chrono::steady_clock::duration d) {
  char buf[64];
  if (second == std::chrono::seconds(1)) {
    std::snprintf(buf, sizeof buf, "%.2f s", in_seconds(d));
  } else {
    std::snprintf(buf, sizeof buf, "%.2f s (%.0f ms)", in_seconds(d),
                  std::chrono::duration<double, std::milli>(d).count());
  }
  return buf;
}

class Stopwatch {
 public:
  std::chrono::steady_clock::duration elapsed() const {
    return std::chrono::steady_clock::now() - start_;
  }
  // Elapsed time in the sample's seconds.
  double seconds() const { return in_seconds(elapsed()); }
  std::string text() const { return seconds_text(elapsed()); }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};
