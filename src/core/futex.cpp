// Linux futex calls behind pyconc/detail/futex.hpp.
#include "pyconc/detail/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>
#include <thread>

namespace pyconc::detail {
namespace {

long futex(void* addr, int op, std::uint32_t val, const timespec* ts, std::uint32_t val3) {
  return ::syscall(SYS_futex, addr, op, val, ts, nullptr, val3);
}

}  // namespace

bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                const Clock::time_point* deadline, bool shared) noexcept {
  const int scope = shared ? 0 : FUTEX_PRIVATE_FLAG;
  if (deadline == nullptr || *deadline == Clock::time_point::max()) {
    futex(&word, FUTEX_WAIT | scope, expected, nullptr, 0);
    return true;
  }
  // steady_clock is CLOCK_MONOTONIC on Linux, so the deadline can be handed to the kernel as an
  // absolute time: no re-computation of a relative timeout after each spurious wake-up.
  const auto since_epoch = deadline->time_since_epoch();
  if (since_epoch <= Clock::duration::zero()) return false;
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(secs.count());
  ts.tv_nsec = static_cast<long>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs).count());
  const long rc = futex(&word, FUTEX_WAIT_BITSET | scope, expected, &ts, FUTEX_BITSET_MATCH_ANY);
  return !(rc == -1 && errno == ETIMEDOUT);
}

int futex_wake(std::atomic<std::uint32_t>& word, int count, bool shared) noexcept {
  const int op = FUTEX_WAKE | (shared ? 0 : FUTEX_PRIVATE_FLAG);
  const long rc = futex(&word, op, static_cast<std::uint32_t>(count), nullptr, 0);
  return rc < 0 ? 0 : static_cast<int>(rc);
}

int spin_limit() noexcept {
  static const int limit = std::thread::hardware_concurrency() > 1 ? 2000 : 0;
  return limit;
}

}  // namespace pyconc::detail
