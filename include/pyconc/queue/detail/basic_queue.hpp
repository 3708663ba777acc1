// pyconc/queue/detail/basic_queue.hpp -- the one blocking-queue engine behind Queue,
// LifoQueue, PriorityQueue and SimpleQueue.
//
// BasicQueue<Store, Joinable> holds the locking, waiting, task accounting and shutdown logic
// once; the four public queues differ only in their Store (which item get() takes: FIFO deque,
// LIFO vector, binary heap) and in whether task_done()/join() exist (Joinable). This mirrors
// CPython, where LifoQueue and PriorityQueue override only _put/_get/_qsize of Queue.
//
// Implementation: a pyconc::threading::Lock guards the store, the unfinished-task counter and
// the sleeper counts. Threads that must wait first spin briefly on lock-free hints (an atomic
// mirror of the size and the shutdown flag) without taking the lock; only then do they park on
// a futex word, one per wait list (getters, putters, joiners). A thread that changes the state
// wakes a list only if that list's sleeper count, read under the lock, is non-zero, so the
// uncontended put and get are one lock acquire/release each and never enter the kernel.
//
// Why no wake-up is lost (for each list L with futex word L.seq and sleeper count L.sleepers):
//  * A waiter, holding the lock, finds its condition false, increments L.sleepers and reads
//    s = L.seq, then releases the lock and calls futex_wait(L.seq, s).
//  * A thread that makes the condition true does so holding the lock and, in the same critical
//    section, reads L.sleepers. If it is non-zero it increments L.seq (after releasing the lock)
//    and calls futex_wake.
//  * The lock orders the two critical sections. If the waiter's came first, the waker sees the
//    waiter counted, and its increment of L.seq happens after the waiter read s: the kernel's
//    futex_wait either finds L.seq != s and returns at once, or is already asleep and is woken
//    by the futex_wake that follows the increment. If the waker's came first, the waiter sees
//    the condition true under the lock and does not sleep at all.
//  * A woken waiter re-checks its condition under the lock before anything else (even if its
//    deadline has passed), so a wake-up is never wasted on a thread that then reports a
//    timeout while an item (or slot) is available. Each put wakes one getter and each get wakes
//    one putter, since each frees exactly one item or slot; a woken thread that finds it taken
//    by a non-sleeping thread just goes back to sleep (the taker used it). shutdown() and the
//    last task_done() wake everybody on the lists concerned.
// Spinning threads are not counted as sleepers: they poll the hints and then take the lock and
// re-check, so they need no wake-up and cost the waker nothing.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/futex.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/queue/exceptions.hpp"
#include "pyconc/threading/lock.hpp"

namespace pyconc::queue::detail {

// --- Stores: the ordering policy. Called only with the queue's lock held. -----------------

// First in, first out (Python: collections.deque, append / popleft).
template <class T>
class FifoStore {
 public:
  using value_type = T;
  using container_type = std::deque<T>;

  template <class... Args>
  void push(Args&&... args) {
    items_.emplace_back(std::forward<Args>(args)...);
  }
  void pop_into(std::optional<T>& out) {
    out.emplace(std::move(items_.front()));
    items_.pop_front();
  }
  std::size_t size() const noexcept { return items_.size(); }
  // Removes every item and hands them over, so they can be destroyed outside the lock.
  container_type take_all() noexcept {
    container_type out;
    out.swap(items_);
    return out;
  }

 private:
  container_type items_;
};

// Last in, first out (Python: list, append / pop).
template <class T>
class LifoStore {
 public:
  using value_type = T;
  using container_type = std::vector<T>;

  template <class... Args>
  void push(Args&&... args) {
    items_.emplace_back(std::forward<Args>(args)...);
  }
  void pop_into(std::optional<T>& out) {
    out.emplace(std::move(items_.back()));
    items_.pop_back();
  }
  std::size_t size() const noexcept { return items_.size(); }
  container_type take_all() noexcept {
    container_type out;
    out.swap(items_);
    return out;
  }

