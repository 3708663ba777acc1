// tools/pyconc/trace_cli.hpp -- `pyconc trace view trace.json -o trace.html`, and running this
// tool again with PYCONC_TRACE set (tracing is decided at start-up, so `crawl --trace` and
// `compare --report` record their timeline in a child run of the tool).
//
// Thread safety: call from the main thread (remember_command_line before any thread starts).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "timeline.hpp"

namespace pyconc::tool {

void register_trace(CLI::App& app, std::function<int()>& command);

// main() hands its argv over: traced re-runs repeat the command line.
void remember_command_line(int argc, char** argv);
const std::vector<std::string>& command_line();

// Whether this process is the traced child run of a `--trace` / `--report` parent.
bool is_traced_child();

// Runs this tool again with `args` (argv[1...]) and PYCONC_TRACE=`json_path`; returns its exit
// status (128 + signal if it was killed). Throws OSError if it cannot start.
// quiet: its stdout goes to /dev/null (its stderr stays ours).
int run_traced_child(const std::vector<std::string>& args, const std::string& json_path,
                     bool quiet = false);

// `out.html` -> `out.json` (else `<path>.json`): where a traced child run writes its trace.
std::string trace_json_path(const std::string& html_path);

// Writes the page of the trace in `json_path` to `html_path` and says so on stdout. Returns
// `status` (the traced run's), or 1 if the page cannot be written after a successful run.
int write_run_timeline(const std::string& json_path, const std::string& html_path,
                       const std::string& title, int status);

}  // namespace pyconc::tool
