// pyconc/detail/futex.hpp -- the one place that talks to the kernel to park and wake threads.
//
// Every blocking primitive in pyconc (Lock, Event, Semaphore, Condition, queues) is an atomic
// state word plus these two calls, so the platform code stays in one small file (src/core/).
// `shared = false` (the default) uses the kernel's process-private futexes, keyed by address
// space: cheaper, and right for every word in ordinary memory. Words in memory shared between
// processes (pyconc::multiprocessing) pass `shared = true`, so that a wake in one process
// reaches a waiter in another.
// The memory ordering of a primitive is carried by its atomic operations, never by the futex
// call: futex_wait may return spuriously and callers always re-check their word.
// Thread safety: any thread may call either function on any word at any time.
#pragma once

#include <atomic>
#include <cstdint>

#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"

namespace pyconc::detail {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

// Blocks while `word` holds `expected`, until woken, until `deadline` (steady clock) passes,
// or spuriously. Returns false only when the deadline passed. `deadline == nullptr` waits
// without a time limit.
bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                const Clock::time_point* deadline = nullptr, bool shared = false) noexcept;

// Wakes up to `count` threads blocked in futex_wait on `word`. Returns how many were woken.
int futex_wake(std::atomic<std::uint32_t>& word, int count, bool shared = false) noexcept;
inline int futex_wake_all(std::atomic<std::uint32_t>& word, bool shared = false) noexcept {
  return futex_wake(word, 0x7fffffff, shared);
}

// Tag for the constructors of primitives placed in memory shared between processes
// (threading::Event, threading::Semaphore): they then wait and wake with shared futexes.
struct ProcessShared {
  explicit ProcessShared() = default;
};
inline constexpr ProcessShared process_shared{};

// A pause instruction for spin loops: tells the CPU (and a hyper-thread sibling) we are waiting.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// How many times a blocking primitive polls its word before parking in the kernel. A park and
// wake costs a few microseconds; a short spin catches hand-offs between threads running on
// other cores at a fraction of that. Zero on a single-CPU machine, where spinning only delays
// the thread we are waiting for.
int spin_limit() noexcept;

// Polls `ready()` for at most `budget` of wall time (the cost of a pause instruction varies
// tenfold between CPUs, so long spins are bounded by time, not by count). Returns ready()'s
// last value. On a single-CPU machine it polls once.
template <class Ready>
bool spin_until(Ready ready, std::chrono::nanoseconds budget) {
  if (spin_limit() == 0) return ready();
  const auto deadline = Clock::now() + budget;
  for (;;) {
    // A few pauses between polls: a poll that hits a line another core is writing slows that
    // core down, so do not hammer it.
    for (int i = 0; i < 16; ++i) {
      if (ready()) return true;
      cpu_relax();
      cpu_relax();
      cpu_relax();
      cpu_relax();
    }
    if (Clock::now() >= deadline) return ready();
  }
}

}  // namespace pyconc::detail
