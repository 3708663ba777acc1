// Internal to src/multiprocessing: the process-pool engine behind ProcessPoolCore, one class
// whose members live in files named for their job:
//   process_pool.cpp   the core: submit/shutdown/terminate, breakage, the manager thread's loop
//   pool_dispatch.cpp  dispatch policy: which worker gets a task, windows, work stealing, sends
//   pool_protocol.cpp  the messages: code definitions to workers, results read back from them
//   worker_spawn.cpp   worker processes: the worker-mode hook, spawning, reaping after exit
// (process_pool.cpp's header comment describes the design.)
#pragma once

#include <sys/epoll.h>
#include <sys/types.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "pyconc/detail/trace.hpp"
#include "pyconc/multiprocessing/detail/process_pool_core.hpp"

namespace pyconc::detail {

[[noreturn]] inline void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

struct ProcWorker {
  std::uint64_t id = 0;  // epoll tag
  pid_t pid = -1;
  int fd = -1;     // our end of the socket
  int pidfd = -1;  // readable once the process has exited
  // Under the pool lock:
  std::deque<RemoteTaskBase*> in_flight;  // committed to this worker, in send order
  std::size_t buffered = 0;               // of those, tasks still only in `out`
  std::string out;                        // bytes to send
  std::size_t out_pos = 0;
  std::uint32_t defined = 1;                    // code ids below this were sent
  int sent = 0;                                 // tasks committed (max_tasks_per_child)
  std::atomic<std::uint64_t>* claim = nullptr;  // shared with the worker (see remote_call.hpp)
  std::uint64_t next_seq = 1;                   // of the next task sent to this worker
  std::uint32_t epoch = 0;                      // tasks sent now carry this epoch
  std::chrono::steady_clock::time_point front_since{};  // in_flight.front() became the oldest
  bool told_to_exit = false;
  bool killed = false;
  bool retiring = false;          // said it reached max_tasks_per_child
  bool want_out = false;          // a send hit a full socket: the manager must watch EPOLLOUT
  std::int64_t last_done_ns = 0;  // when tracing: the last result from this worker arrived
  // Manager only:
  bool out_armed = false;
  bool read_closed = false;
  std::string in;
  std::string init_error;
};

class ProcessPoolImpl {
 public:
  explicit ProcessPoolImpl(ProcessPoolConfig config);
  ~ProcessPoolImpl();

  int max_workers() const noexcept { return config_.workers; }

  bool broken() const noexcept {
    std::lock_guard g(mu_);
    return state_ == State::broken;
  }

  std::vector<long> worker_pids() const {
    std::lock_guard g(mu_);
    std::vector<long> out;
    for (const auto& w : workers_) out.push_back(w->pid);
    return out;
  }

  void submit(std::vector<std::shared_ptr<RemoteTaskBase>>& tasks);
  void shutdown(bool wait, bool cancel_futures);
  void terminate();
  void join();

 private:
  enum class State { running, closing, terminated, broken };

  // --- process_pool.cpp: under mu_ ---------------------------------------------------------
  void check_accepting_locked() const;
  std::vector<RemoteTaskBase*> take_pending_locked();
  // The queued tasks never sent to a worker (cancellable); taken-back ones stay queued.
  std::vector<RemoteTaskBase*> take_unstarted_locked();
  void start_locked();
  // Breaks the pool: returns every unfinished task (to fail outside the lock).
  std::vector<RemoteTaskBase*> break_locked(std::string message);
  void kill_all_locked();

  // --- process_pool.cpp: the manager thread --------------------------------------------------
  static constexpr std::uint64_t kEventTag = ~std::uint64_t{0};

  void wake_manager();
  void fail_all(const std::vector<RemoteTaskBase*>& tasks, const std::string& message);
  void manager_main();
  // Whether the manager's work is over; asks idle workers to exit when closing.
  bool finished();
  // Arms EPOLLOUT where sends wait, balances work; returns the epoll timeout.
  int update_interest();
  ProcWorker* find_worker(std::uint64_t id);
  void handle_event(const epoll_event& ev);

  // --- pool_dispatch.cpp (under mu_) ---------------------------------------------------------
  // Takes back every task `w` has not claimed yet (its running task stays), oldest first at
  // the front of the queue, by moving `w` to a new epoch: the worker skips the old messages.
  bool revoke_locked(ProcWorker& w);
  std::chrono::nanoseconds steal_patience_locked() const;
  // Work stealing between processes: when nothing is queued and a worker is idle while another
  // has tasks waiting behind one that has run for a while, those tasks are taken back and
  // dispatched again. Returns the epoll timeout (ms) until the next such check is due, or -1.
  int balance_locked();
  std::size_t window_locked() const;
  bool can_take_locked(const ProcWorker& w, std::size_t window) const;
  // Moves pending tasks to workers with room; sends to workers that may be idle. Returns
  // whether the manager must be woken (a send found a full socket).
  bool dispatch_locked();
  // Hands w.out to the kernel as far as it takes it. Returns true if the rest must wait for
  // EPOLLOUT (the manager has to be told).
  bool send_locked(ProcWorker& w);

  // --- pool_protocol.cpp -----------------------------------------------------------------------
  // Sends w every code id it does not know yet (under mu_).
  void append_defines_locked(ProcWorker& w);
  // Reads what worker `w` sent and completes those tasks. Returns whether bytes arrived.
  bool read_results(ProcWorker& w);

  struct Done {
    RemoteTaskBase* task;
    bool ok;
    std::string_view payload;
  };

  void process_messages(ProcWorker& w);
  // Tracing: the task's span in the lane of its worker (under mu_).
  static void trace_result(ProcWorker& w, const RemoteTaskBase& t, std::int64_t run_ns);
  std::string protocol_error(const ProcWorker& w);
  static std::string describe_remote(std::string_view exception_bytes);

  // --- worker_spawn.cpp ------------------------------------------------------------------------
  // Worker `w` has exited: collect its last results, reap it, and decide what it means.
  void on_exit(ProcWorker& w);
  void spawn_worker();
  // One worker process by the pool's start method: posix_spawn of /proc/self/exe, fork, or a
  // fork in the fork server. Return its pid; throw OSError.
  pid_t exec_worker(int sock, int claim_fd) const;
  pid_t fork_worker(int our_end, int sock, int claim_fd) const;
  // Waits for an exited worker: its wait status, -1 if unknown.
  int reap(pid_t pid) const;
  // After an internal failure: make sure no worker outlives the manager.
  void reap_all_after_failure();

  const ProcessPoolConfig config_;
  mutable std::mutex mu_;
  State state_ = State::running;
  std::string broken_message_;
  std::deque<RemoteTaskBase*> pending_;
  std::vector<std::unique_ptr<ProcWorker>> workers_;
  std::uint64_t next_worker_id_ = 1;
  std::uint64_t avg_ns_ = 0;  // EWMA of the tasks' run time
  bool started_ = false;
  bool initial_spawn_ = false;  // the manager is starting the first workers
  int epoll_ = -1;
  int event_ = -1;
  std::thread manager_;
  static constexpr std::size_t kReadChunk = 256 * 1024;
  std::unique_ptr<char[]> rbuf_ = std::make_unique_for_overwrite<char[]>(kReadChunk);
};

}  // namespace pyconc::detail
