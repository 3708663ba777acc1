// pyconc/detail/spawn.hpp -- starting and reaping child processes: the core shared by
// subprocess::Popen and asyncio's create_subprocess_exec/_shell.
//
//   detail::SpawnOptions o;
//   o.stdin_ = subprocess::PIPE; o.stdout_ = subprocess::PIPE; o.nonblocking = true;  // asyncio
//   detail::SpawnedProcess child = detail::spawn_process({"cat"}, o);
//   // child.pid; child.pidfd (readable once the child exits: put it in an epoll set);
//   // child.stdin_ / child.stdout_ / child.stderr_: the parent's pipe ends (-1 if not PIPE)
//   std::optional<int> rc = detail::try_reap(child.pid);   // after the pidfd is readable
//
// How a child starts (spawn_process): posix_spawn(), which glibc implements with
// clone(CLONE_VM | CLONE_VFORK): the child runs only glibc's own async-signal-safe code between
// the clone and the exec, so it is safe while the parent runs many threads (no fork of a
// multi-threaded address space, no malloc lock inherited mid-use), and ThreadSanitizer sees no
// fork. The exec's failure (missing program, cwd not a directory, ...) comes back as
// posix_spawn's result and is raised in the parent as Python does it: FileNotFoundError,
// PermissionError, ... (pyconc/errors.hpp) naming the program or the cwd.
// Descriptor hygiene: every descriptor we create is O_CLOEXEC (so a child started concurrently
// by another thread never inherits our pipe ends); the child keeps only 0/1/2 (close_range from
// 3 up, done by posix_spawn_file_actions_addclosefrom_np) plus `pass_fds`.
// The program is looked up in the PATH of the child's environment when `env` is given (else
// the parent's PATH, else "/bin:/usr/bin"), like Python; argv[0] is passed unchanged.
// Signals (restore_signals): SIGPIPE and SIGXFSZ get their default action back and the child
// starts with an empty signal mask (a blocked signal in the spawning thread is not inherited).
//
// Reaping: try_reap() / reap() turn a wait status into Python's returncode (exit status, or
// -signal). wait_exited() blocks on the pidfd with poll() (no busy polling), falling back to
// a short sleep loop where pidfd_open() is not available (ENOSYS). hand_to_reaper() gives a
// still-running child to a background thread that reaps it when it exits: no zombies are left
// behind by a Popen that is destroyed while its child runs.
//
// Thread safety: every function may be called from any thread. Reaping a given pid must be
// serialised by its owner (Popen holds a mutex); nothing here calls waitpid(-1).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/path_string.hpp"
#include "pyconc/detail/redirect.hpp"
#include "pyconc/detail/unique_fd.hpp"

namespace pyconc::detail {

struct SpawnOptions {
  Redirect stdin_{};
  Redirect stdout_{};
  Redirect stderr_{};  // STDOUT allowed here only
  // Run `argv[0]` with `/bin/sh -c` (Python's shell=True): argv = {"/bin/sh", "-c", argv...}.
  bool shell = false;
  // The program to run instead of argv[0] (argv[0] is still what the child sees); with shell,
  // the shell to use instead of /bin/sh.
  std::string executable{};
  std::optional<detail::PathString> cwd{};  // a string or a std::filesystem::path
  // "NAME=value" strings; nullopt: the parent's environment.
  std::optional<std::vector<std::string>> env{};
  bool close_fds = true;        // false: descriptors without O_CLOEXEC leak into the child
  std::vector<int> pass_fds{};  // kept open in the child (implies close_fds)
  bool restore_signals = true;
  bool start_new_session = false;        // setsid() in the child
  std::optional<pid_t> process_group{};  // setpgid(0, pgid) in the child (0: its own group)
  int pipesize = -1;                     // > 0: F_SETPIPE_SZ on each new pipe
  bool nonblocking = false;              // parent ends of the pipes get O_NONBLOCK
};

struct SpawnedProcess {
  pid_t pid = -1;
  UniqueFd pidfd;                     // -1 where pidfd_open() is unavailable
  UniqueFd stdin_, stdout_, stderr_;  // parent ends of PIPE streams (O_CLOEXEC), else -1
};

// Starts `argv` (non-empty, else ValueError). ValueError for inconsistent options; the
// OSError subclass of the failure otherwise (the child is never left behind on failure).
SpawnedProcess spawn_process(const std::vector<std::string>& argv, const SpawnOptions& options);

// The argv actually executed for `args` under `shell` / `executable` (see SpawnOptions).
std::vector<std::string> shell_argv(const std::vector<std::string>& args,
                                    const std::string& executable);

// Python's returncode for a waitpid() status: the exit status, or -N when killed by signal N.
int returncode_from_status(int status) noexcept;

// Reaps `pid` if it has exited: its returncode, or nullopt while it runs. A pid that is not
// our child (ECHILD: someone else reaped it, e.g. SIGCHLD is ignored) counts as exit code 0,
// as in Python.
std::optional<int> try_reap(pid_t pid);
// Blocks until `pid` exits, then reaps it (ECHILD -> 0).
int reap(pid_t pid);

// Blocks until the child has exited (it stays a zombie until reaped) or `deadline` passes
// (deadline may be null: no limit). Returns false on timeout. With a pidfd: poll() on it; with
// pidfd < 0: waitid(WNOWAIT) polls with a growing sleep (0.5 ms .. 50 ms), like Python's.
bool wait_exited(int pidfd, pid_t pid, const Clock::time_point* deadline);

// Sends `sig` to the child. With a pidfd this can never hit a recycled pid; without, the caller
// must know that the child is not yet reaped. A child that is already gone is not an error.
void send_signal(int pidfd, pid_t pid, int sig);

// Hands a child that may still run to the background reaper, which reaps it once it exits.
// The reaper thread starts when needed and ends when it has no child left.
void hand_to_reaper(pid_t pid, UniqueFd pidfd) noexcept;
// Children the reaper holds that have not been reaped yet (for tests).
std::size_t reaper_pending() noexcept;

// Whether pidfd_open() works on this kernel; set_pidfd_enabled(false) makes spawn_process
// return no pidfd, so that tests can run the fallback paths.
bool pidfd_enabled() noexcept;
void set_pidfd_enabled(bool enabled) noexcept;

// Writing to a pipe without SIGPIPE. While a SigpipeBlock lives, SIGPIPE is blocked in this
// thread, so a write to a pipe whose reader is gone fails with EPIPE; the SIGPIPE it raised is
// consumed when the block ends (unless one was already pending before: not ours to take), and
// the thread's signal mask is restored. One block may cover many writes (communicate's loop).
class SigpipeBlock {
 public:
  SigpipeBlock() noexcept;
  ~SigpipeBlock();
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

  // write(2), EINTR retried: the byte count (possibly short), or -1 with errno set (EPIPE,
  // EAGAIN on a full non-blocking pipe, ...).
  long write(int fd, const void* data, std::size_t size) noexcept;

 private:
  sigset_t old_mask_;
  bool was_pending_ = false;
  bool raised_ = false;
};

// One write(2) in its own SigpipeBlock.
long write_no_sigpipe(int fd, const void* data, std::size_t size) noexcept;

}  // namespace pyconc::detail
