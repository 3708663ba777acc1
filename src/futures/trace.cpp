#include "pyconc/futures/detail/trace.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

namespace pyconc::detail {
namespace {

const char* trace_path() {
  const char* p = std::getenv("PYCONC_TRACE");
  return (p != nullptr && *p != '\0') ? p : nullptr;
}

struct Event {
  const char* executor;
  int worker;
  std::int64_t submit_ns, start_ns, end_ns;
};

struct Sink {
  std::mutex mu;
  std::vector<Event> events;
  bool dirty = false;
  ~Sink() { flush(); }

  void flush() noexcept {
    std::lock_guard g(mu);
    if (!dirty) return;
    const char* path = trace_path();
    std::FILE* f = path != nullptr ? std::fopen(path, "w") : nullptr;
    if (f == nullptr) {
      std::fprintf(stderr, "pyconc: cannot write trace file %s\n", path ? path : "(none)");
      return;
    }
    const int pid = static_cast<int>(::getpid());
    std::fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", f);
    bool first = true;
    for (const Event& e : events) {
      // Complete events ("X") in microseconds, one track per worker; the queueing delay
      // (start - submit) is attached as an argument.
      std::fprintf(f,
                   "%s{\"name\":\"task\",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":%d,\"tid\":%d,"
                   "\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"submit_us\":%.3f,\"queued_us\":%.3f}}",
                   first ? "" : ",\n", e.executor, pid, e.worker, e.start_ns / 1000.0,
                   (e.end_ns - e.start_ns) / 1000.0, e.submit_ns / 1000.0,
                   (e.start_ns - e.submit_ns) / 1000.0);
      first = false;
    }
    std::fputs("\n]}\n", f);
    std::fclose(f);
    dirty = false;
  }
};

Sink& sink() {
  static Sink s;  // destroyed at exit: writes the file
  return s;
}

}  // namespace

extern const bool trace_enabled = trace_path() != nullptr;

void trace_task(const char* executor, int worker, std::int64_t submit_ns, std::int64_t start_ns,
                std::int64_t end_ns) noexcept {
  try {
    Sink& s = sink();
    std::lock_guard g(s.mu);
    s.events.push_back(Event{executor, worker, submit_ns, start_ns, end_ns});
    s.dirty = true;
  } catch (...) {  // out of memory: drop the event rather than the task
  }
}

void trace_flush() noexcept {
  if (tracing()) sink().flush();
}

}  // namespace pyconc::detail
