// pyconc/queue/detail/basic_queue.hpp -- the one blocking-queue engine behind Queue,
// LifoQueue, PriorityQueue and SimpleQueue.
//
// BasicQueue<Store, Joinable> holds the locking, waiting, task accounting and shutdown logic
// once; the four public queues differ only in their Store (which item get() takes: FIFO ring,
// LIFO vector, binary heap) and in whether task_done()/join() exist (Joinable). This mirrors
// CPython, where LifoQueue and PriorityQueue override only _put/_get/_qsize of Queue.
//
// Implementation: one pyconc::threading::Lock guards the store, the unfinished-task counter
// and the sleeper counts. A thread that must wait first spins for a while without the lock on
// lock-free hints (the store's item count, an atomic written only under the lock, and the
// shutdown flag); only then does it park on a futex word, one per wait list (getters, putters,
// joiners). A thread that changes the state wakes a list only if that list's sleeper count,
// read under the lock, is non-zero, so an uncontended put or get is one lock acquire/release
// and never enters the kernel, and a hand-off to a spinning thread costs no system call.
//
// Why no wake-up is lost (for each list L with futex word L.seq and sleeper count L.sleepers):
//  * A waiter, holding the lock, finds its condition false, increments L.sleepers and reads
//    s = L.seq, then releases the lock and calls futex_wait(L.seq, s).
//  * A thread that makes the condition true does so holding the lock and, in the same critical
//    section, reads L.sleepers. If it is non-zero, it increments L.seq (after releasing the
//    lock) and calls futex_wake.
//  * The lock orders the two critical sections. If the waiter's came first, the waker sees the
//    waiter counted, and its increment of L.seq happens after the waiter read s: the kernel's
//    futex_wait either finds L.seq != s and returns at once, or is already asleep and is woken
//    by the futex_wake that follows the increment (if that wake picks another sleeper, the
//    extra return is harmless: everyone re-checks). If the waker's came first, the waiter sees
//    the condition true under the lock and does not sleep at all.
//  * A woken waiter re-checks its condition under the lock before looking at its deadline, so
//    a wake-up is never spent on a thread that then reports a timeout while an item (or slot)
//    is there. Each put wakes one getter and each get wakes one putter, since each makes
//    exactly one item or slot available; a woken thread that finds it already taken by a
//    thread that never slept goes back to sleep (the taker used it). shutdown() and the last
//    task_done() wake every sleeper of the lists concerned.
//  * Spinning threads are not counted as sleepers: they poll the hints, then take the lock and
//    re-check like everyone else, so they need no wake-up and cost the waker nothing.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "pyconc/detail/adaptive_spin.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/futex.hpp"
#include "pyconc/detail/queue_stores.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/queue/exceptions.hpp"
#include "pyconc/threading/lock.hpp"

namespace pyconc::detail {

// --- How long an operation may wait. ------------------------------------------------------

struct NoWait {};   // *_nowait and try_*() without a timeout
struct Forever {};  // blocking put() / get() / join()

template <class Rep, class Period>
struct Within {  // timed calls
  std::chrono::duration<Rep, Period> timeout;

  explicit Within(std::chrono::duration<Rep, Period> t) : timeout(t) {
    // Validate now, even if the call will not have to wait; deadline_after throws the
    // ValueError ("'timeout' must be a non-negative duration") shared by every pyconc call.
    // The deadline itself is computed only when the call has to wait.
    if (t < std::chrono::duration<Rep, Period>::zero()) (void)pyconc::detail::deadline_after(t);
  }
};

template <class W>
inline constexpr bool kIsNoWait = std::is_same_v<W, NoWait>;
template <class W>
inline constexpr bool kIsForever = std::is_same_v<W, Forever>;

// Why a put or get did not happen.
enum class Status { kOk, kTimeout, kShutDown };

// --- The engine. -------------------------------------------------------------------------

template <class Store, bool Joinable = true>
class alignas(64) BasicQueue {
 public:
  using value_type = typename Store::value_type;

  // maxsize <= 0 means unbounded, as in Python. Any further arguments construct the store
  // (PriorityQueue's comparator).
  template <class... StoreArgs>
  explicit BasicQueue(std::ptrdiff_t maxsize = 0, StoreArgs&&... store_args)
      : maxsize_(maxsize), store_(std::forward<StoreArgs>(store_args)...) {}
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;
  // Destroying a queue while a thread is still inside one of its calls is undefined, as for
  // any object.
  ~BasicQueue() = default;

  // --- put ------------------------------------------------------------------------------

  // put(item): adds the item, waiting for a free slot while the queue is full.
  // ShutDown if the queue is (or, while waiting, gets) shut down.
  void put(const value_type& item) { put_or_throw(Forever{}, "put", item); }
  void put(value_type&& item) { put_or_throw(Forever{}, "put", std::move(item)); }

