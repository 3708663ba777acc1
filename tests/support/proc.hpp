// tests/support/proc.hpp -- what the tests read from /proc about this process and its children:
// the open file descriptors, a process's state and parent, zombie children, whether any child
// is left; and eventually(), the bounded wait for a state another process reaches on its own.
// One copy for every test folder (tests/CMakeLists.txt puts tests/support on the include path).
#pragma once

#include <dirent.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace test_support {

// The names in directory `path` (without "." and ".."); empty if it cannot be opened.
inline std::set<std::string> list_dir(const std::string& path) {
  std::set<std::string> out;
  if (DIR* d = ::opendir(path.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") out.insert(n);
    }
    ::closedir(d);
  }
  return out;
}

// The descriptors open in process `pid` (this process by default, or a child), from
// /proc/<pid>/fd. For this process, the descriptor used to read the directory is left out, so
// two calls compare equal when nothing was opened or closed in between.
inline std::set<int> open_fds(pid_t pid = ::getpid()) {
  std::set<int> fds;
  DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return fds;
  const int own = pid == ::getpid() ? ::dirfd(d) : -1;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const int fd = std::stoi(e->d_name);
    if (fd != own) fds.insert(fd);
  }
  ::closedir(d);
  return fds;
}

// How many descriptors this process has open (see open_fds).
inline int count_fds() {
  return static_cast<int>(open_fds().size());
}

struct ProcStat {
  char state = '?';  // 'R', 'S', 'Z', ...
  pid_t ppid = -1;
  pid_t pgrp = -1;
  pid_t session = -1;
};

// State, parent, group and session of `pid` from /proc/<pid>/stat; nullopt once it is gone.
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
  return !st || st->ppid != ::getpid();
}

// Our children that are zombies (exited, never reaped).
inline std::vector<pid_t> zombie_children() {
  std::vector<pid_t> zombies;
  const pid_t self = ::getpid();
  for (const auto& name : list_dir("/proc")) {
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto pid = static_cast<pid_t>(std::stol(name));
    const auto st = proc_stat(pid);
    if (st && st->ppid == self && st->state == 'Z') zombies.push_back(pid);
  }
  return zombies;
}

// True if this process has any child (running or zombie), without reaping it.
inline bool has_children() {
  siginfo_t info{};
  const int r = ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT);
  return !(r < 0 && errno == ECHILD);
}

// Waits (at most `limit`) until `done()` holds, looking every millisecond or so. Only for
// states another process or a library thread reaches on its own, with nothing to synchronise
// on (a child's exit seen in /proc, the reaper's count); never to order two of our threads.
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace test_support
