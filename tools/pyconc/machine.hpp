// tools/pyconc/machine.hpp -- what the machine offers this process, and how much of it others
// took while we measured.
//
// The machines pyconc is developed on are shared 2-core VMs: a speed-up measured while a
// compiler runs beside us is not a speed-up of ours. OtherLoad turns that into a number the
// report prints, so a reader knows when to distrust a table.
//
// Thread safety: none needed -- used from the main thread.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

namespace pyconc::tool {

// The CPUs this process may run on (sched_getaffinity), ascending. Never empty.
std::vector<int> affinity_cpus();
// Their number, like Python 3.13's os.process_cpu_count(); at least 1.
int available_cpu_count();

// CPU time used on our CPUs by processes other than this one and its waited-for children,
// between start() and stop(), as a fraction of what those CPUs could do in that time.
// Read from /proc/stat (per-CPU lines of our affinity set) and getrusage.
class OtherLoad {
 public:
  void start();
  // nullopt when /proc/stat could not be read, or less than half a second passed.
  std::optional<double> stop();

 private:
  struct Sample {
    double busy = 0;  // seconds all our CPUs were busy
    double ours = 0;  // seconds of CPU used by us and our waited-for children
    std::chrono::steady_clock::time_point when;
    bool ok = false;
  };
  static Sample sample();

  Sample start_;
};

}  // namespace pyconc::tool
