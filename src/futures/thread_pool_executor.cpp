#include "pyconc/futures/thread_pool_executor.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>
#include <mutex>
#include <vector>

#include "pyconc/detail/cpu.hpp"
#include "pyconc/detail/exception_info.hpp"
#include "pyconc/detail/futex.hpp"
#include "pyconc/futures/exceptions.hpp"
#include "pyconc/threading/lock.hpp"
#include "pyconc/threading/thread.hpp"

namespace pyconc::detail {

namespace th = pyconc::threading;

// How the pool schedules (see ARCHITECTURE.md, decision 7):
// - Work submitted from outside goes to one FIFO (global_); work submitted by a task goes to
//   its worker's own deque. A worker takes from the global FIFO in batches into its deque;
//   the owner runs its deque oldest first, thieves take the newest half. Both are short critical
//   sections under a futex Lock.
// - pending_ counts queued tasks everywhere. An idle worker first spins ("searching") for a
//   short while, then parks on its own futex word. A submit wakes one parked worker only if
//   nobody is searching; a searching worker that finds work wakes the next one if more is
//   queued. So a trickle of tasks wakes one worker, a burst wakes them all, and idle workers
//   burn nothing.
// - Lost wake-ups are impossible: a submitter increments pending_ and then reads the parked
//   count; a parking worker registers as parked and then re-reads pending_ (seq_cst on both
//   sides), so at least one of them sees the other.
struct PoolWorker {
  int index = 0;
  th::Lock lock;                   // guards local
  std::deque<TaskBase*> local;     // tasks submitted by tasks running on this worker
  std::atomic<std::uint32_t> wake{0};
  th::Thread thread{[] {}};  // replaced by the real body before start()

  explicit PoolWorker(int i) : index(i) {}
};

inline thread_local PoolWorker* tls_pool_worker = nullptr;

class ThreadPoolCore {
 public:
  ThreadPoolCore(const void* owner, int max_workers, futures::ThreadPoolOptions options)
      : owner_(owner), max_workers_(max_workers), options_(std::move(options)),
        slots_(static_cast<std::size_t>(max_workers)) {
    static std::atomic<int> counter{0};
    if (options_.thread_name_prefix.empty()) {
      options_.thread_name_prefix = "ThreadPoolExecutor-" + std::to_string(counter++);
    }
  }

  ~ThreadPoolCore() { shutdown(true, false); }

  int max_workers() const noexcept { return max_workers_; }
  int num_threads() const noexcept { return num_workers_.load(std::memory_order_acquire); }

  void enqueue(std::shared_ptr<TaskBase> task) {
    if (broken_.load(std::memory_order_acquire)) throw futures::BrokenThreadPool(broken_message());
    TaskBase* raw = task.get();
    if (tracing()) [[unlikely]] raw->submit_ns = trace_now_ns();
    raw->queue_ref = std::move(task);
    PoolWorker* me = tls_worker_owner == owner_ ? tls_pool_worker : nullptr;
    if (me != nullptr && !shutdown_.load(std::memory_order_acquire)) {
      std::lock_guard g(me->lock);
      me->local.push_back(raw);
      pending_.fetch_add(1, std::memory_order_seq_cst);
    } else {
      std::unique_lock g(global_lock_);
      if (shutdown_.load(std::memory_order_relaxed)) {
        g.unlock();
        raw->queue_ref.reset();
        throw RuntimeError("cannot schedule new futures after shutdown");
      }
      raw->next_task = nullptr;
      (global_tail_ ? global_tail_->next_task : global_head_) = raw;
      global_tail_ = raw;
      ++global_size_;
      pending_.fetch_add(1, std::memory_order_seq_cst);
    }
    notify_one();
  }