 private:
  container_type items_;
};

// Smallest first according to Compare (Python: heapq.heappush / heappop on a list). The
// std:: heap algorithms build a max-heap, so they are given the comparator with its arguments
// swapped. Items with equal priority come out in no particular order, as in Python. The
// comparator must not throw, or the heap may be left unordered.
template <class T, class Compare>
class PriorityStore {
 public:
  using value_type = T;
  using container_type = std::vector<T>;

  PriorityStore() = default;
  explicit PriorityStore(Compare compare) : after_{std::move(compare)} {}

  template <class... Args>
  void push(Args&&... args) {
    items_.emplace_back(std::forward<Args>(args)...);
    std::push_heap(items_.begin(), items_.end(), after_);
  }
  void pop_into(std::optional<T>& out) {
    std::pop_heap(items_.begin(), items_.end(), after_);
    out.emplace(std::move(items_.back()));
    items_.pop_back();
  }
  std::size_t size() const noexcept { return items_.size(); }
  container_type take_all() noexcept {
    container_type out;
    out.swap(items_);
    return out;
  }

 private:
  // "a comes after b": the strict weak order of Compare, reversed.
  struct After {
    [[no_unique_address]] Compare compare;
    bool operator()(const T& a, const T& b) const { return compare(b, a); }
  };

  container_type items_;
  After after_{};
};

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
class BasicQueue {
 public:
  using value_type = typename Store::value_type;

  // maxsize <= 0 means unbounded, as in Python.
  explicit BasicQueue(std::ptrdiff_t maxsize = 0, Store store = Store())
      : capacity_(maxsize > 0 ? static_cast<std::size_t>(maxsize)
                              : std::numeric_limits<std::size_t>::max()),
        maxsize_(maxsize),
        store_(std::move(store)) {}
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
  void task_done()
    requires Joinable
  {
    bool wake_joiners = false;
    {
      std::unique_lock lk(mutex_);
      if (unfinished_ == 0) throw ValueError("task_done() called too many times");
      --unfinished_;
      wake_joiners = unfinished_ == 0 && joiners_.sleepers != 0;
    }
    if (wake_joiners) wake(joiners_, kAll);
  }

  // join(): blocks until every item put so far has been marked done with task_done() (or
  // drained by shutdown(true)).
  void join()
    requires Joinable
  {
    join_impl(Forever{});
  }
  // join(timeout): as join(), but waits at most `timeout`; returns whether all tasks were done.
  // A C++ extension (Python's join() has no timeout). ValueError for a negative timeout.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout)
    requires Joinable
  {
    return join_impl(Within<Rep, Period>(timeout));
  }

  // The number of items put and not yet marked done (Python: the unfinished_tasks attribute).
  std::size_t unfinished_tasks() const
    requires Joinable
  {
    std::unique_lock lk(mutex_);
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
    std::uint32_t getters = 0;
    std::uint32_t putters = 0;
    bool wake_joiners = false;
    {
      std::unique_lock lk(mutex_);
      shutdown_.store(true, std::memory_order_relaxed);
      if (immediate) {
        drained = store_.take_all();
        size_.store(0, std::memory_order_relaxed);
        if constexpr (Joinable) {
          unfinished_ -= std::min(unfinished_, drained.size());
          wake_joiners = unfinished_ == 0 && joiners_.sleepers != 0;
        }
      }
      getters = getters_.sleepers;
      putters = putters_.sleepers;
    }
    if (getters != 0) wake(getters_, kAll);
    if (putters != 0) wake(putters_, kAll);
    if (wake_joiners) wake(joiners_, kAll);
  }

  // Whether shutdown() has been called (Python: the is_shutdown attribute).
  bool is_shutdown() const noexcept { return shutdown_.load(std::memory_order_relaxed); }

  // --- size -----------------------------------------------------------------------------

