// pyconc/futures/thread_pool_executor.hpp -- ThreadPoolExecutor.
//
// Python: concurrent.futures.ThreadPoolExecutor(max_workers, thread_name_prefix, initializer).
// Default max_workers is Python's min(32, cpu_count() + 4), with cpu_count() read from the
// process's CPU affinity and cgroup quota. Workers start lazily, one per submit that finds no
// idle worker, up to max_workers, and are named "<prefix>_<i>" (prefix defaults to
// "ThreadPoolExecutor-<n>"). An initializer runs first in every worker; if it throws, the pool
// is broken: queued work fails with BrokenThreadPool and submit throws BrokenThreadPool.
// The destructor is shutdown(wait=true).
// Differences: tasks submitted from one of the pool's own workers go to that worker's local
// queue (other workers steal from it), and a worker that waits for a future of its own pool
// runs queued work instead of blocking, so recursive submit + result() cannot exhaust the pool.
//
// Thread safety: all members may be called from any thread (see Executor). Idle workers spin
// briefly and then park in the kernel: an idle pool uses no CPU.
#pragma once

#include <memory>
#include <string>

#include "pyconc/detail/function.hpp"
#include "pyconc/futures/executor.hpp"

namespace pyconc::detail {
class ThreadPoolCore;
}

namespace pyconc::futures {

// ThreadPoolExecutor's keyword arguments.
struct ThreadPoolOptions {
  std::string thread_name_prefix{};
  std::function<void()> initializer{};
};

class ThreadPoolExecutor final : public Executor {
 public:
  // max_workers = default_max_workers().
  ThreadPoolExecutor();
  explicit ThreadPoolExecutor(ThreadPoolOptions options);
  // ValueError("max_workers must be greater than 0") when max_workers <= 0.
  explicit ThreadPoolExecutor(int max_workers, ThreadPoolOptions options = {});
  ~ThreadPoolExecutor() override;

  void shutdown(bool wait = true, bool cancel_futures = false) override;

  int max_workers() const noexcept;
  // Workers started so far (they start lazily).
  int num_threads() const noexcept;
  // min(32, cpu_count() + 4), cpu_count() honouring affinity and cgroup quota.
  static int default_max_workers() noexcept;

 protected:
  void enqueue(std::shared_ptr<detail::WorkItemBase> task) override;

 private:
  std::unique_ptr<detail::ThreadPoolCore> core_;
};

}  // namespace pyconc::futures