  void shutdown(bool wait, bool cancel_futures) {
    std::vector<TaskBase*> cancelled;
    {
      std::lock_guard g(global_lock_);
      shutdown_.store(true, std::memory_order_seq_cst);
      if (cancel_futures) {
        for (TaskBase* t = global_head_; t != nullptr; t = t->next_task) cancelled.push_back(t);
        global_head_ = global_tail_ = nullptr;
        global_size_ = 0;
      }
    }
    if (cancel_futures) {
      for (int i = 0; i < num_workers_.load(std::memory_order_acquire); ++i) {
        PoolWorker* w = slots_[static_cast<std::size_t>(i)].load(std::memory_order_acquire);
        std::lock_guard g(w->lock);
        cancelled.insert(cancelled.end(), w->local.begin(), w->local.end());
        w->local.clear();
      }
      pending_.fetch_sub(cancelled.size(), std::memory_order_seq_cst);
      for (TaskBase* t : cancelled) {
        auto keep = std::move(t->queue_ref);
        t->cancel_task();
      }
    }
    wake_all();
    if (!wait) return;
    std::vector<PoolWorker*> workers;
    {
      // After shutdown_ is set no worker is added (spawn_worker checks it under this lock),
      // so this snapshot is complete. Join outside the lock: a worker may be in spawn_worker.
      std::lock_guard g(spawn_lock_);
      for (auto& w : owned_) workers.push_back(w.get());
    }
    for (PoolWorker* w : workers) {
      if (w != tls_pool_worker) w->thread.join();  // a task may shut down its own pool
    }
  }

 private:
  std::string broken_message() {
    std::lock_guard g(broken_lock_);
    return broken_message_;
  }

  // Called after pending_ was incremented (seq_cst): the seq_cst loads here cannot be
  // reordered before it, which is what the no-lost-wake-up argument above needs.
  void notify_one() {
    if (searching_.load(std::memory_order_seq_cst) > 0) return;  // it will find the task
    if (parked_count_.load(std::memory_order_seq_cst) > 0 && unpark_one()) return;
    if (num_workers_.load(std::memory_order_acquire) < max_workers_ &&
        idle_.load(std::memory_order_relaxed) == 0) {
      spawn_worker();
    }
  }

  bool unpark_one() {
    PoolWorker* w = nullptr;
    {
      std::lock_guard g(idle_lock_);
      if (parked_.empty()) return false;
      w = parked_.back();  // the most recently parked: its cache is the warmest
      parked_.pop_back();
      parked_count_.fetch_sub(1, std::memory_order_relaxed);
    }
    w->wake.store(1, std::memory_order_release);
    futex_wake(w->wake, 1);
    return true;
  }

  void wake_all() {
    std::vector<PoolWorker*> all;
    {
      std::lock_guard g(idle_lock_);
      all.swap(parked_);
      parked_count_.store(0, std::memory_order_relaxed);
    }
    for (PoolWorker* w : all) {
      w->wake.store(1, std::memory_order_release);
      futex_wake(w->wake, 1);
    }
  }

  void spawn_worker() {
    std::lock_guard g(spawn_lock_);
    const int n = num_workers_.load(std::memory_order_relaxed);
    if (n >= max_workers_ || shutdown_.load(std::memory_order_acquire)) return;
    auto* w = new PoolWorker(n);
    owned_.emplace_back(w);
    w->thread = th::Thread(
        th::ThreadOptions{.name = options_.thread_name_prefix + "_" + std::to_string(n),
                          .daemon = false},
        [this, w] { worker_main(w); });
    slots_[static_cast<std::size_t>(n)].store(w, std::memory_order_release);
    num_workers_.store(n + 1, std::memory_order_release);
    w->thread.start();
  }

  void worker_main(PoolWorker* w) {
    tls_worker_owner = owner_;
    tls_worker_index = w->index;
    tls_worker_kind = "ThreadPoolExecutor";
    tls_pool_worker = w;
    if (options_.initializer) {
      try {
        options_.initializer();
      } catch (...) {
        initializer_failed(std::current_exception());
        return;
      }
    }
    for (;;) {
      if (TaskBase* t = find_task(w)) {
        run_task(t);
        continue;
      }
      if (!wait_for_work(w)) return;
    }
  }

  static void run_task(TaskBase* t) {
    auto keep = std::move(t->queue_ref);  // the queue's reference dies after the run
    t->run();
  }

