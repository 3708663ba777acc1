// pyconc/multiprocessing/detail/process_pool_core.hpp -- the engine under ProcessPoolExecutor
// and Pool: worker processes, task dispatch, results, breakage.
//
// Workers are re-executions of /proc/self/exe in worker mode (ARCHITECTURE.md decision 5):
// never a fork of a process that may already run threads. See src/multiprocessing/ for the
// worker loop and the manager thread. A RemoteTask is a Future's shared state fused with the
// serialized call (one allocation, as the thread pool's Task); the pool holds a reference
// while the task is queued or in flight.
// Thread safety: ProcessPoolCore's members may be called from any thread.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pyconc/detail/unique_function.hpp"
#include "pyconc/future.hpp"
#include "pyconc/multiprocessing/detail/remote_call.hpp"
#include "pyconc/multiprocessing/start_method.hpp"

namespace pyconc::detail {

class RemoteTaskBase {
 public:
  std::string wire;            // the task message (seq filled in at dispatch)
  std::uint32_t max_code = 0;  // highest code id the message names
  std::uint64_t seq = 0;       // set at dispatch (per worker); the worker echoes it
  bool started = false;        // its future is running (it was sent to a worker once)
  std::int64_t submit_ns = 0;  // when tracing: submitted, and last sent to a worker
  std::int64_t sent_ns = 0;
  std::shared_ptr<RemoteTaskBase> pool_ref;  // the pool's reference while queued / in flight

  // Pending -> running (returns pending), or the status that prevents it.
  virtual FutureStatus start() noexcept = 0;
  virtual void cancel_task() noexcept = 0;
  // The worker's result bytes: decode and finish the future (a decoding error fails it).
  virtual void complete(std::string_view result) noexcept = 0;
  // Fails the future with `e` unless it is already finished or cancelled.
  virtual void fail(std::exception_ptr e) noexcept = 0;

 protected:
  ~RemoteTaskBase() = default;
};

// Reports an exception that escaped a Pool callback (it must not reach the manager thread).
void report_callback_error(const char* what, std::exception_ptr e) noexcept;

template <class T, class Decode>
class RemoteTask final : public FutureState<T>, public RemoteTaskBase {
 public:
  using Stored = typename FutureState<T>::Stored;

  explicit RemoteTask(Decode decode) : decode_(std::move(decode)) {}

  // Pool.apply_async's callback / error_callback: run before the future becomes done, as
  // Python runs them before the AsyncResult is ready.
  unique_function<void(Stored&)> on_result;
  unique_function<void(const std::exception_ptr&)> on_error;

  FutureStatus start() noexcept override { return this->try_set_running(); }
  void cancel_task() noexcept override { this->cancel(); }

  void complete(std::string_view bytes) noexcept override {
    std::optional<Stored> value;
    try {
      value.emplace(decode_(bytes));
    } catch (...) {
      fail(std::current_exception());
      return;
    }
    if (on_result) {
      try {
        on_result(*value);
      } catch (...) {
        report_callback_error("callback", std::current_exception());
      }
    }
    try {
      this->set_value(std::move(*value));
    } catch (...) {  // finished through the public API meanwhile
    }
  }

  void fail(std::exception_ptr e) noexcept override {
    const FutureStatus s = this->try_set_running();  // pending -> running; else what it is
    if (s == FutureStatus::cancelled || s == FutureStatus::finished) return;
    if (on_error) {
      try {
        on_error(e);
      } catch (...) {
        report_callback_error("error_callback", std::current_exception());
      }
    }
    try {
      this->set_exception(std::move(e));
    } catch (...) {
    }
  }

 private:
  Decode decode_;
};

// Decoders of result bytes.
template <class Stored>
struct DecodeValue {
  Stored operator()(std::string_view bytes) const {
    Stored v{};
    load_into(bytes, v);
    return v;
  }
};

struct ProcessPoolConfig {
  int workers = 1;
  int max_tasks_per_child = 0;               // 0: unlimited
  std::string initializer;                   // a complete init message, or empty
  std::string name = "ProcessPoolExecutor";  // for messages and thread names
  bool start_now = false;                    // spawn the workers in the constructor
  multiprocessing::StartMethod start_method = multiprocessing::StartMethod::spawn;
};

class ProcessPoolImpl;

class ProcessPoolCore {
 public:
  explicit ProcessPoolCore(ProcessPoolConfig config);
  ProcessPoolCore(const ProcessPoolCore&) = delete;
  ProcessPoolCore& operator=(const ProcessPoolCore&) = delete;
  ~ProcessPoolCore();  // shutdown(wait = true)

  // Queues tasks (one lock for all). RuntimeError after shutdown/close, BrokenProcessPool
  // when broken; nothing is queued then.
  void submit(std::shared_ptr<RemoteTaskBase> task);
  void submit(std::vector<std::shared_ptr<RemoteTaskBase>>& tasks);

  // Stops accepting work; cancel_futures cancels what has not been sent to a worker; wait
  // blocks until the queued work is done and the workers have exited.
  void shutdown(bool wait, bool cancel_futures);
  // Kills the workers now: queued tasks are cancelled, tasks in flight fail with
  // CancelledError. Returns once the workers are reaped.
  void terminate();
  // Blocks until the manager has finished (after shutdown or terminate).
  void join();

  int max_workers() const noexcept;
  // Pids of the live workers (tests, diagnostics).
  std::vector<long> worker_pids() const;
  bool broken() const noexcept;

 private:
  std::unique_ptr<ProcessPoolImpl> impl_;
};

}  // namespace pyconc::detail
