// pyconc/detail/deadline.hpp -- turning Python-style timeouts into steady-clock deadlines.
//
// Every blocking call takes a std::chrono duration. A negative duration is a ValueError, as in
// Python; a huge one (hours::max()) saturates instead of overflowing, so "wait forever" can be
// spelled either way. Thread safety: pure functions.
#pragma once

#include <string>

#include "pyconc/detail/chrono.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {

using Clock = std::chrono::steady_clock;

// `timeout` as a Clock::duration, saturated at Clock::duration::max().
// Throws ValueError("'<what>' must be a non-negative duration") when timeout < 0.
template <class Rep, class Period>
Clock::duration checked_duration(std::chrono::duration<Rep, Period> timeout,
                                 const char* what = "timeout") {
  if (timeout < std::chrono::duration<Rep, Period>::zero()) {
    throw ValueError(std::string("'") + what + "' must be a non-negative duration");
  }
  // Compare in a wide floating type so that durations of any representation cannot overflow.
  using fsec = std::chrono::duration<long double>;
  if (std::chrono::duration_cast<fsec>(timeout) >=
      std::chrono::duration_cast<fsec>(Clock::duration::max())) {
    return Clock::duration::max();
  }
  return std::chrono::ceil<Clock::duration>(timeout);
}

// The deadline `timeout` from now, saturated at Clock::time_point::max().
// Throws ValueError as checked_duration when timeout < 0.
template <class Rep, class Period>
Clock::time_point deadline_after(std::chrono::duration<Rep, Period> timeout,
                                 const char* what = "timeout") {
  const Clock::duration d = checked_duration(timeout, what);
  const auto now = Clock::now();
  return d >= Clock::time_point::max() - now ? Clock::time_point::max() : now + d;
}

// Condition.wait_for(predicate[, timeout]): evaluates predicate() and calls wait(deadline)
// until it is true or `deadline` (nullptr: none) passed; returns predicate()'s last value.
template <class Predicate, class Wait>
auto wait_for_predicate(Predicate& predicate, Wait wait,
                        const Clock::time_point* deadline = nullptr) {
  auto result = predicate();
  while (!result) {
    if (deadline != nullptr && Clock::now() >= *deadline) break;
    wait(deadline);
    result = predicate();
  }
  return result;
}

// Time left until `deadline`, never negative.
inline Clock::duration remaining(Clock::time_point deadline) {
  const auto now = Clock::now();
  return deadline > now ? deadline - now : Clock::duration::zero();
}

}  // namespace pyconc::detail
