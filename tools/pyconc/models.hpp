// tools/pyconc/models.hpp -- the ways `pyconc compare` runs a list of tasks, as a table.
//
// A model takes N independent tasks (results[i] = fn(inputs[i]) for i in 0..N) and runs them
// all: serially, one pyconc::threading::Thread per task, a fixed group of worker threads, a
// futures::ThreadPoolExecutor through submit() or map(), ... Each model has a row key shared
// with the Python script (compare_cpu.py), so the report puts "Thread per task" in C++ beside
// "Thread per task" in Python. Adding a model = one entry in cpp_models() (and, if new, one
// row in model_rows()).
//
// Thread safety: a model computes each result exactly once, possibly on several threads at
// once; every results[i] is written, and visible to the caller, when run() returns (published
// by Thread::join() or Future::result()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "workloads.hpp"

namespace pyconc::tool {

// The work a model runs. fn is the seeds' function (is_prime or cpu_bound, see
// Workload::function()), a plain function pointer so a model can hand it to an executor
// exactly as Python does: pool.submit(fn, x), pool.map(fn, inputs).
struct Tasks {
  Workload::Fn fn = nullptr;  // pure: may run on any thread, concurrently
  std::span<const std::uint64_t> inputs;
  std::span<u128> results;  // results[i] = fn(inputs[i]), written by the model

  std::size_t size() const { return inputs.size(); }
  // Task i as a thread target: computes and stores results[i]. Concurrent calls for distinct
  // i are safe (each writes only its own element).
  void run(std::size_t i) const { results[i] = fn(inputs[i]); }
};

struct ModelOptions {
  int workers = 1;  // N of the models that use a fixed number of workers
};

struct CppModel {
  std::string_view key;  // row key, see model_rows()
  void (*run)(const Tasks& tasks, const ModelOptions& options);
};

// The C++ models, in the order they are run.
std::span<const CppModel> cpp_models();

// A row of the report: the key both languages use, and its label. "{N}" in a label is
// replaced by the worker count.
struct ModelRow {
  std::string_view key;
  std::string_view label;
};

// Every row the report knows, in display order.
std::span<const ModelRow> model_rows();
// The label of `key` with {N} filled in; the key itself when unknown.
std::string model_label(std::string_view key, int workers);

}  // namespace pyconc::tool