  // put(item, timeout): as put(), but waits at most `timeout` for a slot; Full after that.
  // ValueError for a negative timeout. An rvalue item is moved from only if it was added.
  template <class Rep, class Period>
  void put(const value_type& item, std::chrono::duration<Rep, Period> timeout) {
    put_or_throw(Within<Rep, Period>(timeout), "put", item);
  }
  template <class Rep, class Period>
  void put(value_type&& item, std::chrono::duration<Rep, Period> timeout) {
    put_or_throw(Within<Rep, Period>(timeout), "put", std::move(item));
  }

  // put_nowait(item): adds the item only if a slot is free right now, else Full.
  void put_nowait(const value_type& item) { put_or_throw(NoWait{}, "put_nowait", item); }
  void put_nowait(value_type&& item) { put_or_throw(NoWait{}, "put_nowait", std::move(item)); }

  // emplace(args...): put() of value_type(args...), constructed in place once a slot is free.
  template <class... Args>
  void emplace(Args&&... args) {
    put_or_throw(Forever{}, "emplace", std::forward<Args>(args)...);
  }

  // try_put(item[, timeout]): put_nowait() / put(item, timeout) that report failure instead of
  // throwing: false when the queue stayed full or is shut down (is_shutdown() tells which).
  // The item is left untouched on failure. ValueError for a negative timeout.
  bool try_put(const value_type& item) { return put_impl(NoWait{}, item) == Status::kOk; }
  bool try_put(value_type&& item) { return put_impl(NoWait{}, std::move(item)) == Status::kOk; }
  template <class Rep, class Period>
  bool try_put(const value_type& item, std::chrono::duration<Rep, Period> timeout) {
    return put_impl(Within<Rep, Period>(timeout), item) == Status::kOk;
  }
  template <class Rep, class Period>
  bool try_put(value_type&& item, std::chrono::duration<Rep, Period> timeout) {
    return put_impl(Within<Rep, Period>(timeout), std::move(item)) == Status::kOk;
  }

  // --- get ------------------------------------------------------------------------------

  // get(): removes and returns the next item, waiting while the queue is empty. ShutDown once
  // the queue is shut down and empty (items put before a non-immediate shutdown are still
  // handed out).
  value_type get() { return get_or_throw(Forever{}, "get"); }
  // get(timeout): as get(), but waits at most `timeout`; Empty after that. ValueError for a
  // negative timeout.
  template <class Rep, class Period>
  value_type get(std::chrono::duration<Rep, Period> timeout) {
    return get_or_throw(Within<Rep, Period>(timeout), "get");
  }
  // get_nowait(): the next item if there is one right now, else Empty (ShutDown if shut down
  // and empty).
  value_type get_nowait() { return get_or_throw(NoWait{}, "get_nowait"); }

  // try_get([timeout]): get_nowait() / get(timeout) that report failure instead of throwing:
  // nullopt when no item came in time or the queue is shut down and empty (is_shutdown()
  // tells which). ValueError for a negative timeout.
  std::optional<value_type> try_get() {
    Status status = Status::kOk;
    return get_impl(NoWait{}, status);
  }
  template <class Rep, class Period>
  std::optional<value_type> try_get(std::chrono::duration<Rep, Period> timeout) {
    Status status = Status::kOk;
    return get_impl(Within<Rep, Period>(timeout), status);
  }

  // --- task accounting (Queue, LifoQueue, PriorityQueue) --------------------------------

  // task_done(): tells the queue that one item previously taken by get() is fully processed.
  // When every item ever put has been marked done, join() returns. ValueError("task_done()
  // called too many times") if there is no unfinished task.
  void task_done() requires Joinable {
    bool wake_joiners = false;
    {
      Guard lk(mutex_);
      if (unfinished_ == 0) throw ValueError("task_done() called too many times");
      --unfinished_;
      wake_joiners = unfinished_ == 0 && joiners_sleeping_ != 0;
    }
    if (wake_joiners) wake(joiners_seq_, kAll);
  }

  // join(): blocks until every item put so far has been marked done with task_done() (or
  // drained by shutdown(true)).
  void join() requires Joinable { join_impl(Forever{}); }
  // join(timeout): as join(), but waits at most `timeout`; returns whether all tasks were done.
  // A C++ extension (Python's join() has no timeout). ValueError for a negative timeout.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) requires Joinable {
    return join_impl(Within<Rep, Period>(timeout));
  }

  // The number of items put and not yet marked done (Python: the unfinished_tasks attribute).
  std::size_t unfinished_tasks() const requires Joinable {
    Guard lk(mutex_);
    return unfinished_;
  }

