// pyconc/subprocess/redirect.hpp -- where a child's stdin/stdout/stderr go: PIPE, DEVNULL,
// STDOUT, an existing file descriptor, or (the default) the parent's own stream.
//
// Python: the values accepted by Popen's stdin=/stdout=/stderr= arguments -- subprocess.PIPE,
// subprocess.DEVNULL, subprocess.STDOUT, a file descriptor, or None (inherit).
//   sp::Popen p({"cat"}, {.stdin_ = sp::PIPE, .stdout_ = fd, .stderr_ = sp::STDOUT});
// Difference: a typed value instead of Python's small negative integers; an int converts
// implicitly and names a file descriptor (a negative one is a ValueError when the process is
// started). Python's file objects are given by their descriptor (fileno()). STDOUT is only
// valid for stderr (ValueError elsewhere). A descriptor is duplicated for the child, never
// closed or taken over.
// Thread safety: a plain value.
#pragma once

#include "pyconc/detail/redirect.hpp"

namespace pyconc::subprocess {

using Redirect = pyconc::detail::Redirect;

// Python: subprocess.PIPE -- a new pipe to the child; the parent's end is Popen::stdin_() etc.
inline constexpr Redirect PIPE{Redirect::Kind::pipe};
// Python: subprocess.DEVNULL -- the child's stream is /dev/null.
inline constexpr Redirect DEVNULL{Redirect::Kind::devnull};
// Python: subprocess.STDOUT -- for stderr only: the child's stderr goes where its stdout goes.
inline constexpr Redirect STDOUT{Redirect::Kind::stdout_};

}  // namespace pyconc::subprocess
