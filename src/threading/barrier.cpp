#include "pyconc/threading/barrier.hpp"

namespace pyconc::threading {

Barrier::Barrier(int parties, std::function<void()> action, std::optional<Duration> timeout)
    : action_(std::move(action)), timeout_(timeout), core_(parties) {
  if (timeout && *timeout < Duration::zero()) {
    throw ValueError("'timeout' must be a non-negative duration");
  }
}

void Barrier::reset() {
  core_.reset(cond_);
}

void Barrier::abort() {
  core_.abort(cond_);
}

int Barrier::n_waiting() {
  return core_.n_waiting(cond_);
}

bool Barrier::broken() {
  return core_.broken(cond_);
}

}  // namespace pyconc::threading
