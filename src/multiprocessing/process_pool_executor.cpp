#include "pyconc/multiprocessing/process_pool_executor.hpp"

#include "pyconc/detail/cpu.hpp"

namespace pyconc::futures {

namespace {

std::unique_ptr<detail::ProcessPoolCore> make_core(int max_workers,
                                                   const ProcessPoolOptions& options) {
  if (max_workers <= 0) throw ValueError("max_workers must be greater than 0");
  if (options.max_tasks_per_child < 0) throw ValueError("max_tasks_per_child must be >= 1");
  detail::ProcessPoolConfig config;
  config.workers = max_workers;
  config.max_tasks_per_child = options.max_tasks_per_child;
  config.initializer = options.initializer.message();
  config.start_method =
      (options.mp_context ? *options.mp_context : multiprocessing::get_context()).method();
  config.name = "ProcessPoolExecutor";
  config.start_now = false;  // at the first submit, as Python's
  return std::make_unique<detail::ProcessPoolCore>(std::move(config));
}

}  // namespace

ProcessPoolExecutor::ProcessPoolExecutor() : ProcessPoolExecutor(ProcessPoolOptions{}) {}
ProcessPoolExecutor::ProcessPoolExecutor(ProcessPoolOptions options)
    : ProcessPoolExecutor(detail::process_cpu_count(), std::move(options)) {}
ProcessPoolExecutor::ProcessPoolExecutor(int max_workers, ProcessPoolOptions options)
    : core_(make_core(max_workers, options)) {}
ProcessPoolExecutor::~ProcessPoolExecutor() {
  shutdown(true, false);
}

void ProcessPoolExecutor::shutdown(bool wait, bool cancel_futures) {
  core_->shutdown(wait, cancel_futures);
}
int ProcessPoolExecutor::max_workers() const noexcept {
  return core_->max_workers();
}
std::vector<long> ProcessPoolExecutor::worker_pids() const {
  return core_->worker_pids();
}

}  // namespace pyconc::futures
