#include "pyconc/futures/thread_pool_executor.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>
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
// - Work submitted from outside the pool is pushed onto the inbox, a lock-free LIFO stack: a
//   submit is one CAS. An idle worker takes the whole inbox with one exchange, restores
//   submission order, runs the oldest task and keeps the rest in its own deque. Work submitted
//   by a task goes straight to its worker's deque.
// - Each worker's deque is guarded by its own futex Lock: the owner takes the oldest task,
//   idle workers steal the newest half. Busy workers therefore touch shared cache lines about
//   once per batch, not once per task.
// - An idle worker first searches (spins, time-bounded; at most one worker at a time), then
//   parks on its own futex word. A submit wakes a parked worker only if nobody is searching;
//   a worker that found a batch wakes the next one when it has more than it can run at once.
//   So a trickle of tasks wakes one worker, a burst wakes them all, and idle workers burn
//   nothing.
// - No lost wake-ups: a submitter pushes (seq_cst CAS) and then reads the searching and parked
//   counts (seq_cst); a parking worker registers as parked (seq_cst) and then re-reads the
//   inbox and the deques (seq_cst). At least one of them sees the other.
// - Shutdown: submits in flight are counted in submit_state_ (bit 0 = shut down). shutdown()
//   sets the bit and waits for the in-flight count to drain, so once workers see "shut down
//   and no work" no task can still arrive.
struct alignas(64) PoolWorker {
  int index = 0;
  th::Lock lock{pyconc::detail::UntrackedLock{}};  // guards local (a leaf: no lock-order check)
  std::deque<WorkItemBase*> local;                 // this worker's runnable tasks, oldest first
  std::atomic<std::size_t> queued{0};              // local.size(), readable without the lock
  std::atomic<std::uint32_t> wake{0};
  th::Thread thread{[] {}};  // replaced by the real body before start()

  explicit PoolWorker(int i) : index(i) {}
};

inline thread_local PoolWorker* tls_pool_worker = nullptr;

class ThreadPoolCore {
 public:
  ThreadPoolCore(const void* owner, int max_workers, futures::ThreadPoolOptions options)
      : owner_(owner),
        max_workers_(max_workers),
        options_(std::move(options)),
        slots_(static_cast<std::size_t>(max_workers)) {
    static std::atomic<int> counter{0};
    if (options_.thread_name_prefix.empty()) {
      options_.thread_name_prefix = "ThreadPoolExecutor-" + std::to_string(counter++);
    }
  }

  ~ThreadPoolCore() { shutdown(true, false); }

  int max_workers() const noexcept { return max_workers_; }
  int num_threads() const noexcept { return num_workers_.load(std::memory_order_acquire); }

  void enqueue(std::shared_ptr<WorkItemBase> task) {
    if (broken_.load(std::memory_order_acquire)) throw futures::BrokenThreadPool(broken_message());
    // Register as an in-flight submit; refuse if shut down (see the shutdown note above).
    if ((submit_state_.fetch_add(2, std::memory_order_seq_cst) & 1U) != 0) {
      submit_state_.fetch_sub(2, std::memory_order_seq_cst);
      throw RuntimeError("cannot schedule new futures after shutdown");
    }
    WorkItemBase* raw = task.get();
    if (tracing()) [[unlikely]]
      raw->submit_ns = trace_now_ns();
    raw->queue_ref = std::move(task);
    PoolWorker* me = tls_worker_owner == owner_ ? tls_pool_worker : nullptr;
    if (me != nullptr) {
      std::lock_guard g(me->lock);
      me->local.push_back(raw);
      me->queued.store(me->local.size(), std::memory_order_seq_cst);
    } else {
      WorkItemBase* head = inbox_.load(std::memory_order_relaxed);
      do {
        raw->next_task = head;
      } while (!inbox_.compare_exchange_weak(head, raw, std::memory_order_seq_cst,
                                             std::memory_order_relaxed));
    }
    submit_state_.fetch_sub(2, std::memory_order_seq_cst);
    notify_one();
  }

