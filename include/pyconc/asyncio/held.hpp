// pyconc/asyncio/held.hpp -- aio::Held<M>: what `co_await lock.acquire()` returns, the body of
// Python's `async with lock:`.
//
//   aio::Lock lk;
//   {
//     auto held = co_await lk.acquire();     // async with lk:
//     /* ... */
//   }                                        // released here (also on exceptions)
//   auto held = co_await sem.acquire(); held.release();   // or release early
//
// Python: the async context manager protocol of asyncio.Lock / Semaphore / Condition.
// Difference: Python's `await lock.acquire()` returns True and leaves the release to the
// caller; here acquire() returns this guard, so discarding it releases at once (clang warns,
// the class is [[nodiscard]]). To acquire without a guard, co_await lk.lock() and later call
// lk.release() (or unlock()), as Python code that pairs acquire/release by hand does.
//
// Thread safety: loop-thread only, like the primitive it holds.
#pragma once

#include <utility>

#include "pyconc/errors.hpp"

namespace pyconc::asyncio {

template <class M>
class [[nodiscard("the guard releases when destroyed: keep it for the scope that needs it")]] Held {
 public:
  Held() noexcept = default;
  explicit Held(M & m) noexcept : m_(&m) {}
  Held(Held && o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
  Held& operator=(Held&& o) noexcept {
    if (this != &o) {
      reset();
      m_ = std::exchange(o.m_, nullptr);
    }
    return *this;
  }
  Held(const Held&) = delete;
  Held& operator=(const Held&) = delete;
  // Releases what it still holds. A release that fails (the primitive was released by hand
  // meanwhile: RuntimeError / ValueError) is ignored here, since a destructor cannot throw.
  ~Held() {
    reset();
  }

  // Releases now (Python: leaving the `async with` block early). RuntimeError if the guard
  // holds nothing (moved from or already released).
  void release() {
    if (m_ == nullptr) throw RuntimeError("Held.release(): nothing is held");
    std::exchange(m_, nullptr)->release();
  }
  bool owns_lock() const noexcept {
    return m_ != nullptr;
  }
  explicit operator bool() const noexcept {
    return m_ != nullptr;
  }
  M* mutex() const noexcept {
    return m_;
  }

 private:
  void reset() noexcept {
    if (M* m = std::exchange(m_, nullptr)) {
      try {
        m->release();
      } catch (...) {
      }
    }
  }

  M* m_ = nullptr;
};

}  // namespace pyconc::asyncio
