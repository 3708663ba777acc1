// tools/pyconc/compare.hpp -- `pyconc compare`: the seeds' CPU-bound experiments, timed under
// each execution model in C++ (pyconc) and, side by side, in Python.
//
//   pyconc compare [--quick] [--threads N] [--no-python] [--python PATH] [--python-full] [-v]
//
// Exit status: 0 when every result is right; 1 when a C++ result is wrong, or Python's
// results differ from C++'s (a timing is never a failure); 2 for a usage error (main.cpp).
// A missing or failing Python is a warning: the C++ table is printed regardless.
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
};

// Runs the comparison and prints the report on stdout. Returns the exit status.
int run_compare(const CompareOptions& options);

// Adds the `compare` subcommand to `app`. When the command line selects it, `command` is set
// to the function that runs it (main() calls it after parsing).
void register_compare(CLI::App& app, std::function<int()>& command);

}  // namespace pyconc::tool
