// pyconc/subprocess/popen.hpp -- Popen, a child process with optional pipes to it.
//
// Python: subprocess.Popen.
//   namespace sp = pyconc::subprocess;
//   sp::Popen p({"cat"}, {.stdin_ = sp::PIPE, .stdout_ = sp::PIPE});
//   auto [out, err] = p.communicate("set q=mx\n");      // out == "set q=mx\n"
//   p.returncode(); p.wait(1s); p.poll(); p.kill(); p.pid();
//
// Starting: see pyconc/detail/spawn.hpp (posix_spawn; only 0/1/2 and pass_fds are
// open in the child; safe while other threads run). A program that cannot be run raises, in
// the constructor, the OSError subclass Python raises: FileNotFoundError for a missing program
// or cwd, PermissionError for one that is not executable. shell=true runs {"/bin/sh", "-c",
// args...}: args[0] is the command line, further items become $0, $1, ...
// returncode(): nullopt until poll()/wait()/communicate() saw the child exit; then its exit
// status, or -N if signal N killed it. wait(timeout)/communicate(input, timeout) raise
// TimeoutExpired and leave the child running (kill() it, then wait()). communicate() writes
// `input` and reads stdout and stderr at once with poll() -- no deadlock however much each side
// sends -- then waits for the child; after a TimeoutExpired, calling it again continues where
// it stopped and returns everything (as Python). It returns ("", "") for streams that are not
// pipes (Python: None). Text mode (text=true): "\r\n"/"\r" read become "\n"; no decoding.
// Signals: send_signal/terminate/kill do nothing once the child is reaped (as Python), and use
// a pidfd, so they can never reach a recycled pid.
//
// Destructor (Python: leaves the child running; `with Popen()` waits for it): closes the pipes,
// reaps the child if it has exited, and otherwise hands it to a background reaper thread
// (detail::hand_to_reaper) that reaps it once it exits. The child is neither waited for nor
// killed, and no zombie is left behind. Call wait() to wait, kill() to stop it.
// Differences: options are a struct (designated initializers in Python's keyword order);
// preexec_fn, user/group/extra_groups, umask and bufsize are not supported (posix_spawn cannot
// run code in the child -- it would not be safe with threads anyway); an int given as
// stdin_/stdout_/stderr_ is a descriptor (PIPE, DEVNULL, STDOUT are typed constants);
// process_group (3.11) and pipesize (3.10) are supported; the child starts with an empty
// signal mask when restore_signals is true; text mode does not decode.
//
// Thread safety: pid(), args(), returncode(), poll(), wait(), send_signal(), terminate(),
// kill() may be called from any threads at once (one of them reaps the child, the others see
// its returncode). communicate() and the Files are for one thread at a time. Destruction and
// moves must not race with anything. Memory ordering: what the child did before exiting (its
// writes to files) is visible once wait()/poll() report its exit.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/path_string.hpp"
#include "pyconc/subprocess/environment.hpp"
#include "pyconc/subprocess/file.hpp"
#include "pyconc/subprocess/redirect.hpp"

namespace pyconc::subprocess {

class Popen;
struct RunOptions;
struct CompletedProcess;
CompletedProcess run(std::vector<std::string> args, RunOptions options);

// Popen's keyword arguments, in Python's order.
struct PopenOptions {
  std::string executable{};  // the program to run instead of args[0] (shell: the shell)
  Redirect stdin_{};
  Redirect stdout_{};
  Redirect stderr_{};     // also STDOUT
  bool close_fds = true;  // false: descriptors not marked close-on-exec leak into the child
  bool shell = false;
  std::optional<detail::PathString> cwd{};  // a string or a std::filesystem::path
  Environment env = std::nullopt;           // not given: inherit; `.env = {}`: empty
  bool text = false;                        // Python's text / universal_newlines
  bool restore_signals = true;
  bool start_new_session = false;
  std::vector<int> pass_fds{};
  std::optional<pid_t> process_group{};
  int pipesize = -1;
};

class Popen {
 public:
  explicit Popen(std::vector<std::string> args, PopenOptions options = {});
  Popen(Popen&& other) noexcept;
  // The child this Popen held is given up as by the destructor.
  Popen& operator=(Popen&& other) noexcept;
  ~Popen();

  // The arguments as given (Python: args).
  const std::vector<std::string>& args() const noexcept;
  pid_t pid() const noexcept;
  std::optional<int> returncode() const noexcept;

  // Reaps the child if it has exited: its returncode, else nullopt (never blocks).
  std::optional<int> poll();
  // Blocks until the child exits; its returncode.
  int wait();
  // TimeoutExpired after `timeout` (the child keeps running). ValueError if negative.
  template <class Rep, class Period>
  int wait(std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = detail::deadline_after(timeout);
    return wait_until(&deadline, std::chrono::duration<double>(timeout));
  }

  // Sends `input` (if any) to stdin and closes it, reads stdout and stderr to end of file, waits
  // for the child. Returns (stdout, stderr). ValueError if `input` is given but stdin is not a
  // PIPE, or on a second call with input.
  std::pair<std::string, std::string> communicate(std::string_view input = {});
  template <class Rep, class Period>
  std::pair<std::string, std::string> communicate(std::string_view input,
                                                  std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = detail::deadline_after(timeout);
    return communicate_until(input, &deadline, std::chrono::duration<double>(timeout));
  }
  template <class Rep, class Period>
  std::pair<std::string, std::string> communicate(std::chrono::duration<Rep, Period> timeout) {
    return communicate(std::string_view(), timeout);
  }

  void send_signal(int sig);
  void terminate();  // SIGTERM
  void kill();       // SIGKILL

  // The parent's ends of the pipes (Python: p.stdin, p.stdout, p.stderr); a closed File for a
  // stream that is not a PIPE.
  File& stdin_() noexcept;
  File& stdout_() noexcept;
  File& stderr_() noexcept;

 private:
  struct State;
  friend CompletedProcess run(std::vector<std::string> args, RunOptions options);

  int wait_until(const detail::Clock::time_point* deadline, std::chrono::duration<double> timeout);
  std::pair<std::string, std::string> communicate_until(std::string_view input,
                                                        const detail::Clock::time_point* deadline,
                                                        std::chrono::duration<double> timeout);
  // For run() after a timeout: kills and reaps the child, then returns all it wrote to the
  // pipes (what communicate gathered plus what is still in the pipes, without waiting for
  // grandchildren that may hold the pipes open).
  std::pair<std::string, std::string> kill_and_collect();
  void release() noexcept;

  std::unique_ptr<State> s_;
};

}  // namespace pyconc::subprocess
