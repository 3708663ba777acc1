// tools/pyconc/compare.cpp -- `pyconc compare`: run, verify, cross-check, report.
//
// Order of events: self-check of the arithmetic; every C++ model on every CPU-bound workload
// (each result verified against an independent function); the Python script (scaled-down
// inputs unless --python-full), its values cross-checked against C++'s; the I/O-bound half
// (compare_io.cpp: its own server, C++ models, Python script); then the report, on stdout and
// with --report as HTML (one section per workload: cpu_section.cpp). Nothing runs concurrently
// with a measurement: C++ and Python never compete for the CPUs. The CPU-bound half runs before
// the demo server's thread exists, so its Process-per-task model forks a single-threaded
// process. The command line is in compare_cli.cpp.
#include "compare.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "compare_io.hpp"
#include "cpu_section.hpp"
#include "html_report.hpp"
#include "machine.hpp"
#include "models.hpp"
#include "pyconc/detail/cpu.hpp"
#include "pyconc/futures/thread_pool_executor.hpp"
#include "python_side.hpp"
#include "report.hpp"
#include "timeline.hpp"
#include "timing.hpp"
#include "trace_cli.hpp"
#include "workloads.hpp"

namespace pyconc::tool {

std::string traced_run_timeline(const std::string& report_path, std::vector<std::string>& errors);

namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kSeedPrime = 112272535095293ULL;  // the seeds' PRIMES entry

struct Sizes {
  std::size_t prime_tasks;  // A: is_prime(kSeedPrime) × prime_tasks
  std::uint64_t sum_base;   // B: sum(i*i for i in range(sum_base + x)) for x < sum_tasks
  std::size_t sum_tasks;
  std::size_t py_prime_tasks;  // Python runs the first py_*_tasks of the same tasks
  std::size_t py_sum_tasks;
  std::chrono::seconds py_timeout;
};

// The seeds' sizes, or --quick's. Python is 10-200× slower than C++ at this arithmetic, so it
// runs a prefix of the task list and its time is scaled up linearly (the tasks are
// independent and of equal cost); the report marks such figures as estimates.
Sizes sizes_for(const CompareOptions& o) {
  Sizes s =
      o.quick ? Sizes{20, 1'000'000, 20, 4, 20, 300s} : Sizes{100, 10'000'000, 20, 10, 4, 900s};
  if (o.python_full) {
    s.py_prime_tasks = s.prime_tasks;
    s.py_sum_tasks = s.sum_tasks;
    s.py_timeout = 7200s;
  }
  return s;
}

const char* compiler_name() {
#if defined(__clang__)
  return "clang++ " __clang_version__;
#elif defined(__GNUC__)
  return "g++ " __VERSION__;
#else
  return "a C++20 compiler";
#endif
}

constexpr bool kOptimised =
#if defined(__OPTIMIZE__)
    true;
#else
    false;
#endif

std::string with_underscores(std::uint64_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
    digits.insert(static_cast<std::size_t>(i), "_");
  }
  return digits;
}

// "2026-11-25 13:45 UTC"
std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

// "others used 3% of the 2 CPUs", with a caution when that is enough to skew speed-ups.
std::string other_load_text(std::optional<double> load, int cpus) {
  if (!load) return "unknown (/proc/stat unreadable)";
  char pct[16];
  std::snprintf(pct, sizeof pct, "%.0f%%", *load * 100);
  std::string s = "other processes took " + std::string(pct) + " of the " + std::to_string(cpus) +
                  (cpus == 1 ? " CPU" : " CPUs");
  if (*load >= 0.15) s += " (shared machine: times and speed-ups are off; rerun when idle)";
  return s;
}

}  // namespace

