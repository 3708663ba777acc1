// tools/pyconc/compare_io.cpp -- the download experiment: server, C++ models, Python, section.
//
// Order of events: the expected page lengths (computed, not downloaded); the demo server on
// its thread; every C++ model (each run's lengths checked page by page); the Python script
// (its total checked); the server stopped. Nothing else runs meanwhile.
#include "compare_io.hpp"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <pyconc/futures/thread_pool_executor.hpp>
#include <pyconc_demo/server.hpp>
#include <pyconc_demo/site.hpp>

#include "io_models.hpp"
#include "models.hpp"
#include "python_side.hpp"
#include "timing.hpp"

namespace pyconc::tool {

namespace {

using namespace std::chrono_literals;

constexpr char kWorkload = 'C';
// Debian's interpreter, which python3-aiohttp installs into (scripts/deps.sh).
constexpr char kSystemPython[] = "/usr/bin/python3";

struct CppIoResult {
  std::string key;
  Timing timing;
};

std::string ms_text(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  const bool same = std::filesystem::equivalent(a, b, ec);
  return !ec && same;
}

// "1_234_567"
std::string grouped(std::uint64_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
    digits.insert(static_cast<std::size_t>(i), "_");
  }
  return digits;
}

template <class T>
const T* find_key(const std::vector<T>& v, std::string_view key) {
  for (const T& x : v) {
    if (x.key == key) return &x;
  }
  return nullptr;
}

// "C++ Thread per task 18.9×, asyncio.gather 19.6×; Python's ..." for the models that overlap
// the waits.
std::string overlap_lesson(const std::vector<CppIoResult>& cpp,
                           const std::vector<PythonModel>& python, int workers) {
  constexpr std::string_view kConcurrent[] = {"thread_per_task", "thread_pool_map", "asyncio"};
  auto part = [&](auto seconds_of, const auto& results) {
    const auto* serial = find_key(results, "serial");
    std::string s;
    if (serial == nullptr) return s;
    for (std::string_view key : kConcurrent) {
      if (const auto* r = find_key(results, key)) {
        s += std::string(s.empty() ? "" : ", ") + model_label(key, workers) + " " +
             format_factor(seconds_of(*serial) / seconds_of(*r));
      }
    }
    return s;
  };
  const std::string c = part([](const CppIoResult& r) { return r.timing.seconds; }, cpp);
  const std::string p = part([](const PythonModel& m) { return m.seconds; }, python);
  if (c.empty()) return {};
  std::string s = "waiting overlaps, speed-up over serial: C++ " + c;
  if (!p.empty()) {
    s += "; Python's " + p +
         " -- a thread waiting for the network releases the GIL, so Python's threads help here, "
         "unlike in the CPU-bound tables";
  }
  return s + ".";
}

}  // namespace

