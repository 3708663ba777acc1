// tools/pyconc/compare_cli.cpp -- the `compare` subcommand's command line (CLI11): its
// options, their help, and the call of run_compare().
#include <CLI/CLI.hpp>
#include <functional>
#include <memory>

#include "compare.hpp"

namespace pyconc::tool {

void register_compare(CLI::App& app, std::function<int()>& command) {
  auto options = std::make_shared<CompareOptions>();
  CLI::App* sub = app.add_subcommand(
      "compare",
      "The seeds' CPU-bound experiments (is_prime × 100; sum of squares × 20) and their "
      "I/O-bound one (downloading 50 pages from a delayed server started in-process), timed "
      "under each model in C++ and in Python, one table per workload");
  sub->add_option("--report", options->report,
                  "Also write the report as one self-contained HTML file (tables and SVG charts)")
      ->type_name("out.html");
  sub->add_flag("--quick", options->quick,
                "Small inputs (is_prime × 20, range(1_000_000 + x), 20 pages × 20 ms): done in "
                "seconds");
  sub->add_option("--threads", options->threads,
                  "Workers of the 'threads (N workers)' model, and processes of Python's "
                  "process pools (default: the CPU count)")
      ->check(CLI::Range(1, 4096));
  CLI::Option* no_python =
      sub->add_flag("--no-python", options->no_python, "Run the C++ side only");
  sub->add_option("--python", options->python,
                  "Python interpreter: a path, or a name looked up on $PATH")
      ->default_str("python3")
      ->excludes(no_python);
  sub->add_flag("--python-full", options->python_full,
                "Run Python at the full sizes too instead of a scaled-down prefix (slow)")
      ->excludes(no_python);
  CLI::Option* no_io =
      sub->add_flag("--no-io", options->no_io, "Skip the I/O-bound half (the downloads)");
  sub->add_option("--pages", options->pages,
                  "Pages the I/O half downloads, /list/1..N of the demo blog (default: 50; "
                  "--quick: 20)")
      ->check(CLI::Range(1, 50))
      ->excludes(no_io);
  sub->add_option("--delay", options->delay_ms,
                  "Milliseconds the demo server waits before each answer (default: 100; "
                  "--quick: 20)")
      ->check(CLI::Range(0, 10000))
      ->excludes(no_io);
  sub->add_flag("-v,--verbose", options->verbose, "Print every result value");
  sub->callback([options, &command] { command = [options] { return run_compare(*options); }; });
}

}  // namespace pyconc::tool
