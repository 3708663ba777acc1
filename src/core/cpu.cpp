#include "pyconc/detail/cpu.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>

namespace pyconc::detail {
namespace {

int affinity_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

// CPUs allowed by a cgroup quota, or 0 when there is none.
int cgroup_quota() {
  // cgroup v2: "max 100000" or "<quota> <period>".
  if (std::ifstream f("/sys/fs/cgroup/cpu.max"); f) {
    std::string quota;
    double period = 0;
    if (f >> quota >> period && quota != "max" && period > 0) {
      return std::max(1, static_cast<int>(std::ceil(std::stod(quota) / period)));
    }
    return 0;
  }
  // cgroup v1.
  std::ifstream q("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
  std::ifstream p("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  double quota = -1, period = 0;
  if (q >> quota && p >> period && quota > 0 && period > 0) {
    return std::max(1, static_cast<int>(std::ceil(quota / period)));
  }
  return 0;
}

}  // namespace

int process_cpu_count() noexcept {
  static const int n = [] {
    int cpus = affinity_count();
    try {
      if (const int quota = cgroup_quota(); quota > 0) cpus = std::min(cpus, quota);
    } catch (...) {  // unreadable or malformed cgroup files: keep the affinity count
    }
    return std::max(1, cpus);
  }();
  return n;
}

}  // namespace pyconc::detail
