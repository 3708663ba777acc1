// tools/pyconc/cpu_section.cpp -- one CPU-bound workload's timings as a report section.
#include "cpu_section.hpp"

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models.hpp"

namespace pyconc::tool {

namespace {

const CppResult* find_cpp(const WorkloadRun& w, std::string_view key) {
  for (const auto& r : w.cpp) {
    if (r.key == key) return &r;
  }
  return nullptr;
}

const PythonModel* find_python(const WorkloadRun& w, std::string_view key) {
  for (const auto& m : w.python) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

// Row keys to print for `w`: known rows in display order, then any unknown Python keys.
std::vector<std::string> row_keys(const WorkloadRun& w) {
  std::vector<std::string> keys;
  for (const ModelRow& row : model_rows()) {
    if (find_cpp(w, row.key) != nullptr || find_python(w, row.key) != nullptr) {
      keys.emplace_back(row.key);
    }
  }
  for (const auto& m : w.python) {
    if (std::find(keys.begin(), keys.end(), m.key) == keys.end()) keys.push_back(m.key);
  }
  return keys;
}

std::string describe_results(const Workload& w) {
  const std::size_t n = w.size();
  if (n == 0) return "no tasks";
  if (w.kind == Workload::Kind::is_prime) {
    const std::size_t primes = static_cast<std::size_t>(w.checksum(n));
    std::string s = std::to_string(n) + " × is_prime → ";
    if (primes == n) return s + "True, each confirmed by a Miller–Rabin test";
    return s + std::to_string(primes) + " True, " + std::to_string(n - primes) +
           " False, each confirmed by a Miller–Rabin test";
  }
  std::string s =
      "range(" + std::to_string(w.inputs.front()) + ") → " + to_decimal(w.results.front());
  if (n > 1) {
    s += " … range(" + std::to_string(w.inputs.back()) + ") → " + to_decimal(w.results.back());
  }
  return s + "; all " + std::to_string(n) + " equal n(n−1)(2n−1)/6";
}

// "×5", "×2.5": a scale factor without needless decimals.
std::string format_scale(double scale) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "×%g", scale);
  return buf;
}

// One sentence on what threads did in each language: the seeds' lesson, and its C++ opposite.
// "threads, speed-up on 2 CPUs: C++ Thread per task 1.97×, ThreadPoolExecutor 1.95× (no GIL);
// Python's Thread per task 1.00×, ThreadPoolExecutor 0.99× (the GIL ...; its processes: 1.90×)."
std::string threads_lesson(const WorkloadRun& w, int cpus) {
  struct Threaded {
    const char* key;
    const char* name;
  };
  constexpr Threaded kThreaded[] = {{"thread_per_task", "Thread per task"},
                                    {"thread_pool", "ThreadPoolExecutor"}};
  const CppResult* cs = find_cpp(w, "serial");
  const PythonModel* ps = find_python(w, "serial");
  if (cs == nullptr) return {};
  std::string cpp_part;
  std::string py_part;
  for (const Threaded& t : kThreaded) {
    if (const CppResult* c = find_cpp(w, t.key)) {
      cpp_part += std::string(cpp_part.empty() ? "" : ", ") + t.name + " " +
                  format_factor(cs->timing.seconds / c->timing.seconds);
    }
    if (const PythonModel* p = ps != nullptr ? find_python(w, t.key) : nullptr) {
      py_part += std::string(py_part.empty() ? "" : ", ") + t.name + " " +
                 format_factor(ps->seconds / p->seconds);
    }
  }
  if (cpp_part.empty()) return {};
  std::string s = "threads, speed-up on " + std::to_string(cpus) + (cpus == 1 ? " CPU" : " CPUs") +
                  ": C++ " + cpp_part + " (no GIL)";
  if (!py_part.empty()) {
    s += "; Python's " + py_part + " (the GIL lets one thread run Python code at a time";
    double best_proc = 0;
    for (const char* key : {"process_per_task", "process_pool", "mp_pool"}) {
      if (const PythonModel* pp = find_python(w, key)) {
        best_proc = std::max(best_proc, ps->seconds / pp->seconds);
      }
    }
    if (best_proc > 0) s += "; its processes: " + format_factor(best_proc);
    s += ")";
  }
  return s + ".";
}

// "fastest: C++ <model> <time>; Python <model> <time> → C++ N× faster."
std::string fastest_line(const WorkloadRun& w, double py_scale, int workers) {
  const CppResult* bc = nullptr;
  for (const auto& r : w.cpp) {
    if (bc == nullptr || r.timing.seconds < bc->timing.seconds) bc = &r;
  }
  const PythonModel* bp = nullptr;
  for (const auto& m : w.python) {
    if (bp == nullptr || m.seconds < bp->seconds) bp = &m;
  }
  if (bc == nullptr) return {};
  std::string s =
      "fastest: C++ " + model_label(bc->key, workers) + " " + format_seconds(bc->timing.seconds);
  if (bp == nullptr) return s + ".";
  const bool est = py_scale != 1.0;
  const double py_full = bp->seconds * py_scale;
  return s + "; Python " + model_label(bp->key, workers) + " " + (est ? "~" : "") +
         format_seconds(py_full) + (est ? " (est.)" : "") + " → C++ " + (est ? "~" : "") +
         format_factor(py_full / bc->timing.seconds) + " faster.";
}

}  // namespace