int run_compare(const CompareOptions& options) {
  std::ostream& out = std::cout;
  auto warn = [](const std::string& what) {
    std::cerr << "pyconc compare: warning: " << what << "\n";
  };
  std::vector<std::string> errors;  // wrong results, failures: exit status 1

  if (const std::string bad = self_check(); !bad.empty()) {
    std::cerr << "pyconc compare: error: arithmetic self-check failed: " << bad << "\n";
    return 1;
  }

  const Sizes sizes = sizes_for(options);
  // N follows pyconc's own pool sizing (the affinity mask, capped by a cgroup CPU quota), so
  // the "threads (N workers)" model uses what the library's pools would. (A detail call: the
  // public API has no cpu_count() yet; ThreadPoolExecutor::default_max_workers() is
  // min(32, cpu_count() + 4), not the count itself.)
  const int affinity = available_cpu_count();
  const int cpus = pyconc::detail::process_cpu_count();
  const ModelOptions model_options{.workers = options.threads > 0 ? options.threads : cpus};

  std::vector<WorkloadRun> runs;
  runs.emplace_back(Workload::primes(kSeedPrime, sizes.prime_tasks), sizes.py_prime_tasks);
  runs.emplace_back(Workload::sums(sizes.sum_base, sizes.sum_tasks), sizes.py_sum_tasks);

  Progress progress;
  OtherLoad load;
  load.start();
  for (WorkloadRun& w : runs) {
    Workload& wl = w.workload;
    for (const CppModel& model : cpp_models()) {
      progress.show("C++     " + std::string(1, wl.id) + "  " +
                    model_label(model.key, model_options.workers) + " …");
      const Timing t = measure([&] {
        wl.reset();
        model.run(Tasks{.fn = wl.function(), .inputs = wl.inputs, .results = wl.results},
                  model_options);
      });
      w.cpp.push_back({std::string(model.key), t});
      if (const std::string bad = wl.verify(); !bad.empty()) {
        errors.push_back("wrong result: C++ " + std::string(1, wl.id) + " " +
                         model_label(model.key, model_options.workers) + ": " + bad);
      }
    }
  }

  const std::optional<double> cpp_load = load.stop();

  // The Python side.
  std::string python_status;
  std::optional<double> python_load;
  const std::optional<std::string> python =
      options.no_python ? std::nullopt : find_program(options.python);
  if (options.no_python) {
    python_status = "skipped (--no-python)";
  } else if (!python) {
    python_status = "not found (" + options.python + ")";
    warn(options.python + " not found" +
         (options.python.find('/') == std::string::npos ? " on $PATH" : "") +
         "; Python columns skipped (--python PATH to choose an interpreter)");
  } else {
    const PythonPlan plan{.prime = kSeedPrime,
                          .prime_tasks = sizes.py_prime_tasks,
                          .sum_base = sizes.sum_base,
                          .sum_tasks = sizes.py_sum_tasks,
                          .workers = model_options.workers,
                          .timeout = sizes.py_timeout};
    progress.show("Python  starting " + *python + " …");
    load.start();
    const PythonRun py = run_python_script(*python, plan, [&](std::string_view record) {
      // "model<TAB>A<TAB>key<TAB>..." -> "Python  A  <label> done"
      if (!record.starts_with("model\t") || record.size() < 9) return;
      const std::string_view key = record.substr(8, record.find('\t', 8) - 8);
      progress.show("Python  " + std::string(record.substr(6, 1)) + "  " +
                    model_label(key, model_options.workers) + " done …");
    });
    python_load = load.stop();
    python_status =
        *python + (py.version.empty() ? "" : " — " + py.implementation + " " + py.version);
    if (!py.failure.empty()) {
      warn("the Python side failed: " + py.failure +
           (py.models.empty() ? "" : " (the models it finished are shown)"));
      python_status += " — failed, see warning";
    }
    for (const std::string& e : py.model_errors) warn("Python model failed: " + e);

    for (WorkloadRun& w : runs) {
      const Workload& wl = w.workload;
      const std::string id(1, wl.id);
      const std::string expected = to_decimal(wl.checksum(w.python_tasks));
      for (const PythonModel& m : py.models) {
        if (m.workload != wl.id) continue;
        w.python.push_back(m);
        if (m.checksum != expected) {
          errors.push_back("wrong result: Python " + id + " " +
                           model_label(m.key, model_options.workers) + ": sum of results " +
                           m.checksum + ", C++'s " + expected);
        }
      }
      for (const PythonValue& v : py.values) {
        if (v.workload != wl.id) continue;
        if (v.index >= wl.size() || v.value != to_decimal(wl.results[v.index])) {
          ++w.python_values_wrong;
          errors.push_back("wrong result: Python " + id + " task " + std::to_string(v.index) +
                           " = " + v.value +
                           (v.index < wl.size() ? ", C++ = " + to_decimal(wl.results[v.index])
                                                : " (no such task)"));
        } else {
          ++w.python_values_checked;
        }
      }
    }
  }
  // The I/O-bound half.
  std::optional<IoOutcome> io;
  if (!options.no_io) {
    const IoPlan io_plan{.pages = static_cast<std::size_t>(
                             options.pages > 0 ? options.pages : (options.quick ? 20 : 50)),
                         .delay = std::chrono::milliseconds(
                             options.delay_ms >= 0 ? options.delay_ms : (options.quick ? 20 : 100)),
                         .workers = model_options.workers,
                         .python = python,
                         .python_timeout = options.quick ? 120s : 600s,
                         .verbose = options.verbose};
    try {
      io = run_io_experiment(io_plan, progress);
      for (const std::string& w : io->warnings) warn(w);
      errors.insert(errors.end(), io->errors.begin(), io->errors.end());
    } catch (const std::exception& e) {  // the server could not start: the CPU tables stand
      errors.push_back(std::string("the I/O-bound half could not run: ") + e.what());
    }
  }
  progress.clear();

  // The report: the facts, one section per workload, the notes.
  HtmlReport report;
  report.title = "pyconc compare — the seeds' experiments, C++ (pyconc, no GIL) beside Python";
  const std::string capped =
      affinity != cpus ? ": " + std::to_string(affinity) + ", capped by the cgroup CPU quota" : "";
  report.facts.emplace_back(
      "CPUs", std::to_string(cpus) + " usable by this process (sched_getaffinity" + capped +
                  "); threads model: " + std::to_string(model_options.workers) +
                  " workers; ThreadPoolExecutor(): " +
                  std::to_string(futures::ThreadPoolExecutor::default_max_workers()) +
                  " workers, min(32, CPUs + 4)");
  report.facts.emplace_back("C++", std::string(compiler_name()) +
                                       (kOptimised ? ", optimised" : ", NOT optimised") +
                                       "; while it ran: " + other_load_text(cpp_load, affinity));
  report.facts.emplace_back(
      "Python",
      python_status + (python_load ? "; while it ran: " + other_load_text(python_load, affinity)
                                   : std::string()));
  report.facts.emplace_back(
      "sizes", std::string(options.quick ? "--quick: " : "the seeds': ") + "is_prime × " +
                   std::to_string(sizes.prime_tasks) + ", range(" +
                   with_underscores(sizes.sum_base) + " + x) × " + std::to_string(sizes.sum_tasks) +
                   (options.quick ? "; without --quick: the seeds' sizes" : ""));
  if (io) report.facts.insert(report.facts.end(), io->facts.begin(), io->facts.end());
  for (const WorkloadRun& w : runs) {
    report.sections.push_back(cpu_section(w, model_options.workers, cpus, options.verbose));
  }
  if (io) report.sections.push_back(std::move(io->section));

  report.notes = {
      "speed-up = serial time ÷ the model's time, in the same language. C++ faster = Python's "
      "time ÷ C++'s, same model. —: no such model in that language (yet).",
      "each time is one run, or the best of up to " + std::to_string(kMaxRuns) +
          " runs when runs are shorter than 0.25 s (both languages); creating the threads and "
          "pools is timed, as in the seeds.",
      "C++ runs the seeds' algorithms literally: trial division by odd numbers up to ⌊√n⌋; "
      "one 128-bit multiply-add per i (the optimiser is kept from using the closed form)."};
  if (io) report.notes.insert(report.notes.end(), io->notes.begin(), io->notes.end());
  if (!kOptimised) {
    report.notes.push_back(
        "this binary was built without optimisation: its C++ times are not "
        "representative (build RelWithDebInfo or Release).");
  }

  out << report.title << "\n";
  const std::string value_indent(14, ' ');
  for (const auto& [key, value] : report.facts) {
    std::string first = "   " + key;
    first.resize(std::max(first.size() + 1, value_indent.size()), ' ');
    out << wrap(value, first, value_indent);
  }
  out << "\n";
  for (const ReportSection& section : report.sections) print_section(out, section);
  out << "notes\n";
  for (const std::string& note : report.notes) out << wrap("· " + note, "   ");

  if (!options.report.empty()) {
    report.generated = "pyconc compare" + std::string(options.quick ? " --quick" : "") +
                       (options.no_python ? " --no-python" : "") + ", " + utc_now();
    if (!is_traced_child()) report.appendix_html = traced_run_timeline(options.report, errors);
    if (const std::string bad = write_html(options.report, report); bad.empty()) {
      out << "\nreport: " << options.report << "\n";
    } else {
      errors.push_back("cannot write the report: " + bad);
    }
  }
  out << std::flush;

  for (const std::string& e : errors) std::cerr << "pyconc compare: error: " << e << "\n";
  return errors.empty() ? 0 : 1;
}

// The report's timeline: one small traced run of the CPU half (--quick, C++ only) in a child
// process, its trace beside the report (`<report>.trace.json`, for Perfetto) and embedded in it
// (at most 20,000 events: the shortest are left out).
std::string traced_run_timeline(const std::string& report_path, std::vector<std::string>& errors) {
  const std::string json = trace_json_path(report_path + ".trace.html");
  const std::vector<std::string> args{"compare", "--quick", "--no-python", "--no-io"};
  try {
    const int rc = run_traced_child(args, json, /*quiet=*/true);
    if (rc != 0) {
      errors.push_back("the traced run for the report's timeline failed (exit " +
                       std::to_string(rc) + ")");
      return {};
    }
    std::ifstream in(json, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const Timeline t = build_timeline(text.str(), 20000);
    return render_timeline_fragment(
        t, "Timeline of one traced run: pyconc compare --quick --no-python --no-io");
  } catch (const std::exception& e) {
    errors.push_back(std::string("the report's timeline: ") + e.what());
    return {};
  }
}

}  // namespace pyconc::tool