  bool has_work() const noexcept { return pending_.load(std::memory_order_seq_cst) > 0; }

  // Own deque first (oldest first, so work starts in submission order), then a batch from
  // the global FIFO (one lock round trip per batch instead of per task: the submitter and the
  // workers contend for that lock), then half of another worker's deque (its newest end).
  TaskBase* find_task(PoolWorker* w) {
    if (!has_work()) return nullptr;
    {
      std::lock_guard g(w->lock);
      if (!w->local.empty()) {
        TaskBase* t = w->local.front();
        w->local.pop_front();
        pending_.fetch_sub(1, std::memory_order_relaxed);
        return t;
      }
    }
    const int n = num_workers_.load(std::memory_order_acquire);
    TaskBase* first = nullptr;
    TaskBase* batch = nullptr;
    {
      std::lock_guard g(global_lock_);
      if (global_head_ != nullptr) {
        // Take a fair share: the queue split among the workers, at most kMaxBatch.
        const std::size_t take =
            std::min<std::size_t>(kMaxBatch, global_size_ / static_cast<std::size_t>(n) + 1);
        first = global_head_;
        TaskBase* last = first;
        std::size_t taken = 1;
        for (; taken < take && last->next_task != nullptr; ++taken) last = last->next_task;
        global_head_ = last->next_task;
        if (global_head_ == nullptr) global_tail_ = nullptr;
        last->next_task = nullptr;
        global_size_ -= taken;
        batch = first->next_task;  // the rest of the taken chain, or null
      }
    }
    if (first != nullptr) {
      pending_.fetch_sub(1, std::memory_order_relaxed);
      if (batch != nullptr) {
        std::lock_guard g(w->lock);
        for (TaskBase* t = batch; t != nullptr; t = t->next_task) w->local.push_back(t);
      }
      return first;
    }
    for (int k = 1; k < n; ++k) {
      PoolWorker* victim = slots_[static_cast<std::size_t>((w->index + k) % n)].load(
          std::memory_order_acquire);
      std::vector<TaskBase*> stolen;
      {
        std::lock_guard g(victim->lock);
        const std::size_t take = (victim->local.size() + 1) / 2;
        for (std::size_t i = 0; i < take; ++i) {
          stolen.push_back(victim->local.back());
          victim->local.pop_back();
        }
      }
      if (stolen.empty()) continue;
      pending_.fetch_sub(1, std::memory_order_relaxed);
      if (stolen.size() > 1) {
        std::lock_guard g(w->lock);
        for (std::size_t i = stolen.size() - 1; i > 0; --i) w->local.push_back(stolen[i - 1]);
      }
      return stolen.back();
    }
    return nullptr;
  }

  // Returns false when the worker should exit (shutdown and nothing left to run).
  bool wait_for_work(PoolWorker* w) {
    if (shutdown_.load(std::memory_order_acquire) && !has_work()) return false;
    idle_.fetch_add(1, std::memory_order_relaxed);
    // At most one worker searches (spins) at a time; the others park at once. The searcher
    // covers the gap between a submit and the next (a park + wake costs 5-20 us here) without
    // letting idle workers eat the submitter's CPU.
    int expected = 0;
    if (searching_.compare_exchange_strong(expected, 1, std::memory_order_seq_cst)) {
      spin_until([this] { return has_work(); }, std::chrono::microseconds(50));
      searching_.store(0, std::memory_order_seq_cst);
    }
    if (has_work()) {
      idle_.fetch_sub(1, std::memory_order_relaxed);
      // We were searching when the work arrived, so its submitter may not have woken anyone:
      // pass the baton if there is more than we can take.
      if (pending_.load(std::memory_order_relaxed) > 1) notify_one();
      return true;
    }
    {
      std::lock_guard g(idle_lock_);
      w->wake.store(0, std::memory_order_relaxed);
      parked_.push_back(w);
      parked_count_.fetch_add(1, std::memory_order_seq_cst);
    }
    if (has_work() || shutdown_.load(std::memory_order_seq_cst)) {
      std::lock_guard g(idle_lock_);
      const auto it = std::find(parked_.begin(), parked_.end(), w);
      if (it != parked_.end()) {
        parked_.erase(it);
        parked_count_.fetch_sub(1, std::memory_order_relaxed);
      }
    } else {
      while (w->wake.load(std::memory_order_acquire) == 0) futex_wait(w->wake, 0);
    }
    idle_.fetch_sub(1, std::memory_order_relaxed);
    return true;
  }

