#include "self_exec.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "pyconc/errors.hpp"

extern char** environ;  // NOLINT: POSIX

namespace pyconc::detail {

pid_t exec_self(const char* env_var, const std::string& value, std::initializer_list<int> inherit) {
  std::vector<std::string> env_store;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, "PYCONC_MP_", 10) != 0) env_store.emplace_back(*e);
  }
  env_store.push_back(std::string(env_var) + "=" + value);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  char* argv[] = {program_invocation_name, nullptr};

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawnattr_init(&attr);
  for (int fd : inherit) ::posix_spawn_file_actions_adddup2(&fa, fd, fd);  // clears CLOEXEC
  ::posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  sigset_t none;
  sigemptyset(&none);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv, envp.data());
  ::posix_spawn_file_actions_destroy(&fa);
  ::posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    throw OSError(
        rc, std::string("posix_spawn of /proc/self/exe (") + env_var + "): " + std::strerror(rc),
        std::string());
  }
  return pid;
}

}  // namespace pyconc::detail
