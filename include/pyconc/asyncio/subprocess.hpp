// pyconc/asyncio/subprocess.hpp -- child processes driven by the event loop.
//
// Python: asyncio.create_subprocess_exec / create_subprocess_shell and asyncio.subprocess.Process.
//   auto proc = co_await aio::create_subprocess_exec({"ls", "-l"}, {.stdout_ = aio::PIPE});
//   auto [out, err] = co_await proc.communicate();        // out: ls's output; err: ""
//   auto sh = co_await aio::create_subprocess_shell("sort | uniq -c",
//                                                    {.stdin_ = aio::PIPE, .stdout_ = aio::PIPE});
//   sh.stdin_().write("b\na\nb\n");  sh.stdin_().close();
//   std::string line = co_await sh.stdout_().readline();
//   int rc = co_await sh.wait();  sh.returncode();  sh.pid();  sh.kill();
// Starting: the spawning core of pyconc::subprocess (posix_spawn, safe beside threads; a program
// that cannot be run raises FileNotFoundError/PermissionError at once). The parent's pipe ends
// are non-blocking StreamWriter/StreamReader on the loop (one registration each).
// Exit: the child's pidfd is registered with the loop's reactor -- no SIGCHLD handler, no
// thread, no polling -- and the child is reaped as soon as it exits, whether or not anyone
// waits (returncode() is set then: the exit status, or -N if signal N killed it). On kernels
// without pidfd_open (before 5.3) the loop polls waitid(WNOHANG) on a timer instead, backing
// off from 1 ms to 50 ms.
// communicate(input) writes `input` to stdin and closes it while reading stdout and stderr to
// EOF, all at once (no deadlock however much each side produces), then waits for the exit; a
// child that stops reading its stdin (BrokenPipeError) is not an error, as Python.
// Differences: options are a struct whose strings are views (see SubprocessOptions);
// pid()/returncode()/stdin_()/stdout_()/stderr_() are methods (as pyconc's
// subprocess::Popen); a stream that is not a PIPE raises ValueError instead of being None, and
// communicate() returns "" for it. wait() returns as soon as the child exits, without waiting
// for the pipes to close (Python 3.12). A Process is a handle: copies name the same child.
// When the last copy goes the pipes are closed and a child still running is handed to
// subprocess's background reaper (never killed, never left a zombie).
//
// Cancellation: wait() and communicate() are cancellable (the child keeps running;
// communicate's feeding and reading tasks are cancelled with it).
// Thread safety: loop-thread only; send_signal/terminate/kill never reach a recycled pid.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/asyncio/detail/arg_list.hpp"
#include "pyconc/asyncio/stream_reader.hpp"
#include "pyconc/asyncio/stream_writer.hpp"
#include "pyconc/asyncio/task.hpp"
#include "pyconc/subprocess/environment.hpp"
#include "pyconc/subprocess/redirect.hpp"

namespace pyconc::detail {
class AsyncSubprocessState;
}

namespace pyconc::asyncio {

// Python: asyncio.subprocess.PIPE / DEVNULL / STDOUT (the same values as subprocess's).
inline constexpr subprocess::Redirect PIPE = subprocess::PIPE;
inline constexpr subprocess::Redirect DEVNULL = subprocess::DEVNULL;
inline constexpr subprocess::Redirect STDOUT = subprocess::STDOUT;

// A reference to a subprocess::Environment that an options struct can hold (see below), or one
// of the two environments that need no object: `{}` (empty, Python's env={}) and `std::nullopt`
// (inherit, Python's env=None -- what the options hold when env is not given).
class EnvironmentRef {
 public:
  EnvironmentRef() noexcept = default;  // `.env = {}`: the child starts with no variables
  EnvironmentRef(std::nullopt_t) noexcept : inherit_(true) {}                  // NOLINT: implicit
  EnvironmentRef(const subprocess::Environment& env) noexcept : env_(&env) {}  // NOLINT: implicit
  // The referenced Environment; null for the two object-less ones.
  const subprocess::Environment* get() const noexcept { return env_; }
  // Whether the child inherits the parent's environment.
  bool inherits() const noexcept { return env_ != nullptr ? env_->inherits() : inherit_; }

 private:
  const subprocess::Environment* env_ = nullptr;
  bool inherit_ = false;
};

// The keyword arguments of create_subprocess_exec/_shell (Popen's, minus text mode).
// Every member is trivially destructible -- strings are views, env a reference, pass_fds a
// span -- because GCC 12 miscompiles an aggregate temporary with a non-trivial destructor in a
// co_await expression (it constructs and destroys its members at the wrong address), and this
// struct is meant to be written inline: `co_await create_subprocess_exec(args, {.stdout_ =
// aio::PIPE})`. What the views name is copied when the function is called, so they only have
// to live until then.
struct SubprocessOptions {
  subprocess::Redirect stdin_{};
  subprocess::Redirect stdout_{};
  subprocess::Redirect stderr_{};                   // also STDOUT
  std::size_t limit = StreamReader::default_limit;  // of the stdout/stderr readers
  std::string_view cwd{};                           // empty: the parent's working directory
  EnvironmentRef env = std::nullopt;                // not given: the parent's; {}: empty
  std::string_view executable{};  // the program to run instead of args[0] (shell: the shell)
  bool close_fds = true;
  std::span<const int> pass_fds{};
  bool restore_signals = true;
  bool start_new_session = false;
  std::optional<pid_t> process_group{};
};
static_assert(std::is_trivially_destructible_v<SubprocessOptions>, "see the comment above");

class Process {
 public:
  explicit Process(std::shared_ptr<detail::AsyncSubprocessState> s) noexcept : s_(std::move(s)) {}

  pid_t pid() const noexcept;
  // nullopt while the child runs; then its exit status, or -N if signal N killed it.
  std::optional<int> returncode() const noexcept;

  // The parent's ends of the pipes (Python: proc.stdin / proc.stdout / proc.stderr);
  // ValueError for a stream that was not created with PIPE.
  StreamWriter& stdin_() const;
  StreamReader& stdout_() const;
  StreamReader& stderr_() const;

  // Waits for the child to exit; its returncode. (With PIPEs, read them meanwhile -- or use
  // communicate() -- or a child that fills a pipe never exits.)
  Task<int> wait() const;
  // Feeds `input` to stdin (then closes it) while reading stdout and stderr to EOF, then waits
  // for the exit. Returns (stdout, stderr), "" for a stream that is not a PIPE.
  Task<std::pair<std::string, std::string>> communicate(std::string input = {}) const;

  // Signals go through the pidfd; a no-op once the child was reaped (as Python).
  void send_signal(int sig) const;
  void terminate() const;  // SIGTERM
  void kill() const;       // SIGKILL

 private:
  std::shared_ptr<detail::AsyncSubprocessState> s_;
};

// Python: asyncio.create_subprocess_exec(program, *args, ...): runs args[0] (looked up in
// PATH) with args. ValueError for empty args; FileNotFoundError/PermissionError if it cannot
// be run. (`args` converts from a std::vector<std::string> or a braced list of strings.)
Task<Process> create_subprocess_exec(detail::ArgList args, SubprocessOptions options = {});
// Python: asyncio.create_subprocess_shell(cmd, ...): runs `cmd` with /bin/sh -c.
Task<Process> create_subprocess_shell(std::string cmd, SubprocessOptions options = {});

}  // namespace pyconc::asyncio
