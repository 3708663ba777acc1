// pyconc/generator.hpp -- pyconc::Generator<T, In>: Python's generators as C++ coroutines.
//
//   pyconc::Generator<int> count_up(int n) { for (int i = 0; i < n; ++i) co_yield i; }
//   for (int v : count_up(3)) print(v);                      // for v in count_up(3): print(v)
//   auto g = count_up(3); int first = pyconc::next(g);       // next(g)
//
//   pyconc::Generator<int> chain() { co_yield pyconc::yield_from(count_up(2)); co_yield 9; }
//
//   pyconc::Generator<std::string, std::optional<int>> consumer() {   // two-way: send()
//     std::string r;
//     while (true) {
//       std::optional<int> n = co_yield r;    // n = yield r
//       if (!n) co_return;                    // if not n: return
//       r = "200 OK";
//     }
//   }
//   auto c = consumer(); c.send(); std::string r = c.send(1); c.close();
//
// Python: a generator function (`def f(): ... yield x ...`) and its generator object.
// Generator<T> yields T values; calling the function creates the generator suspended at its
// start (nothing runs until the first next()/iteration). Generator<T, In> is the two-way form:
// `In v = co_yield x;` receives what the consumer passes to send(v) (Python's `v = yield x`).
// Generator<> (T = std::monostate) is the bare `yield` of a task-switching generator:
// `co_yield {};`.
//
// Consuming: range-for (an input range: begin() runs to the first yield), next() /
// pyconc::next(g) (StopIteration when exhausted), send(v) (the value co_yield evaluates to;
// returns the next yielded value; StopIteration if the generator returns), send() (= next():
// Python's send(None); co_yield then gives In{}, which is None for a std::optional),
// throw_(e) (Python's gen.throw: e is raised at the yield; returns the next value if the
// generator catches it), close(). As in Python, a for loop continues from where next() calls
// left the generator. The reference a yield gives (operator*, next(), send()) stays valid until
// the generator is resumed again; the consumer may move from it.
//
// yield_from(gen): Python's `yield from gen` -- the inner generator's values are yielded (sends
// and throw_ reach it), its exceptions propagate to the outer one at that point; nested
// chains are resumed directly (no re-yield per level), without growing the stack.
//
// Exceptions escaping the generator body propagate to the consumer's call (begin, ++, next,
// send) and end the generator. Destroying (or close()-ing) a generator mid-way destroys its
// frame: locals' destructors run (Python runs `finally:` blocks via GeneratorExit; C++ code
// uses RAII). Differences: no return value (StopIteration carries none); send(v) on a
// generator that has not started raises ValueError (Python: TypeError); `co_await` is not
// allowed inside a generator (it is synchronous).
//
// Thread safety: a generator is a single-threaded object; it may be handed to another thread
// between resumptions, but never resumed from two threads at once.
#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "pyconc/errors.hpp"

namespace pyconc {

// Python: StopIteration -- next()/send() on a generator that has finished.
class StopIteration : public Error {
 public:
  StopIteration() : Error("generator is exhausted") {}
  using Error::Error;
};

template <class T = std::monostate, class In = void>
class Generator;

template <class T, class In>
class YieldFrom;

// `co_yield yield_from(inner)`: Python's `yield from inner`.
template <class T, class In>
YieldFrom<T, In> yield_from(Generator<T, In>&& inner) noexcept;

template <class T, class In>
class YieldFrom {
 private:
  explicit YieldFrom(Generator<T, In>&& g) noexcept : gen(std::move(g)) {}
  friend YieldFrom yield_from<T, In>(Generator<T, In>&&) noexcept;

 public:
  Generator<T, In> gen;
};

namespace detail {

// Where a two-way generator keeps the value send() passes to the pending co_yield.
template <class In>
struct SendSlot {
  using type = std::optional<In>;
};
template <>
struct SendSlot<void> {
  using type = std::monostate;
};

template <class T, class In>
class GeneratorPromise {
  using Handle = std::coroutine_handle<GeneratorPromise>;

 public:
  Generator<T, In> get_return_object() noexcept;
  std::suspend_always initial_suspend() noexcept { return {}; }

