// pyconc/futures/detail/trace.hpp -- task tracing for executors (PYCONC_TRACE=file.json).
//
// When the environment variable PYCONC_TRACE names a file at start-up, every executor task
// records its submit, start and end times and the worker that ran it; the events are written
// at exit as Chrome trace-event JSON (open it in Perfetto or chrome://tracing). When tracing is
// off, the cost on the task path is the one predictable branch in tracing().
// Thread safety: record_task may be called from any thread.
#pragma once

#include <cstdint>

#include "pyconc/detail/chrono.hpp"

namespace pyconc::detail {

extern const bool trace_enabled;

inline bool tracing() noexcept {
  return trace_enabled;
}

inline std::int64_t trace_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Records one task: the executor's name, the worker index, and three steady-clock instants.
void trace_task(const char* executor, int worker, std::int64_t submit_ns, std::int64_t start_ns,
                std::int64_t end_ns) noexcept;

// Writes the trace file now (also done automatically at exit). Safe to call repeatedly.
void trace_flush() noexcept;

}  // namespace pyconc::detail
