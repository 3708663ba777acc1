#include "pyconc/threading/timer.hpp"

namespace pyconc::threading {

Timer::~Timer() {
  if (daemon()) cancel();
  if (ident() != 0 && ref() != current_thread()) join();
}

void Timer::run() {
  // A cancel() during the wait sets finished_, so wait() returns true and we skip the call.
  if (!finished_.wait(interval_)) function_();
  finished_.set();
}

}  // namespace pyconc::threading