  auto final_suspend() noexcept {
    struct Final {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(Handle h) noexcept {
        GeneratorPromise& p = h.promise();
        if (p.parent_) {  // an inner generator of yield_from: its parent continues
          p.root_->leaf_ = p.parent_;
          return p.parent_;
        }
        return std::noop_coroutine();
      }
      void await_resume() noexcept {}
    };
    return Final{};
  }
  void return_void() noexcept {}
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  // co_yield of an rvalue T: the temporary lives until the generator resumes.
  auto yield_value(T&& v) noexcept { return YieldAwaiter{this, std::addressof(v)}; }
  // co_yield of an lvalue: a copy, so the consumer may modify or move from what it gets.
  auto yield_value(const T& v) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    return CopyAwaiter{YieldAwaiter{this, nullptr}, T(v)};
  }
  template <class U>
  requires(!std::same_as<std::remove_cvref_t<U>, T> && std::constructible_from<T, U&&> &&
           !std::same_as<std::remove_cvref_t<U>, YieldFrom<T, In>>) auto yield_value(U&& v) {
    return CopyAwaiter{YieldAwaiter{this, nullptr}, T(std::forward<U>(v))};
  }
  auto yield_value(YieldFrom<T, In>&& inner) noexcept {
    return NestedAwaiter{std::move(inner.gen)};
  }

  // A generator is synchronous: `co_await` inside one is a compile error.
  template <class U>
  void await_transform(U&&) = delete;

 private:
  friend class Generator<T, In>;

  struct YieldAwaiter {
    GeneratorPromise* self;
    T* value;
    bool await_ready() noexcept { return false; }
    void await_suspend(Handle) noexcept { self->root_->value_ = value; }
    auto await_resume() {
      GeneratorPromise& root = *self->root_;
      if (root.thrown_) std::rethrow_exception(std::exchange(root.thrown_, nullptr));
      if constexpr (!std::is_void_v<In>) return In(std::move(*root.sent_));
    }
  };
  struct CopyAwaiter {
    YieldAwaiter base;
    T copy;
    bool await_ready() noexcept { return false; }
    void await_suspend(Handle h) noexcept {
      base.value = std::addressof(copy);
      base.await_suspend(h);
    }
    auto await_resume() { return base.await_resume(); }
  };
  struct NestedAwaiter {
    Generator<T, In> gen;
    bool await_ready() noexcept {
      Handle inner = handle_of(gen);
      return !inner || inner.done();
    }
    std::coroutine_handle<> await_suspend(Handle h) noexcept {
      GeneratorPromise& inner = handle_of(gen).promise();
      GeneratorPromise& outer = h.promise();
      // The inner generator may itself be inside a yield_from (if it was partly consumed
      // before): its whole active chain now yields to our root.
      const Handle leaf = inner.leaf_;
      for (Handle p = leaf; p; p = p.promise().parent_) p.promise().root_ = outer.root_;
      inner.parent_ = h;
      inner.started_ = true;
      outer.root_->leaf_ = leaf;
      return leaf;  // runs the inner generator up to its next yield
    }
    void await_resume() {
      Handle inner = handle_of(gen);
      if (inner && inner.promise().exception_) {
        std::rethrow_exception(std::exchange(inner.promise().exception_, nullptr));
      }
    }
  };
  static Handle handle_of(const Generator<T, In>& g) noexcept { return g.handle_; }

  // In every generator of a yield_from chain:
  GeneratorPromise* root_ = this;
  Handle parent_;
  std::exception_ptr exception_;
  bool started_ = false;
  // In the root only:
  Handle leaf_;                // the innermost generator: the one to resume
  T* value_ = nullptr;         // what the last yield gave
  std::exception_ptr thrown_;  // throw_(): raised at the leaf's yield
  typename SendSlot<In>::type sent_{};
};

}  // namespace detail

template <class T, class In>
class [[nodiscard]] Generator {
  static_assert(std::is_object_v<T>, "Generator<T>: T must be an object type");
  static_assert(std::is_void_v<In> || std::is_object_v<In>,
                "Generator<T, In>: In must be an object type");

 public:
  using promise_type = detail::GeneratorPromise<T, In>;
  using value_type = T;
  using send_type = In;

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using iterator_concept = std::input_iterator_tag;
    using value_type = std::remove_cv_t<T>;
    using difference_type = std::ptrdiff_t;
    using reference = T&;
    using pointer = T*;

