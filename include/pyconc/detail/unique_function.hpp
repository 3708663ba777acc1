// pyconc/detail/unique_function.hpp -- a move-only std::function<void()>-like wrapper.
//
// std::function needs copyable callables; tasks hold move-only things (unique_ptr arguments,
// promises), so pyconc type-erases them with this instead (C++23's std::move_only_function).
// Thread safety: a unique_function is a plain value; calling one object from two threads at
// once is the callable's business.
#pragma once

#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

namespace pyconc::detail {

template <class Signature>
class unique_function;

template <class R, class... Args>
class unique_function<R(Args...)> {
 public:
  unique_function() noexcept = default;
  unique_function(std::nullptr_t) noexcept {}

  template <class F>
  requires(!std::is_same_v<std::decay_t<F>, unique_function> &&
           std::is_invocable_r_v<R, std::decay_t<F>&, Args...>)
      unique_function(
          F&& f)  // NOLINT(google-explicit-constructor): a callable converts, as std::function
      : impl_(std::make_unique<Model<std::decay_t<F>>>(std::forward<F>(f))) {}

  unique_function(unique_function&&) noexcept = default;
  unique_function& operator=(unique_function&&) noexcept = default;
  unique_function& operator=(std::nullptr_t) noexcept {
    impl_.reset();
    return *this;
  }

  explicit operator bool() const noexcept { return impl_ != nullptr; }
  R operator()(Args... args) { return impl_->call(std::forward<Args>(args)...); }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual R call(Args... args) = 0;
  };
  template <class F>
  struct Model final : Concept {
    template <class G>
    explicit Model(G&& g) : fn(std::forward<G>(g)) {}
    R call(Args... args) override {
      // std::apply is std::invoke over a tuple; it spares headers <functional>'s cost.
      if constexpr (std::is_void_v<R>) {
        std::apply(fn, std::forward_as_tuple(std::forward<Args>(args)...));  // result dropped
      } else {
        return std::apply(fn, std::forward_as_tuple(std::forward<Args>(args)...));
      }
    }
    F fn;
  };

  std::unique_ptr<Concept> impl_;
};

}  // namespace pyconc::detail
