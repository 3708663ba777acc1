// The resource tracker for named shared memory (see resource_tracker.hpp).
#include "resource_tracker.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>

#include "self_exec.hpp"

namespace pyconc::detail {

namespace {

[[noreturn]] void run_tracker(int fd) {
  ::unsetenv(kTrackerEnv);
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGTERM, SIG_IGN);
  std::set<std::string> live;
  std::string buf;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // every holder of the write end is gone
    buf.append(chunk, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1) {
      const std::string line = buf.substr(start, nl - start);
      if (line.size() > 2 && line[0] == 'R' && line[1] == ' ') live.insert(line.substr(2));
      if (line.size() > 2 && line[0] == 'U' && line[1] == ' ') live.erase(line.substr(2));
    }
    buf.erase(0, start);
  }
  if (!live.empty()) {
    std::fprintf(stderr,
                 "pyconc resource_tracker: There appear to be %zu leaked shared_memory objects "
                 "to clean up at shutdown\n",
                 live.size());
  }
  for (const std::string& name : live) {
    if (::shm_unlink(("/" + name).c_str()) != 0 && errno != ENOENT) {
      std::fprintf(stderr, "pyconc resource_tracker: cannot unlink '%s'\n", name.c_str());
    }
  }
  std::fflush(stderr);
  ::_exit(0);
}

[[maybe_unused]] const bool kTrackerHook = [] {
  if (const char* v = std::getenv(kTrackerEnv)) {
    const int fd = std::atoi(v);
    if (fd > 2) run_tracker(fd);
    ::_exit(5);
  }
  return true;
}();

std::mutex g_mu;
int g_fd = -1;          // our write end; -1: not started (or failed)
bool g_failed = false;  // do not try again

void send_line(char kind, std::string_view name) noexcept {
  std::lock_guard g(g_mu);
  if (g_fd < 0) {
    if (g_failed || kind == 'U') return;
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      g_failed = true;
      return;
    }
    try {
      exec_self(kTrackerEnv, std::to_string(p[0]), {p[0]});
      // Not reaped by us: it outlives this process by design. Our children share it.
    } catch (...) {
      ::close(p[0]);
      ::close(p[1]);
      g_failed = true;
      return;
    }
    ::close(p[0]);
    g_fd = p[1];
  }
  std::string line;
  try {
    line.reserve(name.size() + 3);
    line += kind;
    line += ' ';
    line += name;
    line += '\n';
  } catch (...) {
    return;
  }
  // Shorter than PIPE_BUF: one atomic write, never interleaved with another process's.
  ssize_t n;
  do {
    n = ::write(g_fd, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
}

}  // namespace

void track_shared_memory(std::string_view name) noexcept {
  send_line('R', name);
}

void untrack_shared_memory(std::string_view name) noexcept {
  send_line('U', name);
}

}  // namespace pyconc::detail
