// The robust process-shared mutex and lock core behind multiprocessing's Lock/RLock/Condition.
#include "pyconc/multiprocessing/detail/shared_lock.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include "pyconc/errors.hpp"

// ThreadSanitizer must see every lock operation (see RobustMutex::lock).
#if defined(__SANITIZE_THREAD__)
#define PYCONC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PYCONC_TSAN 1
#endif
#endif

namespace pyconc::detail {
namespace {

pid_t cached_pid = ::getpid();

void after_fork_child() noexcept {
  cached_pid = ::getpid();
  thread_token_slot() = 0;  // this thread is a new thread of a new process
}

[[maybe_unused]] const bool fork_handler_ready =
    (::pthread_atfork(nullptr, nullptr, after_fork_child), true);

[[maybe_unused]] timespec to_timespec(std::chrono::nanoseconds ns) {  // not under TSan
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(ns);
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(secs.count());
  ts.tv_nsec = static_cast<long>((ns - secs).count());
  return ts;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// thread tokens
// ---------------------------------------------------------------------------------------------
std::uint64_t new_thread_token() noexcept {
  std::uint64_t t = 0;
  while (t == 0) {
    if (::getrandom(&t, sizeof t, 0) != static_cast<ssize_t>(sizeof t)) {
      // No entropy source (very early boot): mix what is unique to this thread right now.
      t = (static_cast<std::uint64_t>(::getpid()) << 32) ^ static_cast<std::uint64_t>(::gettid()) ^
          static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()) *
              0x9E3779B97F4A7C15ULL;
    }
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// RobustMutex
// ---------------------------------------------------------------------------------------------
RobustMutex::RobustMutex() {
  pthread_mutexattr_t attr;
  ::pthread_mutexattr_init(&attr);
  ::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  ::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  ::pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_NORMAL);
  const int rc = ::pthread_mutex_init(&mutex_, &attr);
  ::pthread_mutexattr_destroy(&attr);
  if (rc != 0) raise_os_error(rc, "pthread_mutex_init(robust, process-shared)");
}

namespace {
RobustMutex::Result finish(pthread_mutex_t* m, int rc) noexcept {
  if (rc == 0) return RobustMutex::Result::acquired;
  if (rc == EOWNERDEAD) {
    // The holder died holding it. We own it now; mark it usable again at once (without this
    // the next unlock would make it permanently unusable).
    ::pthread_mutex_consistent(m);
    return RobustMutex::Result::owner_died;
  }
  return RobustMutex::Result::unavailable;  // EBUSY, ETIMEDOUT
}
}  // namespace

RobustMutex::Result RobustMutex::try_lock() noexcept {
  return finish(&mutex_, ::pthread_mutex_trylock(&mutex_));
}

RobustMutex::Result RobustMutex::lock(const Clock::time_point* deadline) noexcept {
  if (deadline == nullptr || *deadline == Clock::time_point::max()) {
    return finish(&mutex_, ::pthread_mutex_lock(&mutex_));
  }
#ifdef PYCONC_TSAN
  // ThreadSanitizer's pthread_mutex_timedlock interceptor ignores EOWNERDEAD (it would then
  // report our unlock of a dead holder's lock as a bug) and it has none for clocklock: in TSan
  // builds only, a timed acquire polls trylock (whose interceptor handles EOWNERDEAD).
  for (;;) {
    const Result r = try_lock();
    if (r != Result::unavailable) return r;
    const auto left = remaining(*deadline);
    if (left == Clock::duration::zero()) return r;
    std::this_thread::sleep_for(std::min<Clock::duration>(left, std::chrono::microseconds(200)));
  }
#else
  // steady_clock is CLOCK_MONOTONIC on Linux: the deadline goes to the kernel as is.
  const timespec ts = to_timespec(
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline->time_since_epoch()));
  return finish(&mutex_, ::pthread_mutex_clocklock(&mutex_, CLOCK_MONOTONIC, &ts));
#endif
}

bool RobustMutex::unlock() noexcept {
  return ::pthread_mutex_unlock(&mutex_) == 0;
}

// ---------------------------------------------------------------------------------------------
// SharedLockCore
// ---------------------------------------------------------------------------------------------
RobustMutex::Result SharedLockCore::acquire_slow(const Clock::time_point* deadline) noexcept {
  RobustMutex::Result r = RobustMutex::Result::unavailable;
  // A holder on another core usually lets go within a microsecond: poll (with backoff, each
  // poll pulls the line away from the holder) before parking in the kernel.
  if (deadline == nullptr || Clock::now() < *deadline) {
    spin_.spin(
        [&] {
          if (owner_.load(std::memory_order_relaxed) != 0) return false;
          r = mutex_.try_lock();
          return r != RobustMutex::Result::unavailable;
        },
        AdaptiveSpin::Poll::backoff);
  }
  if (r == RobustMutex::Result::unavailable) r = mutex_.lock(deadline);
  return r;
}

void SharedLockCore::recovered() noexcept {
  recoveries_.fetch_add(1, std::memory_order_relaxed);
  std::fprintf(stderr,
               "pyconc: multiprocessing lock taken over from its holder (pid %d), which died "
               "holding it; the data it protects may be inconsistent\n",
               holder_pid_.load(std::memory_order_relaxed));
  std::fflush(stderr);
}

void SharedLockCore::release_error() const {
  if (owner_.load(std::memory_order_relaxed) == 0) throw RuntimeError("release unlocked lock");
  throw RuntimeError("cannot release un-acquired lock");
}

int SharedLockCore::current_pid() noexcept {
  return cached_pid;
}

}  // namespace pyconc::detail