  // The number of items (a snapshot taken without the lock; as in Python it may be stale by
  // the time it is used, and it is not a synchronisation point).
  std::size_t qsize() const noexcept { return size_.load(std::memory_order_relaxed); }
  bool empty() const noexcept { return qsize() == 0; }
  bool full() const noexcept { return maxsize_ > 0 && qsize() >= capacity_; }
  // The maxsize given at construction (<= 0: unbounded).
  std::ptrdiff_t maxsize() const noexcept { return maxsize_; }

 private:
  using Guard = std::unique_lock<threading::Lock>;
  static constexpr int kAll = 0x7fffffff;

  // One list of parked threads: a futex word to sleep on and how many sleep (or are about to).
  struct WaitList {
    std::uint32_t sleepers = 0;         // guarded by mutex_
    std::atomic<std::uint32_t> seq{0};  // the futex word; bumped before each wake
  };

  static void wake(WaitList& list, int count) noexcept {
    // Relaxed is enough: the waker read list.sleepers in a critical section that the lock
    // orders after the sleeper's read of seq, and the kernel compares seq atomically.
    list.seq.fetch_add(1, std::memory_order_relaxed);
    pyconc::detail::futex_wake(list.seq, count);
  }

  // Waits, with `lk` held on entry and on return, until ready() (evaluated under the lock) is
  // true; returns false if the wait's deadline passed first (at once for NoWait). First spins
  // without the lock for up to `spins` polls of hint() (a lock-free guess at ready()), then
  // parks on `list`. See the file comment for why no wake-up is lost.
  template <class Wait, class Ready, class Hint>
  bool wait_until(Guard& lk, WaitList& list, const Wait& wait, bool spin, Ready ready,
                  Hint hint) {
    if constexpr (kIsNoWait<Wait>) {
      return false;
    } else {
      pyconc::detail::Clock::time_point deadline = pyconc::detail::Clock::time_point::max();
      if constexpr (!kIsForever<Wait>) {
        if (wait.timeout == decltype(wait.timeout)::zero()) return false;
        deadline = pyconc::detail::deadline_after(wait.timeout);
      }
      if (spin) {
        const int budget = spin_budget_.load(std::memory_order_relaxed);
        if (budget > 0) {
          lk.unlock();
          int polls = 0;
          while (polls < budget && !hint()) {
            pyconc::detail::cpu_relax();
            ++polls;
          }
          lk.lock();
          adapt_spin(budget, /*paid_off=*/polls < budget);
        }
      }
      while (!ready()) {
        if constexpr (!kIsForever<Wait>) {
          if (pyconc::detail::Clock::now() >= deadline) return false;
        }
        ++list.sleepers;
        const std::uint32_t seq = list.seq.load(std::memory_order_relaxed);
        lk.unlock();
        pyconc::detail::futex_wait(list.seq, seq, kIsForever<Wait> ? nullptr : &deadline);
        lk.lock();
        --list.sleepers;
      }
      return true;
    }
  }

  // Spinning pays when the thread we wait for runs on another core and acts within a few
  // microseconds (a ping-pong between two cores); it only burns a time slice when that thread
  // shares our core or is descheduled (an oversubscribed machine). The budget adapts, like
  // glibc's adaptive mutex: doubled when a spin saw the condition come true, halved when it
  // had to park anyway, within [max/64, max/4] of detail::spin_limit() (0 on one CPU). Racy
  // updates are harmless: it is a heuristic read and written with relaxed atomics.
  static int max_spin() noexcept {
#ifdef QEXP_SPIN_DIV
    return pyconc::detail::spin_limit() / QEXP_SPIN_DIV;
#else
    return pyconc::detail::spin_limit() / 4;
#endif
  }
  static int min_spin() noexcept {
#ifdef QEXP_SPIN_MIN
    return pyconc::detail::spin_limit() / QEXP_SPIN_MIN;
#else
    return pyconc::detail::spin_limit() / 64;
#endif
  }
  void adapt_spin(int budget, bool paid_off) noexcept {
    const int next = paid_off ? std::min(budget * 2, max_spin()) : std::max(budget / 2, min_spin());
    if (next != budget) spin_budget_.store(next, std::memory_order_relaxed);
  }

