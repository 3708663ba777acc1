// pyconc/threading/timer.hpp -- Timer, a thread that calls a function after an interval.
//
// Python: threading.Timer(interval, function, args). A Thread: start() it, and after
// `interval` the function runs in the timer's thread unless cancel() was called first.
// cancel() is a no-op once the function has started.
// Difference, for C++: the destructor of a started timer joins it -- it waits for the function
// to fire (Python's interpreter likewise waits for non-daemon timers at exit); a daemon Timer
// is cancelled instead, since its thread cannot outlive the object.
//
// Thread safety: cancel() may be called from any thread at any time; the rest as Thread.
#pragma once

#include <tuple>
#include <type_traits>
#include <utility>

#include "pyconc/detail/bind_call.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/unique_function.hpp"
#include "pyconc/threading/event.hpp"
#include "pyconc/threading/thread.hpp"

namespace pyconc::threading {

class Timer : public Thread {
 public:
  template <class Rep, class Period, class F, class... Args>
  requires std::invocable<std::decay_t<F>, std::decay_t<Args>...> Timer(
      std::chrono::duration<Rep, Period> interval, F&& function, Args&&... args)
      : Timer(Options{}, interval, std::forward<F>(function), std::forward<Args>(args)...) {}

  template <class Rep, class Period, class F, class... Args>
  requires std::invocable<std::decay_t<F>, std::decay_t<Args>...> Timer(
      Options options, std::chrono::duration<Rep, Period> interval, F&& function, Args&&... args)
      : Thread(std::move(options)),
        interval_(detail::checked_duration(interval, "interval")),
        function_(detail::bind_call(std::forward<F>(function), std::forward<Args>(args)...)) {}

  Timer(Timer&&) = delete;
  ~Timer() override;

  // Stops the timer if it has not fired yet.
  void cancel() noexcept { finished_.set(); }

 protected:
  void run() override;

 private:
  detail::Clock::duration interval_;
  detail::unique_function<void()> function_;
  Event finished_;
};

}  // namespace pyconc::threading
