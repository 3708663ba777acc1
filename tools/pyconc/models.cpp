// tools/pyconc/models.cpp -- the C++ execution models of `pyconc compare`.
#include "models.hpp"

#include <atomic>
#include <vector>

#include "pyconc/threading/thread.hpp"

namespace pyconc::tool {

namespace th = pyconc::threading;

namespace {

// for number in PRIMES: is_prime(number)
void run_serial(std::size_t ntasks, const TaskFn& task, const ModelOptions& /*options*/) {
  for (std::size_t i = 0; i < ntasks; ++i) task(i);
}

// The seed's "Thread per task": threads = [Thread(target=f, args=(x,)) for x in xs];
// start all, then join all. Creating the threads is part of the measured time, as in Python.
void run_thread_per_task(std::size_t ntasks, const TaskFn& task, const ModelOptions& /*options*/) {
  std::vector<th::Thread> threads;
  threads.reserve(ntasks);
  for (std::size_t i = 0; i < ntasks; ++i) threads.emplace_back(std::cref(task), i);
  for (th::Thread& t : threads) t.start();
  for (th::Thread& t : threads) t.join();
}

// N long-lived workers; each takes the next task index from a shared counter until none is
// left. Relaxed ordering suffices: the counter only hands out distinct indices, and the
// results are published to the caller by join().
void run_workers(std::size_t ntasks, const TaskFn& task, const ModelOptions& options) {
  std::atomic<std::size_t> next{0};
  auto worker = [&next, &task, ntasks] {
    for (std::size_t i = next.fetch_add(1, std::memory_order_relaxed); i < ntasks;
         i = next.fetch_add(1, std::memory_order_relaxed)) {
      task(i);
    }
  };
  std::vector<th::Thread> threads;
  threads.reserve(static_cast<std::size_t>(options.workers));
  for (int w = 0; w < options.workers; ++w) threads.emplace_back(std::ref(worker));
  for (th::Thread& t : threads) t.start();
  for (th::Thread& t : threads) t.join();
}

constexpr CppModel kCppModels[] = {
    {"serial", run_serial},
    {"thread_per_task", run_thread_per_task},
    {"workers", run_workers},
};

// Keys are the Python script's model names (compare_cpu.py, MODELS).
constexpr ModelRow kRows[] = {
    {"serial", "serial"},
    {"thread_per_task", "Thread per task"},
    {"workers", "threads ({N} workers)"},
    {"thread_pool", "ThreadPoolExecutor"},
    {"process_pool", "ProcessPoolExecutor"},
    {"mp_pool", "multiprocessing.Pool"},
};

}  // namespace

std::span<const CppModel> cpp_models() {
  return kCppModels;
}

std::span<const ModelRow> model_rows() {
  return kRows;
}

std::string model_label(std::string_view key, int workers) {
  for (const ModelRow& row : kRows) {
    if (row.key != key) continue;
    std::string label(row.label);
    if (auto pos = label.find("{N}"); pos != std::string::npos) {
      label.replace(pos, 3, std::to_string(workers));
    }
    return label;
  }
  return std::string(key);
}

}  // namespace pyconc::tool
