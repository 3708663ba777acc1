// pyconc/multiprocessing/semaphore.hpp -- Semaphore and BoundedSemaphore shared between processes.
//
// Python: multiprocessing.Semaphore(value=1) / multiprocessing.BoundedSemaphore(value=1). A
// handle to a counter in shared memory: copies (and forked children's copies) name the same
// semaphore. Same behaviour as threading's: acquire() takes a unit, waiting while there is
// none; release(n) returns n units; a negative initial value is a ValueError; a
// BoundedSemaphore released above its initial value raises ValueError("Semaphore released too
// many times"). Not owned: any process may release (so a unit held by a process that dies is
// not given back -- as in Python).
// C++: Lockable and TimedLockable (one unit per lock()), so std::lock_guard works.
//
// Memory ordering: what a process did before release() is visible to the one whose acquire()
// takes the released unit.
// Thread safety: any thread of any process may call any member; acquire() spins briefly, then
// sleeps in the kernel.
#pragma once

#include <memory>
#include "pyconc/detail/chrono.hpp"

#include "pyconc/detail/futex.hpp"
#include "pyconc/detail/lockable.hpp"
#include "pyconc/multiprocessing/detail/shared_object.hpp"
#include "pyconc/threading/semaphore.hpp"

namespace pyconc::detail {

// A handle to a threading::Semaphore (or BoundedSemaphore) that lives in shared memory and
// waits on shared futexes.
template <class Sem>
class SharedSemaphoreHandle : public Lockable<SharedSemaphoreHandle<Sem>> {
 public:
  explicit SharedSemaphoreHandle(int value)
      : sem_(make_shared_object<Sem>(value, detail::process_shared)) {}

  bool acquire(bool blocking = true) { return sem_->acquire(blocking); }
  template <class Rep, class Period>
  bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout) {
    return sem_->acquire(blocking, timeout);
  }
  // Returns n units (ValueError when n < 1, or past the bound of a BoundedSemaphore).
  void release(int n = 1) { sem_->release(n); }
  // The current counter (Python: get_value(); a snapshot).
  int get_value() const noexcept { return sem_->value(); }

 private:
  std::shared_ptr<Sem> sem_;
};

}  // namespace pyconc::detail

namespace pyconc::multiprocessing {

class Semaphore : public detail::SharedSemaphoreHandle<threading::Semaphore> {
 public:
  explicit Semaphore(int value = 1) : SharedSemaphoreHandle(value) {}
};

class BoundedSemaphore : public detail::SharedSemaphoreHandle<threading::BoundedSemaphore> {
 public:
  explicit BoundedSemaphore(int value = 1) : SharedSemaphoreHandle(value) {}
};

}  // namespace pyconc::multiprocessing