  void shutdown(bool wait, bool cancel_futures) {
    submit_state_.fetch_or(1, std::memory_order_seq_cst);
    // Wait for submits already past their check (a few instructions each) to finish pushing.
    while ((submit_state_.load(std::memory_order_seq_cst) >> 1) != 0) std::this_thread::yield();
    if (cancel_futures) {
      std::vector<WorkItemBase*> cancelled = take_inbox();
      for (int i = 0; i < num_workers_.load(std::memory_order_acquire); ++i) {
        PoolWorker* w = slots_[static_cast<std::size_t>(i)].load(std::memory_order_acquire);
        std::lock_guard g(w->lock);
        cancelled.insert(cancelled.end(), w->local.begin(), w->local.end());
        w->local.clear();
        w->queued.store(0, std::memory_order_seq_cst);
      }
      for (WorkItemBase* t : cancelled) {
        auto keep = std::move(t->queue_ref);
        t->cancel_task();
      }
    }
    wake_all();
    if (!wait) return;
    std::vector<PoolWorker*> workers;
    {
      // After shutdown no worker is added (spawn_worker checks it under this lock), so this
      // snapshot is complete. Join outside the lock: a worker may be in spawn_worker.
      std::lock_guard g(spawn_lock_);
      for (auto& w : owned_) workers.push_back(w.get());
    }
    for (PoolWorker* w : workers) {
      if (w != tls_pool_worker) w->thread.join();  // a task may shut down its own pool
    }
  }

 private:
  bool is_shutdown() const noexcept {
    return (submit_state_.load(std::memory_order_seq_cst) & 1U) != 0;
  }

  std::string broken_message() {
    std::lock_guard g(broken_lock_);
    return broken_message_;
  }

