// pyconc/multiprocessing/event.hpp -- Event shared between processes.
//
// Python: multiprocessing.Event. A handle to a flag in shared memory: copies (and forked
// children's copies) name the same event. set() raises the flag and wakes every waiter of
// every process; clear() lowers it; wait() returns at once while it is up. As threading's, a
// waiter blocked during a set()/clear() pulse returns true.
//
// Memory ordering: what a process did before set() is visible to a process after its wait()
// returns true (or is_set() returns true).
// Thread safety: any thread of any process may call any member; wait() spins briefly, then
// sleeps in the kernel.
#pragma once

#include <memory>
#include "pyconc/detail/chrono.hpp"

#include "pyconc/detail/futex.hpp"
#include "pyconc/multiprocessing/detail/shared_object.hpp"
#include "pyconc/threading/event.hpp"

namespace pyconc::multiprocessing {

class Event {
 public:
  Event() : ev_(detail::make_shared_object<threading::Event>(detail::process_shared)) {}

  bool is_set() const noexcept { return ev_->is_set(); }
  void set() noexcept { ev_->set(); }
  void clear() noexcept { ev_->clear(); }
  // Blocks until the flag is set; returns true.
  bool wait() { return ev_->wait(); }
  // Blocks at most `timeout`; false on timeout. ValueError for a negative timeout.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return ev_->wait(timeout);
  }

 private:
  std::shared_ptr<threading::Event> ev_;
};

}  // namespace pyconc::multiprocessing
