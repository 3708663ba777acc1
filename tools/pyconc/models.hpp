// tools/pyconc/models.hpp -- the ways `pyconc compare` runs a list of tasks, as a table.
//
// A model takes N independent tasks (task(i) for i in 0..N) and runs them all: serially, one
// pyconc::threading::Thread per task, a fixed group of worker threads, ... Each model has a
// row key shared with the Python script (compare_cpu.py), so the report puts "Thread per
// task" in C++ beside "Thread per task" in Python. Adding a model = one entry in
// cpp_models() (and, if new, one row in model_rows()).
//
// Thread safety: a model calls task(i) exactly once for each i, possibly from several
// threads at once; everything task(i) wrote is visible to the caller when run() returns.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace pyconc::tool {

using TaskFn = std::function<void(std::size_t)>;

struct ModelOptions {
  int workers = 1;  // N of the models that use a fixed number of workers
};

struct CppModel {
  std::string_view key;  // row key, see model_rows()
  void (*run)(std::size_t ntasks, const TaskFn& task, const ModelOptions& options);
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
