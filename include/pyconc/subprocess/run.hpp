// pyconc/subprocess/run.hpp -- run(), call(), check_call(), check_output(), getoutput(),
// getstatusoutput() and their result, CompletedProcess.
//
// Python: subprocess.run and the older helpers built on it.
//   namespace sp = pyconc::subprocess;
//   auto r = sp::run({"nslookup", "python.org"}, {.capture_output = true, .timeout = 10s});
//   r.returncode; r.stdout_text; r.stderr_text; r.check_returncode();
//   sp::run({"false"}, {.check = true});                  // CalledProcessError
//   sp::run({"sort"}, {.input = "b\na\n", .capture_output = true}).stdout_text;  // "a\nb\n"
//   int rc = sp::call({"ls", "-l"});  std::string o = sp::check_output({"echo", "hi"});
//   sp::run({"echo $HOME"}, {.shell = true});             // /bin/sh -c 'echo $HOME'
//
// run() starts a Popen, communicate()s (input, timeout) and waits. On timeout it kills the
// child (SIGKILL), reaps it and raises TimeoutExpired carrying what the child had written;
// check=true raises CalledProcessError when the returncode is not 0. Any other exception on the
// way also kills and reaps the child first. A program that cannot be started raises the OSError
// subclass Python raises (FileNotFoundError, PermissionError).
// Text vs bytes: stdout_text/stderr_text are std::string in both modes (bytes as the child
// wrote them); text=true only applies universal newlines ("\r\n", "\r" -> "\n").
// Differences: options are RunOptions, in Python's keyword order (designated initializers must
// keep that order); call/check_call/check_output take the same RunOptions (so they also accept
// input). After a timeout Python waits for the pipes to reach end of file, which hangs if a
// grandchild keeps them open; run() takes what is in the pipes once the child is dead and
// returns without waiting for grandchildren.
//
// Thread safety: every function here may be called from any number of threads at once.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/path_string.hpp"
#include "pyconc/subprocess/environment.hpp"
#include "pyconc/subprocess/redirect.hpp"

namespace pyconc::subprocess {

// run()'s `input`: bytes for the child's stdin, or none (Python: input=None; an empty input is
// not none: the child gets a pipe at end of file). Like Python, which passes its bytes object
// by reference, a named string, a string_view or a literal is referred to, not copied (copying
// a large input costs more CPU than the whole exchange with the child): it must outlive the
// run() call -- which `run(args, {.input = data})` guarantees; keep that in mind when storing a
// RunOptions. A temporary std::string (or one given with std::move) is moved in and owned.
class Input {
 public:
  Input() noexcept = default;                                                          // no input
  Input(std::string&& data) noexcept : owned_(std::move(data)), kind_(Kind::owned) {}  // NOLINT
  Input(const std::string& data) noexcept : viewed_(data), kind_(Kind::viewed) {}      // NOLINT
  Input(std::string_view data) noexcept : viewed_(data), kind_(Kind::viewed) {}        // NOLINT
  Input(const char* data)  // NOLINT: viewed
      : viewed_(data != nullptr ? data : ""), kind_(Kind::viewed) {}

  // Whether an input was given (even an empty one).
  bool has_value() const noexcept { return kind_ != Kind::none; }
  explicit operator bool() const noexcept { return has_value(); }
  // The bytes ("" when none).
  std::string_view view() const noexcept {
    return kind_ == Kind::owned ? std::string_view(owned_) : viewed_;
  }

 private:
  enum class Kind : unsigned char { none, viewed, owned };
  std::string owned_;
  std::string_view viewed_;
  Kind kind_ = Kind::none;
};

// run()'s keyword arguments, in Python's order; the fields after `env` are Popen's others.
struct RunOptions {
  Redirect stdin_{};
  Input input{};  // sent to the child's stdin (then stdin = PIPE); see Input for its lifetime
  Redirect stdout_{};
  Redirect stderr_{};
  bool capture_output = false;  // stdout_ = stderr_ = PIPE
  bool shell = false;
  std::optional<detail::PathString> cwd{};  // a string or a std::filesystem::path
  std::optional<std::chrono::duration<double>> timeout{};
  bool check = false;
  bool text = false;
  Environment env = std::nullopt;  // not given: inherit; `.env = {}`: empty
  std::string executable{};
  bool close_fds = true;
  bool restore_signals = true;
  bool start_new_session = false;
  std::vector<int> pass_fds{};
  std::optional<pid_t> process_group{};
  int pipesize = -1;
};

// Python: subprocess.CompletedProcess -- what run() returns.
struct CompletedProcess {
  std::vector<std::string> args{};
  int returncode = 0;         // negative: killed by that signal
  std::string stdout_text{};  // captured stdout ("" if not captured)
  std::string stderr_text{};  // captured stderr ("" if not captured)

  // CalledProcessError if returncode is not 0.
  void check_returncode() const;
};

// Runs `args` and waits for it. ValueError for `input` together with stdin_, or
// capture_output together with stdout_/stderr_.
CompletedProcess run(std::vector<std::string> args, RunOptions options = {});

// run(...).returncode (Python: call).
int call(std::vector<std::string> args, RunOptions options = {});
// run with check=true; returns 0 (Python: check_call).
int check_call(std::vector<std::string> args, RunOptions options = {});
// run with stdout_ = PIPE and check=true; returns stdout. ValueError if stdout_ is given.
std::string check_output(std::vector<std::string> args, RunOptions options = {});
// Python: getstatusoutput(cmd) -- `cmd` through the shell, stderr merged into stdout, one
// trailing newline removed; returns (returncode, output).
std::pair<int, std::string> getstatusoutput(const std::string& cmd);
// Python: getoutput(cmd) -- getstatusoutput(cmd).second.
std::string getoutput(const std::string& cmd);

}  // namespace pyconc::subprocess