  bool full_locked() const noexcept { return store_.size() >= capacity_; }

  template <class Wait, class... Args>
  Status put_impl(const Wait& wait, Args&&... args) {
    std::uint32_t getters = 0;
    {
      Guard lk(mutex_);
      if (shutdown_.load(std::memory_order_relaxed)) return Status::kShutDown;
      if (full_locked()) {
        const bool ready = wait_until(
            lk, putters_, wait, /*spin=*/true,
            [this] { return !full_locked() || shutdown_.load(std::memory_order_relaxed); },
            [this] {
              return size_.load(std::memory_order_relaxed) < capacity_ ||
                     shutdown_.load(std::memory_order_relaxed);
            });
        if (!ready) return Status::kTimeout;
        if (shutdown_.load(std::memory_order_relaxed)) return Status::kShutDown;
      }
      store_.push(std::forward<Args>(args)...);
      size_.store(store_.size(), std::memory_order_relaxed);
      if constexpr (Joinable) ++unfinished_;
      getters = getters_.sleepers;
    }
    // One new item: one getter can use it.
    if (getters != 0) wake(getters_, 1);
    return Status::kOk;
  }

  template <class Wait>
  std::optional<value_type> get_impl(const Wait& wait, Status& status) {
    std::optional<value_type> item;
    std::uint32_t putters = 0;
    {
      Guard lk(mutex_);
      if (store_.size() == 0) {
        status = Status::kShutDown;
        if (shutdown_.load(std::memory_order_relaxed)) return item;
        const bool ready = wait_until(
            lk, getters_, wait, /*spin=*/true,
            [this] { return store_.size() != 0 || shutdown_.load(std::memory_order_relaxed); },
            [this] {
              return size_.load(std::memory_order_relaxed) != 0 ||
                     shutdown_.load(std::memory_order_relaxed);
            });
        if (!ready) {
          status = Status::kTimeout;
          return item;
        }
        if (store_.size() == 0) return item;  // shut down and empty
      }
      store_.pop_into(item);
      size_.store(store_.size(), std::memory_order_relaxed);
      putters = putters_.sleepers;
    }
    // One slot freed: one putter can use it.
    if (putters != 0) wake(putters_, 1);
    status = Status::kOk;
    return item;
  }

  template <class Wait>
  bool join_impl(const Wait& wait) {
    Guard lk(mutex_);
    if (unfinished_ == 0) return true;
    // No spinning: join() waits for whole tasks, which take far longer than a spin.
    return wait_until(
        lk, joiners_, wait, /*spin=*/false, [this] { return unfinished_ == 0; }, [] { return false; });
  }

  [[noreturn]] void throw_put_failure(Status status, const char* call) const {
    if (status == Status::kShutDown) {
      throw ShutDown(std::string(call) + "(): the queue is shut down");
    }
    throw Full(std::string(call) + "(): the queue is full (maxsize " + std::to_string(maxsize_) +
               ")");
  }

  [[noreturn]] static void throw_get_failure(Status status, const char* call) {
    if (status == Status::kShutDown) {
      throw ShutDown(std::string(call) + "(): the queue is shut down and empty");
    }
    throw Empty(std::string(call) + "(): the queue is empty");
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

  // Hot fields first, together: every put and get touches them under the lock.
  mutable threading::Lock mutex_;
  std::atomic<bool> shutdown_{false};  // written under mutex_, read lock-free as a hint
  WaitList getters_;
  WaitList putters_;
  std::atomic<std::size_t> size_{0};  // mirror of store_.size(), written under mutex_
  const std::size_t capacity_;        // maxsize, or SIZE_MAX when unbounded
  std::size_t unfinished_ = 0;        // guarded by mutex_ (only used when Joinable)
  const std::ptrdiff_t maxsize_;
  Store store_;
  std::atomic<int> spin_budget_{max_spin()};
  WaitList joiners_;
};

}  // namespace pyconc::queue::detail