IoOutcome run_io_experiment(const IoPlan& plan, Progress& progress) {
  IoOutcome out;
  const int workers = plan.workers;
  const std::size_t pages = plan.pages;

  // What every model must find: the demo site's pages, computed directly.
  std::vector<std::string> targets;
  std::vector<std::uint64_t> expected;
  std::uint64_t expected_total = 0;
  for (std::size_t i = 1; i <= pages; ++i) {
    targets.push_back("/list/" + std::to_string(i));
    expected.push_back(pyconc::demo::demo_site_page(targets.back()).body.size());
    expected_total += expected.back();
  }

  progress.show("I/O     starting the demo server …");
  std::optional<pyconc::demo::DemoSiteServer> server(std::in_place, plan.delay);
  const std::string base_url = server->url("");
  std::vector<std::string> urls;
  for (const std::string& t : targets) urls.push_back(base_url + t);
  out.facts.emplace_back("server", "the demo blog at " + base_url +
                                       " (this process, its own thread and event loop), " +
                                       ms_text(plan.delay) + " before each answer");

  // The C++ models.
  const ModelOptions model_options{.workers = workers};
  std::vector<CppIoResult> cpp;
  std::vector<std::uint64_t> lengths(pages);
  for (const IoModel& model : io_models()) {
    const std::string label = model_label(model.key, workers);
    progress.show("C++     C  " + label + " …");
    try {
      std::string wrong;
      const Timing t = measure([&] {
        std::fill(lengths.begin(), lengths.end(), 0);
        model.run(Downloads{.urls = urls, .lengths = lengths}, model_options);
        for (std::size_t i = 0; i < pages && wrong.empty(); ++i) {
          if (lengths[i] != expected[i]) {
            wrong = targets[i] + ": " + std::to_string(lengths[i]) + " bytes, expected " +
                    std::to_string(expected[i]);
          }
        }
      });
      if (!wrong.empty()) {
        out.errors.push_back("wrong result: C++ C " + label + ": " + wrong);
      }
      cpp.push_back({std::string(model.key), t});
    } catch (const std::exception& e) {
      out.errors.push_back("C++ C " + label + " failed: " + e.what());
    }
  }

  // The Python side.
  std::vector<PythonModel> python;
  std::size_t python_checked = 0;
  std::size_t python_wrong = 0;
  std::vector<std::string> intro_python;
  auto take = [&](PythonRun& run, const std::string& interpreter) {
    if (!run.failure.empty()) {
      out.warnings.push_back("the Python I/O side (" + interpreter + ") failed: " + run.failure +
                             (run.models.empty() ? "" : " (the models it finished are shown)"));
    }
    for (const std::string& e : run.model_errors) {
      out.warnings.push_back("Python model failed: " + e);
    }
    for (PythonModel& m : run.models) {
      if (m.workload != kWorkload || find_key(python, m.key) != nullptr) continue;
      if (m.checksum != std::to_string(expected_total)) {
        ++python_wrong;
        out.errors.push_back("wrong result: Python C " + model_label(m.key, workers) + ": " +
                             m.checksum + " bytes in all, expected " +
                             std::to_string(expected_total));
      } else {
        ++python_checked;
      }
      python.push_back(std::move(m));
    }
  };
  auto on_record = [&](std::string_view record) {
    if (!record.starts_with("model\t") || record.size() < 9) return;
    const std::string_view key = record.substr(8, record.find('\t', 8) - 8);
    progress.show("Python  C  " + model_label(key, workers) + " done …");
  };
  if (plan.python) {
    progress.show("Python  C  starting " + *plan.python + " …");
    PythonIoPlan pp{.base_url = base_url,
                    .pages = pages,
                    .workers = workers,
                    .models = {},
                    .request_timeout = 30s,
                    .timeout = plan.python_timeout};
    PythonRun run = run_python_io_script(*plan.python, pp, on_record);
    const bool asyncio_skipped =
        std::any_of(run.skipped.begin(), run.skipped.end(),
                    [](const PythonSkip& s) { return s.key == "asyncio"; });
    take(run, *plan.python);
    if (asyncio_skipped) {
      // aiohttp is not in the standard library; Debian's python3-aiohttp installs it for
      // /usr/bin/python3, which need not be the python3 on $PATH (pyenv, venv).
      std::string why = *plan.python + " has no aiohttp";
      if (!same_file(*plan.python, kSystemPython) && find_program(kSystemPython)) {
        progress.show(std::string("Python  C  asyncio with ") + kSystemPython + " …");
        pp.models = "asyncio";
        PythonRun sys_run = run_python_io_script(kSystemPython, pp, on_record);
        if (find_key(sys_run.models, "asyncio") != nullptr) {
          intro_python.push_back(std::string("Python's asyncio row ran with ") + kSystemPython +
                                 " (" + sys_run.version + ", aiohttp " + sys_run.aiohttp_version +
                                 "): " + why + ".");
          take(sys_run, kSystemPython);
          why.clear();
        } else {
          why += std::string(", nor has ") + kSystemPython;
        }
      }
      if (!why.empty()) {
        intro_python.push_back("Python's asyncio row is missing: " + why +
                               " (apt install python3-aiohttp, or pip install aiohttp).");
      }
    }
  }
  progress.show("I/O     stopping the demo server …");
  server.reset();  // graceful shutdown, thread joined

  // The section.
  ReportSection& s = out.section;
  s.part = "I/O-bound: the seeds' download of list pages";
  s.heading = std::string(1, kWorkload) + ". download /list/1 … /list/" + std::to_string(pages) +
              " of the demo blog, " + ms_text(plan.delay) +
              " per answer (the seeds: 50 cnblogs pages)";
  const int pool_threads = futures::ThreadPoolExecutor::default_max_workers();
  const auto floor = [&](std::size_t at_once) {
    const std::size_t rounds = (pages + at_once - 1) / at_once;
    return format_seconds(static_cast<double>(rounds) * plan.delay.count() / 1000.0);
  };
  s.intro.push_back(
      "the server waits " + ms_text(plan.delay) + " before each answer, so the floor is " +
      floor(1) + " one page at a time and " + floor(pages) +
      " all at once; ThreadPoolExecutor() downloads " + std::to_string(pool_threads) +
      " at a time (≥ " + floor(static_cast<std::size_t>(pool_threads)) + "), ProcessPoolExecutor(" +
      std::to_string(workers) + ") " + std::to_string(workers) + " at a time (≥ " +
      floor(static_cast<std::size_t>(workers)) + ").");
  for (std::string& p : intro_python) s.intro.push_back(std::move(p));

  const bool have_python = !python.empty();
  std::vector<Table::Column> cols = {{"model", Table::Align::left}, {"C++"}, {"speed-up"}};
  if (have_python) {
    cols.push_back({"Python"});
    cols.push_back({"speed-up"});
    cols.push_back({"C++ faster"});
  }
  Table table(std::move(cols));
  std::vector<std::string> keys;
  for (const IoModel& m : io_models()) keys.emplace_back(m.key);
  for (const PythonModel& m : python) {
    if (std::find(keys.begin(), keys.end(), m.key) == keys.end()) keys.push_back(m.key);
  }
  const CppIoResult* cs = find_key(cpp, "serial");
  const PythonModel* ps = find_key(python, "serial");
  const std::string none = "—";
  for (const std::string& key : keys) {
    const CppIoResult* c = find_key(cpp, key);
    const PythonModel* p = find_key(python, key);
    if (c == nullptr && p == nullptr) continue;
    const std::string label = model_label(key, workers);
    std::vector<std::string> row = {label};
    row.push_back(c ? format_seconds(c->timing.seconds) : none);
    row.push_back(c && cs ? format_factor(cs->timing.seconds / c->timing.seconds) : none);
    if (have_python) {
      row.push_back(p ? format_seconds(p->seconds) : none);
      row.push_back(p && ps ? format_factor(ps->seconds / p->seconds) : none);
      row.push_back(c && p ? format_factor(p->seconds / c->timing.seconds) : none);
    }
    table.add_row(std::move(row));
    ChartBar bar;
    bar.label = label;
    if (c) bar.cpp = c->timing.seconds;
    if (p) bar.python = p->seconds;
    s.chart.push_back(std::move(bar));
  }
  s.table = std::move(table);

  std::string results = "results: " + std::to_string(pages) + " pages, " + grouped(expected_total) +
                        " bytes of text in all; every C++ model found each page's length equal to "
                        "the demo site's";
  if (have_python && python_wrong == 0) {
    results += "; Python's " + std::to_string(python_checked) + " models the same total";
  } else if (have_python) {
    results += "; Python's totals: " + std::to_string(python_checked) + " the same, " +
               std::to_string(python_wrong) + " DIFFERENT (errors below)";
  }
  if (!out.errors.empty()) results += " (except the errors below)";
  s.findings.push_back(results + ".");
  if (plan.verbose) {
    for (std::size_t i = 0; i < pages; ++i) {
      s.details.push_back(targets[i] + " → " + std::to_string(expected[i]) + " bytes");
    }
  }
  if (std::string lesson = overlap_lesson(cpp, python, workers); !lesson.empty()) {
    s.findings.push_back(std::move(lesson));
  }
  const CppIoResult* bc = nullptr;
  for (const auto& r : cpp) {
    if (bc == nullptr || r.timing.seconds < bc->timing.seconds) bc = &r;
  }
  const PythonModel* bp = nullptr;
  for (const auto& m : python) {
    if (bp == nullptr || m.seconds < bp->seconds) bp = &m;
  }
  if (bc != nullptr) {
    std::string f =
        "fastest: C++ " + model_label(bc->key, workers) + " " + format_seconds(bc->timing.seconds);
    if (bp != nullptr) {
      f += "; Python " + model_label(bp->key, workers) + " " + format_seconds(bp->seconds);
    }
    s.findings.push_back(f + " (the floor: " + floor(pages) + ").");
  }

  out.notes.push_back(
      "downloads: C++ uses pyconc::requests (one event loop and keep-alive ClientSession per "
      "thread, as a requests.Session per thread would), one ClientSession for asyncio; Python "
      "uses urllib.request (a new connection per page) and one aiohttp.ClientSession. The "
      "Process-per-task children are forks; the process pools' workers start fresh.");
  return out;
}

}  // namespace pyconc::tool