  // --- shutdown (Python 3.13) -----------------------------------------------------------

  // shutdown(immediate=false): from now on put() raises ShutDown, and get() raises ShutDown
  // once the queue is empty; threads blocked in put() wake and raise ShutDown, threads blocked
  // in get() wake and take what is left or raise ShutDown. With immediate=true the remaining
  // items are removed at once (and destroyed, outside the lock) and each counts as a finished
  // task, so join() returns if no item taken earlier is still unfinished. Idempotent.
  void shutdown(bool immediate = false) {
    typename Store::container_type drained;  // destroyed after the lock is released
    bool wake_getters = false;
    bool wake_putters = false;
    bool wake_joiners = false;
    {
      Guard lk(mutex_);
      shutdown_.store(true, std::memory_order_relaxed);
      if (immediate) {
        drained = store_.take_all();
        if constexpr (Joinable) {
          unfinished_ -= drained.size() < unfinished_ ? drained.size() : unfinished_;
          wake_joiners = unfinished_ == 0 && joiners_sleeping_ != 0;
        }
      }
      wake_getters = getters_sleeping_ != 0;
      wake_putters = putters_sleeping_ != 0;
    }
    if (wake_getters) wake(getters_seq_, kAll);
    if (wake_putters) wake(putters_seq_, kAll);
    if (wake_joiners) wake(joiners_seq_, kAll);
  }

  // Whether shutdown() has been called (Python: the is_shutdown attribute).
  bool is_shutdown() const noexcept { return shutdown_.load(std::memory_order_relaxed); }

  // --- size -----------------------------------------------------------------------------

  // The number of items (a snapshot taken without the lock; as in Python it may be stale by
  // the time it is used, and it is not a synchronisation point).
  std::size_t qsize() const noexcept { return store_.size_hint(); }
  bool empty() const noexcept { return qsize() == 0; }
  bool full() const noexcept { return at_capacity(qsize()); }
  // The maxsize given at construction (<= 0: unbounded).
  std::ptrdiff_t maxsize() const noexcept { return maxsize_; }

 private:
  using Guard = std::unique_lock<threading::Lock>;
  static constexpr int kAll = 0x7fffffff;

  bool at_capacity(std::size_t size) const noexcept {
    return maxsize_ > 0 && size >= static_cast<std::size_t>(maxsize_);
  }

  static void wake(std::atomic<std::uint32_t>& seq, int count) noexcept {
    // Relaxed is enough: the waker read the sleeper count in a critical section that the lock
    // orders after the sleeper's read of seq, and the kernel compares seq atomically.
    seq.fetch_add(1, std::memory_order_relaxed);
    pyconc::detail::futex_wake(seq, count);
  }

  // Waits, with `lk` held on entry and on return, until ready() (evaluated under the lock) is
  // true; returns false if the wait's deadline passed first (at once for NoWait). If `spin`,
  // first polls hint() (a lock-free guess at ready()) for a while without the lock; then parks
  // on the futex word `seq`, counted in `sleeping`. See the file comment for why no wake-up is
  // lost.
  template <class Wait, class Ready, class Hint>
  bool wait_until(Guard& lk, std::uint32_t& sleeping, std::atomic<std::uint32_t>& seq,
                  const Wait& wait, bool spin, Ready ready, Hint hint) {
    if constexpr (kIsNoWait<Wait>) {
      return false;
    } else {
      pyconc::detail::Clock::time_point deadline = pyconc::detail::Clock::time_point::max();
      if constexpr (!kIsForever<Wait>) {
        if (wait.timeout == decltype(wait.timeout)::zero()) return false;
        deadline = pyconc::detail::deadline_after(wait.timeout);
      }
      if (spin) spin_until(lk, hint);
      while (!ready()) {
        if constexpr (!kIsForever<Wait>) {
          if (pyconc::detail::Clock::now() >= deadline) return false;
        }
        ++sleeping;
        const std::uint32_t seen = seq.load(std::memory_order_relaxed);
        lk.unlock();
        pyconc::detail::futex_wait(seq, seen, kIsForever<Wait> ? nullptr : &deadline);
        lk.lock();
        --sleeping;
      }
      return true;
    }
  }

  // Polls hint() without the lock for up to the adaptive spin budget (detail/adaptive_spin.hpp),
  // then re-takes the lock. The poll also waits for the lock to be free, so that the spinner
  // does not pull the lock's cache line away from a thread still inside its critical section.
  template <class Hint>
  void spin_until(Guard& lk, Hint hint) {
    lk.unlock();
    spin_.spin([&] { return hint() && !mutex_.locked(); });
    lk.lock();
  }

