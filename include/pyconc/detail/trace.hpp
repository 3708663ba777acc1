// pyconc/detail/trace.hpp -- the timeline recorder behind PYCONC_TRACE=file.json, shared by every
// layer (executors, process workers, the event loop, the HTTP client and server, the crawler).
//
// When the environment variable PYCONC_TRACE names a file at start-up, the library records spans
// ("X" events), instants ("i") and counters ("C") and writes them at exit (or at trace_flush()) as
// Chrome trace-event JSON: it opens in Perfetto and in `pyconc trace view`. Times are
// CLOCK_MONOTONIC in ns, one clock for every process of the machine.
//
// Processes: a process that finds PYCONC_TRACE set and no PYCONC_TRACE_ROOT in its environment
// is the root; it exports PYCONC_TRACE_ROOT=<its pid> so that the processes it starts (pool
// workers by any start method, subprocesses built with pyconc) know they are children. A child
// writes its events to `<file>.<root pid>.<pid>.part` when it flushes (its exit, or a worker's
// exit path); the root merges and deletes those parts when it writes `<file>`. MPI ranks: rank 0
// is the root and the other ranks write `<file>.mpi.<pid>.part` (the MPI layer flushes every
// rank before rank 0's last flush).
//
// Cost: tracing off, each trace point is one predictable branch on a const bool read once at
// start-up (tracing()). On, an event is appended to the calling thread's own buffer: no lock,
// no contention; a registry collects the buffers at flush.
// Thread safety: every function may be called from any thread, concurrently; a flush running
// while threads still record writes what was published so far.
#pragma once

#include <time.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace pyconc::detail {

extern const bool trace_enabled;

// Whether PYCONC_TRACE was set at start-up. Constant for the life of the process.
inline bool tracing() noexcept {
  return trace_enabled;
}

// CLOCK_MONOTONIC in ns: the trace's one clock (system-wide on one machine).
inline std::int64_t trace_now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// An event's arguments: up to three integers with static keys and one string. By convention an
// integer key ending in `_ns` is a duration; `queued_ns` is the time a task waited before it
// started (the viewer's queue-wait percentiles use it).
struct TraceArgs {
  const char* k1 = nullptr;
  std::int64_t v1 = 0;
  const char* k2 = nullptr;
  std::int64_t v2 = 0;
  const char* k3 = nullptr;
  std::int64_t v3 = 0;
  const char* skey = nullptr;
  std::string sval;
};

// The lane an event is drawn in: the recording thread's, or a virtual lane of this process
// (named with trace_lane_name), e.g. the pool's view of one worker process.
inline constexpr int kTraceThisThread = -1;

// A span [start_ns, end_ns] named `name` in category `cat` (a string literal).
void trace_complete(const char* cat, std::string_view name, std::int64_t start_ns,
                    std::int64_t end_ns, TraceArgs args = {}, int lane = kTraceThisThread) noexcept;
// A span that may overlap others of its thread (an HTTP request, a crawled page: many are in
// flight on one event loop): written as an async pair ("b"/"e" with an id), which Perfetto
// draws on its own track instead of nesting it in the thread's spans.
void trace_async_span(const char* cat, std::string_view name, std::int64_t start_ns,
                      std::int64_t end_ns, TraceArgs args = {}) noexcept;
// A point in time.
void trace_instant(const char* cat, std::string_view name, TraceArgs args = {}) noexcept;
// A counter's new value (drawn as a graph by Perfetto).
void trace_counter(std::string_view name, std::int64_t value) noexcept;
// Names the calling thread's lane ("ThreadPoolExecutor-0_1", "asyncio loop"...).
void trace_thread_name(std::string_view name) noexcept;
// Names a virtual lane of this process.
void trace_lane_name(int lane, std::string_view name) noexcept;
// Names this process ("main", "ProcessPoolExecutor worker", "rank 3").
void trace_process_name(std::string_view name) noexcept;

// Writes what was recorded so far: the root writes the trace file (merging its children's
// parts), a child its part. Also done at exit. Safe to call repeatedly; never throws.
void trace_flush() noexcept;

// Whether this process writes the trace file (false in a child or a rank other than 0).
bool trace_is_root() noexcept;

// The executors' task event (kept for the thread pool's hot path): a task of `executor` run by
// worker `worker`, with its submit, start and end instants.
void trace_task(const char* executor, int worker, std::int64_t submit_ns, std::int64_t start_ns,
                std::int64_t end_ns) noexcept;

// A span from construction to destruction, recorded only when tracing. Set its arguments
// through args() before it ends.
class TraceSpan {
 public:
  // async: recorded with trace_async_span (spans of one thread that overlap).
  TraceSpan(const char* cat, std::string_view name, bool async = false) : cat_(cat), async_(async) {
    if (tracing()) [[unlikely]] {
      name_.assign(name);
      start_ns_ = trace_now_ns();
    }
  }
  TraceSpan(const TraceSpan&) = delete;
  TraceSpan& operator=(const TraceSpan&) = delete;
  ~TraceSpan() {
    if (start_ns_ != 0) [[unlikely]] {
      if (async_) {
        trace_async_span(cat_, name_, start_ns_, trace_now_ns(), std::move(args_));
      } else {
        trace_complete(cat_, name_, start_ns_, trace_now_ns(), std::move(args_));
      }
    }
  }
  TraceArgs& args() noexcept { return args_; }

 private:
  const char* cat_;
  bool async_;
  std::string name_;
  std::int64_t start_ns_ = 0;
  TraceArgs args_;
};

}  // namespace pyconc::detail
