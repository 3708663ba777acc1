// pyconc/multiprocessing/detail/framing.hpp -- length-prefixed messages on a byte stream (pipes,
// sockets).
//
// A frame is a 4-byte little-endian length followed by the payload; payloads of 4 GiB - 1 bytes
// or more carry 0xFFFFFFFF and then an 8-byte length. (Python's Connection uses the same shape,
// big-endian; both ends here are the same binary on the same machine.) A frame is written
// with one sendmsg/writev call where the kernel takes it whole (MSG_NOSIGNAL on sockets: a
// closed peer is a BrokenPipeError, never a SIGPIPE), and read exactly -- never a byte past
// the frame, so several processes may take turns reading one stream.
// Thread safety: functions of the calling thread; one frame at a time per fd and direction.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "pyconc/detail/deadline.hpp"

namespace pyconc::detail {

// Writes one frame. BrokenPipeError when the reader is gone, OSError for other failures.
void write_frame(int fd, std::string_view payload);

// Reads one frame into `out` (replacing its contents). Returns false on end of stream before
// the first byte of a frame; EOFError("...truncated...") when the stream ends inside a frame.
// OSError("bad message length") when the frame is longer than `maxlength`; the stream is then
// unusable (the frame was not read).
bool read_frame(int fd, std::string& out, std::size_t maxlength = static_cast<std::size_t>(-1));

// Whether `fd` has something to read (or is at its end, or is a pidfd whose process ended),
// waiting until `deadline` (Clock::time_point::max(): without limit). Signals do not cut the
// wait short. OSError if poll() fails.
bool wait_readable(int fd, Clock::time_point deadline);

}  // namespace pyconc::detail
