// pyconc/multiprocessing/value.hpp -- a single value in shared memory: Value and RawValue.
//
// Python: multiprocessing.Value(typecode, value, lock=True) / RawValue(typecode, value).
//
//   mp::Value<int> v(0);                    // Value('i', 0): with a process-shared RLock
//   mp::Value<double> d(3.14);              // Value('d', 3.14)
//   { std::lock_guard g(v.get_lock()); v.value() += 3; }    // with v.get_lock(): v.value += 3
//   mp::Value<int> fast(0, {.lock = false});   // Value('i', 0, lock=False): no lock
//   mp::RawValue<int> raw(0);                   // RawValue('i', 0)
//
// The object is a handle to the value in shared memory: copies -- and the copies a forked
// child gets, e.g. bound into a Process's arguments -- name the same value. Create it before
// starting the processes that use it. T is any trivially copyable type (Python's ctypes:
// int, double, a plain struct...).
// Difference: value() is a reference into shared memory and takes no lock; Python's `.value`
// takes the lock for each single read and write (and `v.value += 1` is racy there too). Hold
// get_lock() -- or use the Value itself as the lock: `std::lock_guard g(v);` -- around a
// read-modify-write. For lock-free updates use std::atomic_ref<T>(v.value()).
// Thread safety: the handle may be used from any thread; the value is plain shared data.
#pragma once

#include <optional>
#include <type_traits>

#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/detail/shared_object.hpp"
#include "pyconc/multiprocessing/lock.hpp"

namespace pyconc::multiprocessing {

// Value(..., lock=...), Array(..., lock=...): true gives the object its own RLock.
struct ValueOptions {
  bool lock{true};
};
using ArrayOptions = ValueOptions;

}  // namespace pyconc::multiprocessing

namespace pyconc::detail {

// Python's SynchronizedBase: the optional lock of a Value or Array, and the object used as
// that lock (`with v:` / std::lock_guard g(v)).
class Synchronized {
 public:
  // The lock. RuntimeError if the object was made with {.lock = false}.
  multiprocessing::RLock& get_lock() const {
    if (!lock_) throw RuntimeError("this object was created with lock=false: it has no lock");
    return *lock_;
  }
  // The object is a handle: locking a const one is fine, as using its value() is.
  bool acquire(bool blocking = true) const { return get_lock().acquire(blocking); }
  template <class Rep, class Period>
  bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout) const {
    return get_lock().acquire(blocking, timeout);
  }
  void release() const { get_lock().release(); }
  void lock() const { acquire(); }
  void unlock() const { release(); }
  bool try_lock() const { return acquire(false); }

 protected:
  explicit Synchronized(bool with_lock) {
    if (with_lock) lock_.emplace();
  }

 private:
  mutable std::optional<multiprocessing::RLock> lock_;
};

}  // namespace pyconc::detail

namespace pyconc::multiprocessing {

template <class T>
class RawValue {
  static_assert(std::is_trivially_copyable_v<T>,
                "a shared Value holds a trivially copyable type (Python's ctypes types)");

 public:
  RawValue() : RawValue(T{}) {}
  explicit RawValue(const T& initial) : box_(detail::make_shared_object<Box>(initial)) {}

  // The value in shared memory.
  T& value() const noexcept { return box_->v; }

 private:
  struct Box {
    explicit Box(const T& init) : v(init) {}
    T v;
  };
  std::shared_ptr<Box> box_;
};

template <class T>
class Value : public detail::Synchronized {
 public:
  Value() : Value(T{}) {}
  explicit Value(const T& initial, ValueOptions options = {})
      : Synchronized(options.lock), raw_(initial) {}

  T& value() const noexcept { return raw_.value(); }
  // Python's get_obj(): the unsynchronized value.
  RawValue<T> get_obj() const { return raw_; }

 private:
  RawValue<T> raw_;
};

}  // namespace pyconc::multiprocessing