    iterator() noexcept = default;
    reference operator*() const noexcept { return *gen_->root().value_; }
    pointer operator->() const noexcept { return gen_->root().value_; }
    // Resumes the generator; its exceptions propagate from here.
    iterator& operator++() {
      gen_->advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
      return it.gen_ == nullptr || it.gen_->done();
    }

   private:
    friend class Generator;
    explicit iterator(Generator* g) noexcept : gen_(g) {}
    Generator* gen_ = nullptr;
  };

  // An empty generator (already exhausted).
  Generator() noexcept = default;
  Generator(Generator&& o) noexcept : handle_(std::exchange(o.handle_, nullptr)) {}
  Generator& operator=(Generator&& o) noexcept {
    if (this != &o) {
      close();
      handle_ = std::exchange(o.handle_, nullptr);
    }
    return *this;
  }
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;
  ~Generator() { close(); }

  // Runs to the first yield (or, if next() was called before, to the next one).
  iterator begin() {
    advance();
    return iterator(this);
  }
  std::default_sentinel_t end() const noexcept { return {}; }

  // Python: next(gen). StopIteration when the generator is finished (or finishes now).
  T& next() requires std::is_void_v<In> || std::default_initializable<In> {
    if constexpr (!std::is_void_v<In>) {
      if (handle_ && root().started_) root().sent_.emplace();
    }
    return step();
  }
  // Python: gen.send(None) -- the same as next().
  T& send() requires std::is_void_v<In> || std::default_initializable<In> { return next(); }
  // Python: gen.send(value): `value` is what the pending co_yield evaluates to; returns the
  // next yielded value. ValueError if the generator has not started (prime it with send()),
  // StopIteration if it is (or now gets) finished.
  template <class V = In>
  requires(!std::is_void_v<In> && std::constructible_from<In, V&&>) T& send(V&& value) {
    if (handle_ && !handle_.done() && !root().started_) {
      throw ValueError("can't send a value to a just-started generator: call send() first");
    }
    if (handle_) root().sent_.emplace(std::forward<V>(value));
    return step();
  }

  // Python: gen.throw(e): raises `e` at the paused yield. Returns the next yielded value if the
  // generator handles it; rethrows it (or whatever the generator throws instead) otherwise;
  // StopIteration if the generator returns. A generator that never started is closed and `e`
  // raised at once.
  T& throw_(std::exception_ptr e) {
    if (!e) throw ValueError("throw_(): null exception_ptr");
    if (!handle_ || handle_.done()) std::rethrow_exception(e);
    if (!root().started_) {
      close();
      std::rethrow_exception(e);
    }
    root().thrown_ = std::move(e);
    return step();
  }
  template <class E>
  requires std::derived_from<std::decay_t<E>, std::exception> T& throw_(E&& e) {
    return throw_(std::make_exception_ptr(std::forward<E>(e)));
  }

  // Python: gen.close(): ends the generator now (its frame, with any yield_from chain, is
  // destroyed). Later next()/send() raise StopIteration. Idempotent.
  void close() noexcept {
    if (handle_) std::exchange(handle_, nullptr).destroy();
  }

  // True once the generator finished (returned, raised, or was closed).
  bool done() const noexcept { return !handle_ || handle_.done(); }

 private:
  friend class detail::GeneratorPromise<T, In>;
  explicit Generator(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}

  promise_type& root() const noexcept { return handle_.promise(); }

  // Resumes the innermost generator; rethrows what escaped the body.
  void advance() {
    if (done()) return;
    promise_type& r = root();
    r.started_ = true;
    r.value_ = nullptr;
    r.leaf_.resume();
    if (handle_.done()) {
      if (auto e = std::exchange(r.exception_, nullptr)) std::rethrow_exception(e);
    }
  }
  T& step() {
    if (done()) throw StopIteration();
    advance();
    if (done()) throw StopIteration();
    return *root().value_;
  }

  std::coroutine_handle<promise_type> handle_;
};

template <class T, class In>
YieldFrom<T, In> yield_from(Generator<T, In>&& inner) noexcept {
  return YieldFrom<T, In>(std::move(inner));
}

// Python: next(gen).
template <class T, class In>
T& next(Generator<T, In>& gen) {
  return gen.next();
}

namespace detail {

template <class T, class In>
Generator<T, In> GeneratorPromise<T, In>::get_return_object() noexcept {
  leaf_ = Handle::from_promise(*this);
  return Generator<T, In>(leaf_);
}

}  // namespace detail

}  // namespace pyconc
