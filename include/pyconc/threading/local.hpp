// pyconc/threading/local.hpp -- local<T>, a value with one instance per thread.
//
// Python: threading.local. `th::local<Student> local_school;` then `local_school->name =
// "Alice";` in one thread does not touch the Student another thread sees. Each thread's
// instance is created on its first access -- from the constructor arguments given to local
// (copied), like the __init__ arguments of a threading.local subclass -- and destroyed when
// that thread exits, or when the local itself is destroyed, whichever comes first.
// Difference: unlike C++'s `thread_local`, a local<T> can be a member of an object or a
// function's local variable, and its per-thread values die with it.
//
// Thread safety: any thread may use the same local<T> at once; each sees only its own value.
// get() is a hash lookup in a table owned by the calling thread (no lock) after the first
// access; the first access of a thread takes a short lock. Destroying the local while other
// threads still use their values is a bug, as for any object.
#pragma once

#include <cstdint>
#include <memory>
#include <tuple>
#include <utility>

#include "pyconc/detail/function.hpp"

namespace pyconc::detail {

// Type-erased machinery behind local<T> (src/threading/local.cpp).
class LocalBase {
 public:
  LocalBase(const LocalBase&) = delete;
  struct Control;  // per-local state (src/threading/local.cpp)
  LocalBase& operator=(const LocalBase&) = delete;

 protected:
  using Deleter = void (*)(void*);
  LocalBase();
  ~LocalBase();
  // This thread's value, or nullptr if it has none yet.
  void* find() const noexcept;
  // Adopts `value` (freed with `deleter`) as this thread's value and returns it.
  void* adopt(void* value, Deleter deleter);

 private:
  std::shared_ptr<Control> control_;
};

}  // namespace pyconc::detail

namespace pyconc::threading {

template <class T>
class local : private detail::LocalBase {
 public:
  // Each thread's value is T(args...), built on that thread's first access.
  template <class... Args>
  explicit local(Args&&... args)
      : make_([tup = std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...)] {
          return std::apply([](const auto&... a) { return new T(a...); }, tup);
        }) {}

  // The calling thread's value (created on first access).
  T& get() {
    if (void* p = find()) return *static_cast<T*>(p);
    std::unique_ptr<T> fresh(make_());
    T* raw = fresh.get();
    adopt(fresh.release(), [](void* v) { delete static_cast<T*>(v); });
    return *raw;
  }
  T* operator->() { return &get(); }
  T& operator*() { return get(); }
  // Replaces the calling thread's value.
  local& operator=(T value) {
    get() = std::move(value);
    return *this;
  }

 private:
  std::function<T*()> make_;
};

}  // namespace pyconc::threading