  void initializer_failed(std::exception_ptr e) {
    const auto info = describe_exception(e);
    std::fprintf(stderr, "Exception in initializer:\n%s: %s\n", info.type.c_str(),
                 info.message.c_str());
    {
      std::lock_guard g(broken_lock_);
      broken_message_ = "A thread initializer failed, the thread pool is not usable anymore";
    }
    broken_.store(true, std::memory_order_release);
    // Fail everything queued, as Python does.
    std::vector<TaskBase*> doomed;
    {
      std::lock_guard g(global_lock_);
      for (TaskBase* t = global_head_; t != nullptr; t = t->next_task) doomed.push_back(t);
      global_head_ = global_tail_ = nullptr;
      global_size_ = 0;
    }
    pending_.fetch_sub(doomed.size(), std::memory_order_seq_cst);
    const auto error =
        std::make_exception_ptr(futures::BrokenThreadPool(broken_message()));
    for (TaskBase* t : doomed) {
      auto keep = std::move(t->queue_ref);
      t->fail_task(error);
    }
  }

  const void* owner_;
  const int max_workers_;
  futures::ThreadPoolOptions options_;

  th::Lock global_lock_;  // guards global_head_/global_tail_, and shutdown_ transitions
  TaskBase* global_head_ = nullptr;
  TaskBase* global_tail_ = nullptr;
  std::size_t global_size_ = 0;
  static constexpr std::size_t kMaxBatch = 32;
  std::atomic<std::size_t> pending_{0};
  std::atomic<bool> shutdown_{false};

  th::Lock idle_lock_;  // guards parked_
  std::vector<PoolWorker*> parked_;
  std::atomic<int> parked_count_{0};
  std::atomic<int> searching_{0};
  std::atomic<int> idle_{0};

  std::mutex spawn_lock_;  // guards owned_ and worker creation
  std::vector<std::unique_ptr<PoolWorker>> owned_;
  std::vector<std::atomic<PoolWorker*>> slots_;  // fixed size: readable without a lock
  std::atomic<int> num_workers_{0};

  std::mutex broken_lock_;
  std::string broken_message_;
  std::atomic<bool> broken_{false};
};

}  // namespace pyconc::detail

namespace pyconc::futures {

int ThreadPoolExecutor::default_max_workers() noexcept {
  return std::min(32, detail::process_cpu_count() + 4);
}

ThreadPoolExecutor::ThreadPoolExecutor() : ThreadPoolExecutor(default_max_workers()) {}

ThreadPoolExecutor::ThreadPoolExecutor(ThreadPoolOptions options)
    : ThreadPoolExecutor(default_max_workers(), std::move(options)) {}

ThreadPoolExecutor::ThreadPoolExecutor(int max_workers, ThreadPoolOptions options) {
  if (max_workers <= 0) throw ValueError("max_workers must be greater than 0");
  core_ = std::make_unique<detail::ThreadPoolCore>(this, max_workers, std::move(options));
}

ThreadPoolExecutor::~ThreadPoolExecutor() = default;  // the core's destructor: shutdown(true)

void ThreadPoolExecutor::shutdown(bool wait, bool cancel_futures) {
  core_->shutdown(wait, cancel_futures);
}

int ThreadPoolExecutor::max_workers() const noexcept { return core_->max_workers(); }
int ThreadPoolExecutor::num_threads() const noexcept { return core_->num_threads(); }

void ThreadPoolExecutor::enqueue(std::shared_ptr<detail::TaskBase> task) {
  core_->enqueue(std::move(task));
}

}  // namespace pyconc::futures
