// pyconc/detail/redirect.hpp -- the value type behind subprocess::Redirect (PIPE, DEVNULL,
// STDOUT, a descriptor, inherit). It lives in the shared detail/ because the spawning core
// (detail/spawn.hpp) serves both subprocess and asyncio; users name it subprocess::Redirect
// (pyconc/subprocess/redirect.hpp documents it).
// Thread safety: a plain value.
#pragma once

namespace pyconc::detail {

class Redirect {
 public:
  enum class Kind { inherit, pipe, devnull, stdout_, fd };

  // Inherit the parent's stream (Python's None).
  constexpr Redirect() noexcept = default;
  constexpr Redirect(Kind kind) noexcept : kind_(kind) {}  // NOLINT: implicit, like Python's ints
  // The child's stream is a duplicate of the parent's descriptor `fd`.
  constexpr Redirect(int fd) noexcept : kind_(Kind::fd), fd_(fd) {}  // NOLINT

  constexpr Kind kind() const noexcept { return kind_; }
  // The descriptor, for Kind::fd (else -1).
  constexpr int fd() const noexcept { return fd_; }
  constexpr bool is_pipe() const noexcept { return kind_ == Kind::pipe; }
  constexpr bool inherits() const noexcept { return kind_ == Kind::inherit; }

  friend constexpr bool operator==(const Redirect&, const Redirect&) noexcept = default;

 private:
  Kind kind_ = Kind::inherit;
  int fd_ = -1;
};

}  // namespace pyconc::detail
