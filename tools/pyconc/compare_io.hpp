// tools/pyconc/compare_io.hpp -- the I/O-bound half of `pyconc compare`: the seeds' download
// experiment (crawl 50 cnblogs list pages: serial, threads, a thread pool, processes,
// asyncio), against the demo blog served by this process (pyconc::detail::DemoSiteServer), in C++
// and Python.
//
// Every C++ model's page lengths are checked against the demo site's pages computed directly
// (pyconc::detail::demo_site_page), and Python's sum of lengths against the same total. The
// Python script runs with the chosen interpreter; when it has no aiohttp, the asyncio row is
// taken from /usr/bin/python3 if that one has it (Debian's python3-aiohttp), and the report
// says so.
//
// Thread safety: none needed -- called from the main thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "report.hpp"

namespace pyconc::tool {

struct IoPlan {
  std::size_t pages = 20;                    // /list/1 .. /list/pages (the demo blog has 50)
  std::chrono::milliseconds delay{20};       // the server's wait before each answer
  int workers = 1;                           // processes of the process pool
  std::optional<std::string> python;         // interpreter path; nullopt: C++ only
  std::chrono::seconds python_timeout{120};  // the whole Python run
  bool verbose = false;                      // list every page's length
};

struct IoOutcome {
  ReportSection section;
  std::vector<std::pair<std::string, std::string>> facts;  // "server", "I/O sizes", ...
  std::vector<std::string> notes;
  std::vector<std::string> errors;    // wrong results, failed C++ downloads: exit status 1
  std::vector<std::string> warnings;  // the Python side failed, a model was skipped
};

// Starts the demo server, runs every C++ download model and then the Python script, stops
// the server. `progress` shows what runs.
IoOutcome run_io_experiment(const IoPlan& plan, Progress& progress);

}  // namespace pyconc::tool
