// pyconc/detail/lock_order.hpp -- the hooks through which threading's Lock and RLock,
// and asyncio's Lock, feed the lock-order graph of debug mode (src/threading/lock_order.cpp;
// the public switches are in pyconc/threading/lock_order.hpp).
//
// Cost when the check is off: lock_order_checking() is one relaxed load of a global byte and
// one branch that always goes the same way; each primitive calls it once per acquire, release,
// construction and destruction, and calls the out-of-line hooks below only when it is true.
//
// The state byte starts "undecided" (2, constant-initialised, so a lock built during static
// initialisation sees it): the first hook call reads PYCONC_DEBUG once and settles it to 0 or 1.
//
// Thread safety: every hook may be called from any thread; the graph is guarded by one mutex.
#pragma once

#include <atomic>
#include <string>

namespace pyconc::detail {

// Where a lock was made, for the deadlock reports: std::source_location's job, written with the
// GCC/Clang builtins it is made of, because clang 14 with libstdc++ 12 has no
// std::source_location. As a default argument, current() gives the caller's file and line.
struct SourceSite {
  const char* file = "";
  unsigned line = 0;
  static constexpr SourceSite current(const char* file = __builtin_FILE(),
                                      unsigned line = __builtin_LINE()) noexcept {
    return SourceSite{file, line};
  }
};

// 0: off, 1: on, 2: not decided yet (PYCONC_DEBUG not read). Defined in lock_order.cpp.
extern std::atomic<unsigned char> lock_order_state;

inline bool lock_order_checking() noexcept {
  return lock_order_state.load(std::memory_order_relaxed) != 0;
}

enum class LockKind : unsigned char { lock, rlock, asyncio_lock };

// Who acquires: a thread (key null: the calling thread) or an asyncio task (key: its TaskCore,
// name: returns the task's name; called only when an edge is recorded or a cycle reported).
struct LockHolder {
  const void* key = nullptr;
  std::string (*name)(const void* key) = nullptr;
};

// A lock came to life (records where, for the reports).
void lock_order_created(const void* lock, LockKind kind, const SourceSite& where) noexcept;
// About to wait for `lock`: records "each lock the holder holds -> lock", or reports the
// potential deadlock when such an edge would close a cycle. Throws what the handler throws.
void lock_order_acquiring(const void* lock, LockKind kind, LockHolder holder = {});
// `lock` was taken (blocking or not) by `holder`.
void lock_order_acquired(const void* lock, LockKind kind, LockHolder holder = {}) noexcept;
// `lock` is about to be released (by anyone: a Lock may be released by another thread).
void lock_order_released(const void* lock) noexcept;
// `lock` is being destroyed: its node and edges go (its address may be reused).
void lock_order_destroyed(const void* lock) noexcept;

}  // namespace pyconc::detail
