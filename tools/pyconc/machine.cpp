// tools/pyconc/machine.cpp -- CPU affinity and the CPU time of other processes.
#include "machine.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace pyconc::tool {

std::vector<int> affinity_cpus() {
  std::vector<int> cpus;
  // CPU_ALLOC sets grow until the kernel's mask fits (machines with > 1024 CPUs).
  for (int ncpus = 1024; ncpus <= (1 << 20) && cpus.empty(); ncpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(ncpus);
    if (set == nullptr) break;
    const std::size_t bytes = CPU_ALLOC_SIZE(ncpus);
    CPU_ZERO_S(bytes, set);
    const bool ok = sched_getaffinity(0, bytes, set) == 0;
    const int err = errno;
    if (ok) {
      for (int cpu = 0; cpu < ncpus; ++cpu) {
        if (CPU_ISSET_S(cpu, bytes, set)) cpus.push_back(cpu);
      }
    }
    CPU_FREE(set);
    if (!ok && err != EINVAL) break;
  }
  if (cpus.empty()) {
    const unsigned online = std::max(1U, std::thread::hardware_concurrency());
    for (unsigned cpu = 0; cpu < online; ++cpu) cpus.push_back(static_cast<int>(cpu));
  }
  return cpus;
}

int available_cpu_count() {
  return static_cast<int>(affinity_cpus().size());
}

OtherLoad::Sample OtherLoad::sample() {
  Sample s;
  s.when = std::chrono::steady_clock::now();

  rusage self{};
  rusage children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6;
  };
  s.ours = seconds(self.ru_utime) + seconds(self.ru_stime) + seconds(children.ru_utime) +
           seconds(children.ru_stime);

  // "cpuN user nice system idle iowait irq softirq steal ..." in clock ticks.
  std::ifstream stat("/proc/stat");
  if (!stat) return s;
  const std::vector<int> mine = affinity_cpus();
  const double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::string line;
  int seen = 0;
  while (std::getline(stat, line)) {
    int cpu = -1;
    if (line.rfind("cpu", 0) != 0 || line.size() < 4 || line[3] == ' ') continue;
    std::istringstream in(line.substr(3));
    if (!(in >> cpu) || !std::binary_search(mine.begin(), mine.end(), cpu)) continue;
    double field[8] = {};
    for (double& f : field) in >> f;
    const double total =
        field[0] + field[1] + field[2] + field[3] + field[4] + field[5] + field[6] + field[7];
    s.busy += (total - field[3] - field[4]) * tick;  // minus idle and iowait
    ++seen;
  }
  s.ok = seen > 0;
  return s;
}

void OtherLoad::start() {
  start_ = sample();
}

std::optional<double> OtherLoad::stop() {
  const Sample end = sample();
  if (!start_.ok || !end.ok) return std::nullopt;
  const double wall = std::chrono::duration<double>(end.when - start_.when).count();
  if (wall < 0.5) return std::nullopt;  // a few clock ticks say nothing
  const double capacity = wall * available_cpu_count();
  const double others = (end.busy - start_.busy) - (end.ours - start_.ours);
  return std::clamp(others / capacity, 0.0, 1.0);
}

}  // namespace pyconc::tool
