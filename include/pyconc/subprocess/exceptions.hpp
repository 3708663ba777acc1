// pyconc/subprocess/exceptions.hpp -- SubprocessError, CalledProcessError, TimeoutExpired.
//
// Python: subprocess.SubprocessError and its two subclasses, with the same attributes and
// messages:
//   CalledProcessError: "Command '['false']' returned non-zero exit status 1."
//                       "Command '['sh', '-c', 'kill $$']' died with <Signals.SIGTERM: 15>."
//   TimeoutExpired:     "Command '['sleep', '10']' timed out after 0.5 seconds"
// Differences: attributes are methods (returncode(), cmd(), output() == stdout_text(),
// stderr_text(), timeout()); cmd is always the argument list (Python prints a shell command as
// a string: here it is the one-element list); outputs are std::string (empty when not captured,
// where Python has None). A failure to start the program is not a SubprocessError but the
// OSError subclass Python raises (FileNotFoundError, PermissionError: pyconc/errors.hpp).
// Thread safety: exception objects are plain values.
#pragma once

#include <string>
#include <vector>

#include "pyconc/detail/chrono.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::subprocess {

// Python: subprocess.SubprocessError -- base of this module's exceptions.
class SubprocessError : public Error {
 public:
  using Error::Error;
};

// Python: subprocess.CalledProcessError -- check=true (run, check_call, check_output) and the
// child's returncode was not 0 (negative: killed by that signal).
class CalledProcessError : public SubprocessError {
 public:
  CalledProcessError(int returncode, std::vector<std::string> cmd, std::string output = {},
                     std::string stderr_text = {});

  int returncode() const noexcept { return returncode_; }
  const std::vector<std::string>& cmd() const noexcept { return cmd_; }
  // The child's stdout if it was captured (Python: .output, alias .stdout).
  const std::string& output() const noexcept { return output_; }
  const std::string& stdout_text() const noexcept { return output_; }
  // The child's stderr if it was captured (Python: .stderr).
  const std::string& stderr_text() const noexcept { return stderr_; }

 private:
  int returncode_;
  std::vector<std::string> cmd_;
  std::string output_;
  std::string stderr_;
};

// Python: subprocess.TimeoutExpired -- a timeout given to run/call/communicate/wait ran out.
// Carries what the child wrote to captured pipes until then (run() kills the child and adds
// what was still in the pipes; Popen::communicate keeps it too, and a later communicate()
// returns everything, as in Python). Difference: not a pyconc::TimeoutError, as in Python
// (subprocess.TimeoutExpired is not a TimeoutError there either).
class TimeoutExpired : public SubprocessError {
 public:
  TimeoutExpired(std::vector<std::string> cmd, std::chrono::duration<double> timeout,
                 std::string output = {}, std::string stderr_text = {});

  const std::vector<std::string>& cmd() const noexcept { return cmd_; }
  std::chrono::duration<double> timeout() const noexcept { return timeout_; }
  const std::string& output() const noexcept { return output_; }
  const std::string& stdout_text() const noexcept { return output_; }
  const std::string& stderr_text() const noexcept { return stderr_; }

 private:
  std::vector<std::string> cmd_;
  std::chrono::duration<double> timeout_;
  std::string output_;
  std::string stderr_;
};

}  // namespace pyconc::subprocess
