// tools/pyconc/python_side.hpp -- runs the embedded Python scripts (python/compare_cpu.py,
// python/compare_io.py) with a python3 interpreter and reads back their results.
//
// A script is compiled into the binary (embed.cmake), written to a temporary file for the
// run and removed afterwards, so an installed `pyconc` needs no file beside it. Its output is
// one tab-separated record per line (see the script's docstring); it is read as it arrives
// so the caller can show progress.
//
// Thread safety: none needed -- called from the main thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pyconc::tool {

// `name_or_path` if it contains '/', else its first executable match on $PATH, as a shell
// would find it. nullopt when there is none.
std::optional<std::string> find_program(std::string_view name_or_path);

struct PythonPlan {
  std::uint64_t prime = 0;  // workload A: is_prime(prime) × prime_tasks
  std::size_t prime_tasks = 0;
  std::uint64_t sum_base = 0;  // workload B: cpu_bound(sum_base + x) for x < sum_tasks
  std::size_t sum_tasks = 0;
  int workers = 1;  // processes of the process pools
  std::chrono::seconds timeout{120};
};

struct PythonModel {
  char workload = 'A';
  std::string key;  // model row key (models.hpp)
  double seconds = 0;
  int runs = 0;
  std::string checksum;  // decimal, sum(int(r) for r in results)
};

struct PythonValue {
  char workload = 'A';
  std::size_t index = 0;
  std::string value;  // decimal, int(result)
};

// A model the script did not run, and why ("no aiohttp in /usr/bin/python3").
struct PythonSkip {
  char workload = 'C';
  std::string key;
  std::string reason;
};

struct PythonRun {
  std::string version;  // "3.11.7"
  std::string implementation;
  std::vector<PythonModel> models;
  std::vector<PythonValue> values;
  std::vector<std::string> model_errors;  // "A process_pool: BrokenProcessPool: ..."
  std::vector<PythonSkip> skipped;
  std::string aiohttp_version;  // "3.8.4" when the script could import aiohttp
  // Why the run failed or stopped early (cannot start, exit status, timeout, stderr tail);
  // empty when it completed. What was read before a failure is kept.
  std::string failure;
};

// Runs compare_cpu.py with `python` (a path). on_record(line) is called for each result line
// (for progress display).
PythonRun run_python_script(const std::string& python, const PythonPlan& plan,
                            const std::function<void(std::string_view)>& on_record);

// The I/O-bound experiment (compare_io.py): download base_url + "/list/1.." + pages.
struct PythonIoPlan {
  std::string base_url;  // "http://127.0.0.1:PORT"
  std::size_t pages = 0;
  int workers = 1;     // processes of the process pool
  std::string models;  // comma-separated row keys; empty: all
  std::chrono::seconds request_timeout{30};
  std::chrono::seconds timeout{120};  // the whole run
};

// Runs compare_io.py with `python`; its model records have workload 'C'.
PythonRun run_python_io_script(const std::string& python, const PythonIoPlan& plan,
                               const std::function<void(std::string_view)>& on_record);

}  // namespace pyconc::tool
