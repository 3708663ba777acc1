// tools/pyconc/timeline.hpp -- a trace (Chrome trace-event JSON, as PYCONC_TRACE writes it) as a
// timeline: lanes per process and thread, each span's row, and the summary of `pyconc trace view`
// (utilisation per lane, queue wait percentiles, the longest spans); rendered as one
// self-contained HTML page or as a fragment embedded in another page (crawl --trace, compare
// --report).
//
// The page draws on a <canvas> with inline JavaScript (timeline.js, compiled into the binary):
// a lane per thread/worker/process/rank, wheel to zoom, drag to pan, hover for details; only
// the events in view are drawn, so 100k events stay interactive. No network asset.
// Accepted input: {"traceEvents": [...]} or a bare array; phases X (spans), B/E (paired per
// thread), b/e (async spans, paired by id), i/I (instants), M (process/thread names); others
// are counted and skipped.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace pyconc::tool {

struct TimelineLane {
  int pid = 0;
  int tid = 0;
  std::string name;  // "process name / thread name"
  int rows = 1;
  double busy_us = 0;  // union of its top-level spans
  std::size_t spans = 0;
};

struct TimelineSpan {
  std::size_t lane = 0;
  int row = 0;
  double ts_us = 0;   // absolute, as in the file
  double dur_us = 0;  // < 0: an instant
  std::string name;
  std::string cat;
  std::string args;  // the args object as JSON, "" if none
  bool async = false;
  double queued_ns = -1;  // args.queued_ns when present
};

struct QueueWait {
  std::string cat;
  std::size_t count = 0;
  double p50_us = 0, p99_us = 0, max_us = 0;
};

struct Timeline {
  std::vector<TimelineLane> lanes;
  std::vector<TimelineSpan> spans;  // every span and instant, in file order
  double start_us = 0, end_us = 0;
  std::size_t skipped = 0;  // events of other phases (counters, flows...)
  std::size_t dropped = 0;  // spans left out by max_events
  std::vector<QueueWait> queue_waits;
  std::vector<std::size_t> longest;  // indices into spans, longest first (at most 10)
};

// Parses `json_text`; ValueError saying what is wrong if it is not a trace. max_events > 0
// keeps only the longest spans beyond that many (a small embedded timeline).
Timeline build_timeline(const std::string& json_text, std::size_t max_events = 0);

// The timeline as an HTML fragment (section, style, canvas, summary tables, data, script).
std::string render_timeline_fragment(const Timeline& t, const std::string& title);
// A whole page around the fragment.
std::string render_timeline_page(const Timeline& t, const std::string& title);

// Reads `in`, writes the page to `out`. Throws OSError/ValueError with the path and the reason.
Timeline write_timeline_page(const std::string& in, const std::string& out,
                             const std::string& title);

}  // namespace pyconc::tool
