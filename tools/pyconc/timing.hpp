// tools/pyconc/timing.hpp -- how `pyconc compare` times a model: one run, or the best of a few
// when runs are short. The Python scripts apply the same rule (--min-time, --max-runs).
//
// Thread safety: none needed -- used from the main thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>

namespace pyconc::tool {

// A run shorter than this is repeated (best time kept, at most kMaxRuns runs).
inline constexpr double kMinTime = 0.25;
inline constexpr int kMaxRuns = 5;

struct Timing {
  double seconds = 0;  // best run
  int runs = 0;
};

inline Timing measure(const std::function<void()>& run_once) {
  Timing t{std::numeric_limits<double>::infinity(), 0};
  double total = 0;
  while (t.runs < kMaxRuns) {
    const auto start = std::chrono::steady_clock::now();
    run_once();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    t.seconds = std::min(t.seconds, elapsed.count());
    total += elapsed.count();
    ++t.runs;
    if (total >= kMinTime) break;
  }
  return t;
}

}  // namespace pyconc::tool
