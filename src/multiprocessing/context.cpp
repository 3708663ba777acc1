// Start methods: the process-wide default and the contexts (context.hpp).
#include "pyconc/multiprocessing/context.hpp"

#include <atomic>

#include "pyconc/errors.hpp"

namespace pyconc::multiprocessing {

namespace {

// -1: not set (the default is spawn); else a StartMethod.
std::atomic<int> g_default{-1};

StartMethod parse(std::string_view name) {
  if (name == "spawn") return StartMethod::spawn;
  if (name == "fork") return StartMethod::fork;
  if (name == "forkserver") return StartMethod::forkserver;
  throw ValueError("cannot find context for '" + std::string(name) + "'");
}

const char* name_of(StartMethod m) noexcept {
  switch (m) {
    case StartMethod::fork:
      return "fork";
    case StartMethod::forkserver:
      return "forkserver";
    case StartMethod::spawn:
      break;
  }
  return "spawn";
}

}  // namespace

std::string Context::get_start_method() const {
  return name_of(method_);
}

Context get_context(std::string_view method) {
  if (method.empty()) {
    const int d = g_default.load(std::memory_order_acquire);
    return Context(d < 0 ? StartMethod::spawn : static_cast<StartMethod>(d));
  }
  return Context(parse(method));
}

void set_start_method(std::string_view method, bool force) {
  const int value = method.empty() ? -1 : static_cast<int>(parse(method));
  if (method.empty() && !force) throw ValueError("set_start_method: empty method name");
  if (force) {
    g_default.store(value, std::memory_order_release);
    return;
  }
  int expected = -1;
  if (!g_default.compare_exchange_strong(expected, value, std::memory_order_acq_rel)) {
    throw RuntimeError("context has already been set");
  }
}

std::string get_start_method(bool allow_none) {
  const int d = g_default.load(std::memory_order_acquire);
  if (d < 0) return allow_none ? std::string() : std::string("spawn");
  return name_of(static_cast<StartMethod>(d));
}

std::vector<std::string> get_all_start_methods() {
  return {"spawn", "fork", "forkserver"};
}

}  // namespace pyconc::multiprocessing
