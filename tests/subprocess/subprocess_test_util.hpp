// tests/subprocess/subprocess_test_util.hpp -- what the subprocess tests share: reading
// /proc about our children, and a global check that no test leaves a zombie behind.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <dirent.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/detail/spawn.hpp"

namespace sp_test {

struct ProcStat {
  char state = '?';
  pid_t ppid = -1;
  pid_t pgrp = -1;
  pid_t session = -1;
};

// State and parent of `pid` from /proc/<pid>/stat; nullopt once the process is gone.
inline std::optional<ProcStat> proc_stat(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return std::nullopt;
  const std::size_t close = line.rfind(')');  // comm may hold spaces and parentheses
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  ProcStat st;
  rest >> st.state >> st.ppid >> st.pgrp >> st.session;
  return st;
}

// Gone for us: no such process, or a recycled pid that is not our child.
inline bool process_gone(pid_t pid) {
  const auto st = proc_stat(pid);
  return !st || st->ppid != getpid();
}

// Our children that are zombies (exited, never reaped).
inline std::vector<pid_t> zombie_children() {
  std::vector<pid_t> zombies;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    const auto st = proc_stat(pid);
    if (st && st->ppid == getpid() && st->state == 'Z') zombies.push_back(pid);
  }
  return zombies;
}

// Waits (at most `limit`) until `done()` holds, looking every millisecond or so. For states
// another process or the reaper thread reaches on its own, with nothing to synchronise on.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// The descriptors open in process `pid` (ours or a child's), from /proc/<pid>/fd.
inline std::set<int> open_fds(pid_t pid) {
  std::set<int> fds;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    fds.insert(std::stoi(entry.path().filename()));
  }
  return fds;
}

// After every test: the reaper holds no child and none of our children is a zombie.
class NoZombies : public ::testing::Environment {
 public:
  void TearDown() override {
    const bool clean = eventually(
        [] { return pyconc::detail::reaper_pending() == 0 && zombie_children().empty(); });
    EXPECT_TRUE(clean) << "children left: reaper holds " << pyconc::detail::reaper_pending()
                       << ", zombies " << zombie_children().size();
  }
};

inline ::testing::Environment* const no_zombies =
    ::testing::AddGlobalTestEnvironment(new NoZombies);

}  // namespace sp_test