  template <class Wait, class... Args>
  Status put_impl(const Wait& wait, Args&&... args) {
    bool wake_getter = false;
    {
      Guard lk(mutex_);
      if (shutdown_.load(std::memory_order_relaxed)) return Status::kShutDown;
      if (at_capacity(store_.size())) {
        const bool ready = wait_until(
            lk, putters_sleeping_, putters_seq_, wait, /*spin=*/true,
            [this] {
              return !at_capacity(store_.size()) || shutdown_.load(std::memory_order_relaxed);
            },
            [this] {
              return !at_capacity(store_.size_hint()) || shutdown_.load(std::memory_order_relaxed);
            });
        if (!ready) return Status::kTimeout;
        if (shutdown_.load(std::memory_order_relaxed)) return Status::kShutDown;
      }
      store_.push(std::forward<Args>(args)...);
      if constexpr (Joinable) ++unfinished_;
      wake_getter = getters_sleeping_ != 0;
    }
    // One new item: one getter can use it.
    if (wake_getter) wake(getters_seq_, 1);
    return Status::kOk;
  }

  template <class Wait>
  std::optional<value_type> get_impl(const Wait& wait, Status& status) {
    std::optional<value_type> item;
    bool wake_putter = false;
    {
      Guard lk(mutex_);
      if (store_.size() == 0) {
        status = Status::kShutDown;
        if (shutdown_.load(std::memory_order_relaxed)) return item;
        const bool ready = wait_until(
            lk, getters_sleeping_, getters_seq_, wait, /*spin=*/true,
            [this] { return store_.size() != 0 || shutdown_.load(std::memory_order_relaxed); },
            [this] {
              return store_.size_hint() != 0 || shutdown_.load(std::memory_order_relaxed);
            });
        if (!ready) {
          status = Status::kTimeout;
          return item;
        }
        if (store_.size() == 0) return item;  // shut down and empty
      }
      store_.pop_into(item);
      wake_putter = putters_sleeping_ != 0;
    }
    // One slot freed: one putter can use it.
    if (wake_putter) wake(putters_seq_, 1);
    status = Status::kOk;
    return item;
  }

  template <class Wait>
  bool join_impl(const Wait& wait) {
    Guard lk(mutex_);
    if (unfinished_ == 0) return true;
    // No spinning: join() waits for whole tasks, which take far longer than a spin.
    return wait_until(
        lk, joiners_sleeping_, joiners_seq_, wait, /*spin=*/false,
        [this] { return unfinished_ == 0; }, [] { return false; });
  }

  [[noreturn]] void throw_put_failure(Status status, const char* call) const {
    if (status == Status::kShutDown) {
      throw queue::ShutDown(std::string(call) + "(): the queue is shut down");
    }
    throw queue::Full(std::string(call) + "(): the queue is full (maxsize " +
                      std::to_string(maxsize_) + ")");
  }

  [[noreturn]] static void throw_get_failure(Status status, const char* call) {
    if (status == Status::kShutDown) {
      throw queue::ShutDown(std::string(call) + "(): the queue is shut down and empty");
    }
    throw queue::Empty(std::string(call) + "(): the queue is empty");
  }

  template <class Wait, class... Args>
  void put_or_throw(const Wait& wait, const char* call, Args&&... args) {
    const Status status = put_impl(wait, std::forward<Args>(args)...);
    if (status != Status::kOk) throw_put_failure(status, call);
  }

  template <class Wait>
  value_type get_or_throw(const Wait& wait, const char* call) {
    Status status = Status::kOk;
    std::optional<value_type> item = get_impl(wait, status);
    if (!item) throw_get_failure(status, call);
    return std::move(*item);
  }

  // The first cache line holds everything a put or get touches (for FifoStore, whose ring is
  // 32 bytes), so that a hand-off between two threads moves this line and the item's slot.
  mutable threading::Lock mutex_{detail::UntrackedLock{}};  // a leaf: no lock-order check
  std::uint32_t getters_sleeping_ = 0;                      // guarded by mutex_
  std::uint32_t putters_sleeping_ = 0;                      // guarded by mutex_
  std::atomic<bool> shutdown_{false};  // written under mutex_, read lock-free as a hint
  const std::ptrdiff_t maxsize_;
  std::size_t unfinished_ = 0;  // guarded by mutex_; only used when Joinable
  Store store_;                 // guarded by mutex_, except its size_hint()
  // Colder: touched only by threads that park or spin, and by task_done()/join().
  std::uint32_t joiners_sleeping_ = 0;         // guarded by mutex_
  std::atomic<std::uint32_t> getters_seq_{0};  // futex words, bumped before each wake
  std::atomic<std::uint32_t> putters_seq_{0};
  std::atomic<std::uint32_t> joiners_seq_{0};
  pyconc::detail::AdaptiveSpin spin_;
};

}  // namespace pyconc::detail
