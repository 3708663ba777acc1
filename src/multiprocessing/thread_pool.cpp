// pool::ThreadPool: Pool's interface on a ThreadPoolExecutor.
#include "pyconc/multiprocessing/thread_pool.hpp"

#include "pyconc/detail/cpu.hpp"

namespace pyconc::multiprocessing::pool {

namespace {
int checked_processes(int processes) {
  if (processes < 1) throw ValueError("Number of processes must be at least 1");
  return processes;
}
}  // namespace

ThreadPool::ThreadPool() : ThreadPool(pyconc::detail::process_cpu_count()) {}

ThreadPool::ThreadPool(int processes, ThreadPoolOptions options)
    : processes_(checked_processes(processes)),
      exec_(processes_, futures::ThreadPoolOptions{.thread_name_prefix = "ThreadPool",
                                                   .initializer = std::move(options.initializer)}) {
}

ThreadPool::~ThreadPool() {
  if (state_.load() == 0) terminate();
  exec_.shutdown(/*wait=*/true);
}

void ThreadPool::check_running() const {
  if (state_.load() != 0) throw ValueError("Pool not running");
}

void ThreadPool::close() {
  int running = 0;
  state_.compare_exchange_strong(running, 1);
}

void ThreadPool::terminate() {
  state_.store(2);
  exec_.shutdown(/*wait=*/false, /*cancel_futures=*/true);
}

void ThreadPool::join() {
  if (state_.load() == 0) throw ValueError("Pool is still running");
  exec_.shutdown(/*wait=*/true);
}

}  // namespace pyconc::multiprocessing::pool
