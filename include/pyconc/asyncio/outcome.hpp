// pyconc/asyncio/outcome.hpp -- aio::Outcome<T>: a value or an exception.
//
// What gather(..., aio::return_exceptions) returns for each awaitable (Python puts the value or
// the exception object in the result list).
//   for (auto& o : co_await aio::gather(std::move(tasks), aio::return_exceptions))
//     if (o.has_value()) use(o.value()); else log(o.exception());
// value() rethrows the stored exception. Thread safety: a plain value.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "pyconc/errors.hpp"

namespace pyconc::asyncio {

template <class T>
class Outcome {
 public:
  explicit Outcome(std::exception_ptr e) noexcept : error_(std::move(e)) {}
  template <class U = T>
  requires(!std::is_void_v<U>) explicit Outcome(U&& v) : value_(std::forward<U>(v)) {}
  Outcome() requires std::is_void_v<T>
  = default;

  bool has_value() const noexcept { return error_ == nullptr; }
  explicit operator bool() const noexcept { return has_value(); }
  const std::exception_ptr& exception() const noexcept { return error_; }
  decltype(auto) value() & {
    if (error_) std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<T>) return static_cast<T&>(*value_);
  }
  decltype(auto) value() const& {
    if (error_) std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<T>) return static_cast<const T&>(*value_);
  }
  decltype(auto) value() && {
    if (error_) std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<T>) return T(std::move(*value_));
  }

 private:
  struct Empty {};
  std::optional<std::conditional_t<std::is_void_v<T>, Empty, T>> value_;
  std::exception_ptr error_;
};

}  // namespace pyconc::asyncio
