// pyconc/detail/callback_handle.hpp -- what add_done_callback returns (Future and aio::Task).
//
// Python removes a done-callback by passing the same function again; C++ lambdas cannot be
// compared, so add_done_callback returns a handle naming its registration, and
// remove_done_callback accepts either that handle or a plain function pointer (which is
// compared, as Python compares functions). Plain data: copy it anywhere.
#pragma once

#include <cstdint>

namespace pyconc {

// Names one add_done_callback registration. An empty handle (id 0) names nothing: the callback
// had already been run or scheduled when it was added.
struct CallbackHandle {
  std::uint64_t id = 0;
  explicit operator bool() const noexcept { return id != 0; }
  friend bool operator==(CallbackHandle, CallbackHandle) = default;
};

namespace detail {
// Identifies a function-pointer callback, for remove_done_callback(fn).
using CallbackKey = void (*)();
}  // namespace detail

}  // namespace pyconc
