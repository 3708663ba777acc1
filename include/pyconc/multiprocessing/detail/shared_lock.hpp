// pyconc/multiprocessing/detail/shared_lock.hpp -- the lock behind multiprocessing's Lock, RLock
// and Condition.
//
// A SharedLockCore lives in memory shared between processes (detail/shared_object.hpp). It is
// a robust, process-shared pthread mutex plus the identity of the holding thread:
//   * robust: when the holder dies (process killed, thread exited) while holding it, the
//     kernel marks the mutex "owner died" and the next acquirer gets it -- it never hangs.
//     That acquirer makes the mutex consistent again at once (so the lock stays usable), and
//     owner_died() tells it the data the lock protects may be half-updated; recoveries()
//     counts such events, so structures that live under the lock (Condition's waiter list)
//     can rebuild themselves.
//   * owned: only the holding thread may release (glibc checks it), which is the price of
//     robustness -- the kernel knows who holds the lock because the holder is recorded.
//   * the holder is also recorded as a 64-bit random token per thread (thread_token()), which
//     no other thread of any process shares, so "is it mine?" (RLock re-entry, Condition's
//     checks) is one load and is never fooled by a recycled thread id.
// Contended acquires spin briefly (AdaptiveSpin) before parking in the kernel.
// Thread safety: every member may be called from any thread of any process mapping the core.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>

#include "pyconc/detail/adaptive_spin.hpp"
#include "pyconc/detail/deadline.hpp"

namespace pyconc::detail {

// A per-thread identity that is unique across processes: 64 random bits drawn on first use.
// A forked child draws a new one for its thread (pthread_atfork), so parent and child differ.
std::uint64_t new_thread_token() noexcept;
inline std::uint64_t& thread_token_slot() noexcept {
  static thread_local std::uint64_t token = 0;
  return token;
}
inline std::uint64_t thread_token() noexcept {
  std::uint64_t& t = thread_token_slot();
  if (t == 0) [[unlikely]]
    t = new_thread_token();
  return t;
}

// A robust, process-shared, non-recursive pthread mutex.
class RobustMutex {
 public:
  enum class Result { acquired, owner_died, unavailable };

  RobustMutex();
  RobustMutex(const RobustMutex&) = delete;
  RobustMutex& operator=(const RobustMutex&) = delete;

  // `deadline == nullptr`: wait without limit. Result::unavailable: timed out.
  Result lock(const Clock::time_point* deadline) noexcept;
  Result try_lock() noexcept;
  // False (and nothing done) when the calling thread does not hold the mutex.
  bool unlock() noexcept;

 private:
  pthread_mutex_t mutex_;
};

class SharedLockCore {
 public:
  explicit SharedLockCore(bool recursive) : recursive_(recursive) {}
  SharedLockCore(const SharedLockCore&) = delete;
  SharedLockCore& operator=(const SharedLockCore&) = delete;

  // Python's acquire(blocking, timeout): `deadline == nullptr` waits without limit (when
  // blocking). A recursive core re-entered by its owner only counts.
  bool acquire(bool blocking, const Clock::time_point* deadline) {
    const std::uint64_t me = thread_token();
    if (recursive_ && owner_.load(std::memory_order_relaxed) == me) {
      ++count_;
      return true;
    }
    auto r = mutex_.try_lock();
    if (r == RobustMutex::Result::unavailable && blocking) r = acquire_slow(deadline);
    if (r == RobustMutex::Result::unavailable) return false;
    take(me, r == RobustMutex::Result::owner_died);
    return true;
  }

  // RuntimeError("release unlocked lock") when nobody holds it, RuntimeError("cannot release
  // un-acquired lock") when another thread does.
  void release() {
    if (owner_.load(std::memory_order_relaxed) != thread_token()) release_error();
    if (--count_ == 0) {
      owner_.store(0, std::memory_order_relaxed);
      mutex_.unlock();
    }
  }

  bool is_owned() const noexcept {
    return owner_.load(std::memory_order_relaxed) == thread_token();
  }
  bool locked() const noexcept { return owner_.load(std::memory_order_relaxed) != 0; }
  bool recursive() const noexcept { return recursive_; }
  // Whether the current holder took the lock from a holder that had died.
  bool owner_died() const noexcept { return owner_died_.load(std::memory_order_relaxed); }
  // How many times the lock was taken from a dead holder, ever.
  std::uint32_t recoveries() const noexcept { return recoveries_.load(std::memory_order_relaxed); }

  // Condition.wait(): release completely (all levels), then restore the saved depth.
  unsigned release_save() noexcept {
    const unsigned saved = count_;
    count_ = 0;
    owner_.store(0, std::memory_order_relaxed);
    mutex_.unlock();
    return saved;
  }
  void acquire_restore(unsigned saved) noexcept {
    const auto r = mutex_.lock(nullptr);
    take(thread_token(), r == RobustMutex::Result::owner_died);
    count_ = saved;
  }

 private:
  RobustMutex::Result acquire_slow(const Clock::time_point* deadline) noexcept;
  void take(std::uint64_t me, bool died) noexcept {
    if (died) recovered();
    owner_died_.store(died, std::memory_order_relaxed);
    owner_.store(me, std::memory_order_relaxed);
    holder_pid_.store(current_pid(), std::memory_order_relaxed);
    count_ = 1;
  }
  void recovered() noexcept;  // counts and reports a recovery from a dead holder
  [[noreturn]] void release_error() const;
  static int current_pid() noexcept;

  RobustMutex mutex_;
  // Written by the holder only, under the mutex; read by anyone (compared with their token).
  std::atomic<std::uint64_t> owner_{0};
  std::atomic<int> holder_pid_{0};  // for the report when the holder dies
  std::atomic<bool> owner_died_{false};
  std::atomic<std::uint32_t> recoveries_{0};
  unsigned count_ = 0;  // recursion depth; the holder's only
  const bool recursive_;
  AdaptiveSpin spin_;
};

}  // namespace pyconc::detail
