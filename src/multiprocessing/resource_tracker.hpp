// Internal to src/multiprocessing: the resource tracker (Python's
// multiprocessing.resource_tracker) for named shared memory blocks.
//
// At the first SharedMemory this process creates, a tracker process is started
// (/proc/self/exe again, with PYCONC_MP_TRACKER=<fd>: it stops after static initialization,
// like a spawned pool worker). The creator tells it "R <name>" when a block is made and
// "U <name>" when it is unlinked, through a pipe whose write end this process and the children
// it forks hold. When every holder is gone -- ended, crashed or SIGKILLed -- the tracker reads
// end of file, unlinks the blocks still registered (their names would otherwise stay in
// /dev/shm until reboot), reports them on stderr as Python does, and exits. It ignores SIGINT
// and SIGTERM, so a Ctrl-C that ends the program does not stop the clean-up.
#pragma once

#include <string_view>

namespace pyconc::detail {

inline constexpr const char* kTrackerEnv = "PYCONC_MP_TRACKER";

// Best effort: a tracker that cannot be started or reached leaves the block untracked (as
// Python warns and goes on). Any thread.
void track_shared_memory(std::string_view name) noexcept;
void untrack_shared_memory(std::string_view name) noexcept;

}  // namespace pyconc::detail
