// Internal to src/multiprocessing: running this program again in a helper mode (a spawned pool
// worker, the fork server).
#pragma once

#include <sys/types.h>

#include <initializer_list>
#include <string>

namespace pyconc::detail {

// posix_spawn of /proc/self/exe with `env_var=value` added to the environment (every other
// PYCONC_MP_* variable removed), stdin from /dev/null, no signal blocked, and the descriptors
// of `inherit` kept open at the same numbers. Returns the pid; OSError on failure.
pid_t exec_self(const char* env_var, const std::string& value, std::initializer_list<int> inherit);

}  // namespace pyconc::detail
