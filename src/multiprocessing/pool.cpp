#include "pyconc/multiprocessing/pool.hpp"

#include "pyconc/detail/cpu.hpp"

namespace pyconc::multiprocessing {

namespace {

std::unique_ptr<detail::ProcessPoolCore> make_core(int processes, const PoolOptions& options) {
  if (processes < 1) throw ValueError("Number of processes must be at least 1");
  if (options.maxtasksperchild < 0) {
    throw ValueError("maxtasksperchild must be a positive int or 0 (None)");
  }
  detail::ProcessPoolConfig config;
  config.workers = processes;
  config.max_tasks_per_child = options.maxtasksperchild;
  config.initializer = options.initializer.message();
  config.start_method =
      (options.context ? *options.context : multiprocessing::get_context()).method();
  config.name = "Pool";
  config.start_now = true;  // as Python's Pool: workers start in the constructor
  return std::make_unique<detail::ProcessPoolCore>(std::move(config));
}

}  // namespace

Pool::Pool() : Pool(PoolOptions{}) {}
Pool::Pool(PoolOptions options) : Pool(detail::process_cpu_count(), std::move(options)) {}
Pool::Pool(int processes, PoolOptions options)
    : processes_(processes), core_(make_core(processes, options)) {}

Pool::~Pool() {
  if (state_.load() == 0) terminate();  // leaving `with Pool() as p:`
  core_->join();
}

void Pool::close() {
  int running = 0;
  if (state_.compare_exchange_strong(running, 1)) core_->shutdown(false, false);
}

void Pool::terminate() {
  state_.store(2);
  core_->terminate();
}

void Pool::join() {
  if (state_.load() == 0) throw ValueError("Pool is still running");
  core_->join();
}

int Pool::processes() const noexcept {
  return processes_;
}
std::vector<long> Pool::worker_pids() const {
  return core_->worker_pids();
}

void Pool::submit_chunks(std::vector<std::shared_ptr<detail::RemoteTaskBase>>& tasks) {
  if (state_.load() != 0) throw ValueError("Pool not running");
  core_->submit(tasks);
}

}  // namespace pyconc::multiprocessing