  // Everything in the inbox, oldest first.
  std::vector<WorkItemBase*> take_inbox() {
    std::vector<WorkItemBase*> out;
    for (WorkItemBase* t = inbox_.exchange(nullptr, std::memory_order_seq_cst); t != nullptr;
         t = t->next_task) {
      out.push_back(t);
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

  // Called after a push (seq_cst): the seq_cst loads here are not reordered before it, which
  // is what the no-lost-wake-up argument above needs.
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
    if (n >= max_workers_ || is_shutdown()) return;
    auto* w = new PoolWorker(n);
    owned_.emplace_back(w);
    w->thread =
        th::Thread(th::ThreadOptions{.name = options_.thread_name_prefix + "_" + std::to_string(n),
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
    if (tracing()) [[unlikely]]
      trace_thread_name(options_.thread_name_prefix + "_" + std::to_string(w->index));
    if (options_.initializer) {
      try {
        options_.initializer();
      } catch (...) {
        initializer_failed(std::current_exception());
        return;
      }
    }
    for (;;) {
      if (WorkItemBase* t = find_task(w)) {
        run_task(t);
        continue;
      }
      if (!wait_for_work(w)) return;
    }
  }

  static void run_task(WorkItemBase* t) {
    auto keep = std::move(t->queue_ref);  // the queue's reference dies after the run
    t->run();
  }

  bool has_work() const noexcept {
    if (inbox_.load(std::memory_order_seq_cst) != nullptr) return true;
    const int n = num_workers_.load(std::memory_order_acquire);
    for (int i = 0; i < n; ++i) {
      if (slots_[static_cast<std::size_t>(i)]
              .load(std::memory_order_acquire)
              ->queued.load(std::memory_order_seq_cst) != 0) {
        return true;
      }
    }
    return false;
  }

  static WorkItemBase* pop_own(PoolWorker* w) {
    if (w->queued.load(std::memory_order_relaxed) == 0) return nullptr;
    std::lock_guard g(w->lock);
    if (w->local.empty()) return nullptr;
    WorkItemBase* t = w->local.front();
    w->local.pop_front();
    w->queued.store(w->local.size(), std::memory_order_relaxed);
    return t;
  }

  // Own deque first (oldest first, so work starts in submission order), then the whole inbox,
  // then the newest half of another worker's deque.
  WorkItemBase* find_task(PoolWorker* w) {
    if (WorkItemBase* t = pop_own(w)) return t;
    if (inbox_.load(std::memory_order_relaxed) != nullptr) {
      std::vector<WorkItemBase*> batch = take_inbox();
      if (!batch.empty()) {
        if (batch.size() > 1) {
          {
            std::lock_guard g(w->lock);
            w->local.insert(w->local.end(), batch.begin() + 1, batch.end());
            w->queued.store(w->local.size(), std::memory_order_seq_cst);
          }
          notify_one();  // more than we can run at once: let an idle worker steal some
        }
        return batch.front();
      }
    }
    const int n = num_workers_.load(std::memory_order_acquire);
    for (int k = 1; k < n; ++k) {
      PoolWorker* victim =
          slots_[static_cast<std::size_t>((w->index + k) % n)].load(std::memory_order_acquire);
      if (victim->queued.load(std::memory_order_relaxed) == 0) continue;
      std::vector<WorkItemBase*> stolen;  // newest first
      {
        std::lock_guard g(victim->lock);
        const std::size_t take = (victim->local.size() + 1) / 2;
        for (std::size_t i = 0; i < take; ++i) {
          stolen.push_back(victim->local.back());
          victim->local.pop_back();
        }
        victim->queued.store(victim->local.size(), std::memory_order_relaxed);
      }
      if (stolen.empty()) continue;
      if (stolen.size() > 1) {
        std::lock_guard g(w->lock);
        w->local.insert(w->local.end(), stolen.rbegin() + 1, stolen.rend());
        w->queued.store(w->local.size(), std::memory_order_seq_cst);
      }
      return stolen.back();  // the oldest of the stolen half
    }
    return nullptr;
  }

  // Returns false when the worker should exit (shutdown and nothing left to run).
  bool wait_for_work(PoolWorker* w) {
    if (is_shutdown() && !has_work()) return false;
    idle_.fetch_add(1, std::memory_order_relaxed);
    // At most one worker searches (spins) at a time; the others park at once. The searcher
    // covers the gap between a submit and the next (a park + wake costs 5-20 us here) without
    // letting idle workers eat the submitter's CPU.
    int expected = 0;
    if (searching_.compare_exchange_strong(expected, 1, std::memory_order_seq_cst)) {
      // Polls back off (up to 64 pauses apart): each poll of the inbox takes its cache line
      // away from the submitter, whose next push then pays a miss.
      int gap = 1;
      spin_until(
          [&] {
            if (has_work()) return true;
            for (int i = 0; i < gap; ++i) cpu_relax();
            gap = std::min(gap * 2, 64);
            return false;
          },
          std::chrono::microseconds(50));
      searching_.store(0, std::memory_order_seq_cst);
    }
    if (has_work()) {
      idle_.fetch_sub(1, std::memory_order_relaxed);
      return true;
    }
    {
      std::lock_guard g(idle_lock_);
      w->wake.store(0, std::memory_order_relaxed);
      parked_.push_back(w);
      parked_count_.fetch_add(1, std::memory_order_seq_cst);
    }
    if (has_work() || is_shutdown()) {
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
    broken_.store(true, std::memory_order_seq_cst);
    // Fail everything queued, as Python does.
    const auto error = std::make_exception_ptr(futures::BrokenThreadPool(broken_message()));
    for (WorkItemBase* t : take_inbox()) {
      auto keep = std::move(t->queue_ref);
      t->fail_task(error);
    }
  }

  const void* owner_;
  const int max_workers_;
  futures::ThreadPoolOptions options_;

  // Each on its own cache line: workers poll inbox_ while submitters write submit_state_ on
  // every submit, and a shared line would make every submit pay for the polling.
  alignas(64) std::atomic<WorkItemBase*> inbox_{nullptr};  // submissions from outside, newest first
  alignas(64) std::atomic<std::uint64_t> submit_state_{0};  // bit 0: shut down; >> 1: in flight
  alignas(64) char pad_ [[maybe_unused]] = 0;  // keeps the next member off submit_state_'s line

  th::Lock idle_lock_{pyconc::detail::UntrackedLock{}};  // guards parked_ (a leaf)
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

int ThreadPoolExecutor::max_workers() const noexcept {
  return core_->max_workers();
}
int ThreadPoolExecutor::num_threads() const noexcept {
  return core_->num_threads();
}

void ThreadPoolExecutor::enqueue(std::shared_ptr<detail::WorkItemBase> task) {
  core_->enqueue(std::move(task));
}

}  // namespace pyconc::futures
