// Internal to src/multiprocessing: the worker mode of a process-pool program.
#pragma once

namespace pyconc::detail {

// The environment variable that makes a re-executed program a pool worker. Its value is
// "<socket fd>:<parent pid>:<max tasks (0: unlimited)>:<claim word memfd>".
inline constexpr const char* kPoolWorkerEnv = "PYCONC_MP_WORKER";

// Runs the worker loop described by `spec` (the variable's value); never returns.
[[noreturn]] void run_pool_worker(const char* spec);

}  // namespace pyconc::detail
