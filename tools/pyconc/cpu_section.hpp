// tools/pyconc/cpu_section.hpp -- `pyconc compare`'s CPU-bound results: one workload's C++
// and Python timings (WorkloadRun), and how they read as a report section -- the table of
// models, the results, and what threads did in each language.
//
// Thread safety: none needed -- used from the main thread only.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "python_side.hpp"
#include "report.hpp"
#include "timing.hpp"
#include "workloads.hpp"

namespace pyconc::tool {

struct CppResult {
  std::string key;
  Timing timing;
};

struct WorkloadRun {
  WorkloadRun(Workload w, std::size_t py_tasks) : workload(std::move(w)), python_tasks(py_tasks) {}

  Workload workload;
  std::vector<CppResult> cpp;
  std::size_t python_tasks = 0;
  std::vector<PythonModel> python;        // this workload's Python models
  std::size_t python_values_checked = 0;  // Python values equal to C++'s
  std::size_t python_values_wrong = 0;    // ... and different from C++'s
};

// Workload `w` as a report section: the table of models, what the results were, and what
// threads did in each language.
ReportSection cpu_section(const WorkloadRun& w, int workers, int cpus, bool verbose);

}  // namespace pyconc::tool
