// tools/pyconc/compare.hpp -- `pyconc compare`: the seeds' CPU-bound experiments and their
// I/O-bound one (downloading pages from a delayed server), timed under each execution model in
// C++ (pyconc) and, side by side, in Python.
//
//   pyconc compare [--report out.html] [--quick] [--threads N] [--no-python] [--python PATH]
//                  [--python-full] [--no-io] [--pages N] [--delay MS] [-v]
//
// Exit status: 0 when every result is right; 1 when a C++ result is wrong or a C++ download
// failed, Python's results differ from C++'s (a timing is never a failure), or the report
// could not be written; 2 for a usage error (main.cpp). A missing or failing Python is a
// warning: the C++ tables are printed regardless.
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace pyconc::tool {

struct CompareOptions {
  bool quick = false;              // small inputs (`make demo`), instead of the seeds' sizes
  int threads = 0;                 // workers of the "threads (N workers)" model; 0 = CPU count
  bool no_python = false;          // skip the Python side
  std::string python = "python3";  // interpreter: a path, or a name looked up on $PATH
  bool python_full = false;        // run Python at the same sizes as C++ (slow), not scaled down
  bool verbose = false;            // print every result value
  std::string report;              // --report: write the HTML report there ("" = none)
  bool no_io = false;              // skip the I/O-bound half
  int pages = 0;                   // pages to download; 0 = 20 with --quick, else 50
  int delay_ms = -1;               // server delay per answer; -1 = 20 with --quick, else 100
};

// Runs the comparison and prints the report on stdout. Returns the exit status.
int run_compare(const CompareOptions& options);

// Adds the `compare` subcommand to `app`. When the command line selects it, `command` is set
// to the function that runs it (main() calls it after parsing).
void register_compare(CLI::App& app, std::function<int()>& command);

}  // namespace pyconc::tool
