// pyconc/detail/cpu.hpp -- how many CPUs this process may actually use.
//
// Python's os.cpu_count() counts the host's CPUs; os.process_cpu_count() (3.13) honours the
// affinity mask. pyconc sizes pools from the stricter figure: the affinity mask, further
// capped by a cgroup CPU quota (containers: cpu.max / cpu.cfs_quota_us), at least 1.
// Thread safety: computed once, then a plain read.
#pragma once

namespace pyconc::detail {

int process_cpu_count() noexcept;

}  // namespace pyconc::detail