ReportSection cpu_section(const WorkloadRun& w, int workers, int cpus, bool verbose) {
  const Workload& wl = w.workload;
  const std::size_t n = wl.size();
  const bool have_python = !w.python.empty();
  const bool scaled = have_python && w.python_tasks > 0 && w.python_tasks != n;
  const double py_scale =
      scaled ? static_cast<double>(n) / static_cast<double>(w.python_tasks) : 1.0;
  const std::string est = scaled ? "~" : "";

  ReportSection section;
  section.part = "CPU-bound: the seeds' is_prime and sum of squares";
  section.heading = std::string(1, wl.id) + ". " + wl.title;
  if (scaled) {
    section.intro.push_back("Python ran the first " + std::to_string(w.python_tasks) + " of the " +
                            std::to_string(n) + " tasks (it is slow); est. = its time " +
                            format_scale(py_scale) + ", an estimate for all " + std::to_string(n) +
                            " (marked ~).");
  }

  std::vector<Table::Column> cols = {{"model", Table::Align::left}, {"C++"}, {"speed-up"}};
  if (have_python) {
    cols.push_back({scaled ? "Python (" + std::to_string(w.python_tasks) + ")" : "Python"});
    if (scaled) cols.push_back({"est. (" + std::to_string(n) + ")"});
    cols.push_back({"speed-up"});
    cols.push_back({"C++ faster"});
  }
  Table table(std::move(cols));
  const CppResult* cs = find_cpp(w, "serial");
  const PythonModel* ps = find_python(w, "serial");
  const std::string none = "—";
  for (const std::string& key : row_keys(w)) {
    const CppResult* c = find_cpp(w, key);
    const PythonModel* p = find_python(w, key);
    std::vector<std::string> row = {model_label(key, workers)};
    row.push_back(c ? format_seconds(c->timing.seconds) : none);
    row.push_back(c && cs ? format_factor(cs->timing.seconds / c->timing.seconds) : none);
    if (have_python) {
      row.push_back(p ? format_seconds(p->seconds) : none);
      if (scaled) row.push_back(p ? est + format_seconds(p->seconds * py_scale) : none);
      row.push_back(p && ps ? format_factor(ps->seconds / p->seconds) : none);
      row.push_back(c && p ? est + format_factor(p->seconds * py_scale / c->timing.seconds) : none);
    }
    table.add_row(std::move(row));
    ChartBar bar;
    bar.label = model_label(key, workers);
    bar.python_estimate = scaled;
    if (c) bar.cpp = c->timing.seconds;
    if (p) bar.python = p->seconds * py_scale;
    section.chart.push_back(std::move(bar));
  }
  section.table = std::move(table);

  std::string results = "results: " + describe_results(wl);
  if (have_python && w.python_values_wrong == 0) {
    results += "; Python printed the same " + std::to_string(w.python_values_checked) +
               (w.python_values_checked == 1 ? " value" : " values");
  } else if (have_python) {
    results += "; Python's values: " + std::to_string(w.python_values_checked) + " the same, " +
               std::to_string(w.python_values_wrong) + " DIFFERENT (errors below)";
  }
  section.findings.push_back(results + ".");
  if (verbose) {
    for (std::size_t i = 0; i < n; ++i) {
      section.details.push_back(
          std::string(wl.kind == Workload::Kind::is_prime ? "is_prime(" : "range(") +
          std::to_string(wl.inputs[i]) + ") → " + wl.python_repr(i));
    }
  }
  if (std::string lesson = threads_lesson(w, cpus); !lesson.empty()) {
    section.findings.push_back(std::move(lesson));
  }
  if (std::string fastest = fastest_line(w, py_scale, workers); !fastest.empty()) {
    section.findings.push_back(std::move(fastest));
  }
  return section;
}

}  // namespace pyconc::tool
