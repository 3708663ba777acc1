#include "pyconc/subprocess/run.hpp"

#include "pyconc/detail/deadline.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/subprocess/exceptions.hpp"
#include "pyconc/subprocess/popen.hpp"

namespace pyconc::subprocess {

void CompletedProcess::check_returncode() const {
  if (returncode != 0) throw CalledProcessError(returncode, args, stdout_text, stderr_text);
}

CompletedProcess run(std::vector<std::string> args, RunOptions o) {
  if (o.input && !o.stdin_.inherits()) {
    throw ValueError("stdin and input arguments may not both be used.");
  }
  if (o.capture_output && (!o.stdout_.inherits() || !o.stderr_.inherits())) {
    throw ValueError("stdout and stderr arguments may not be used with capture_output.");
  }
  std::optional<detail::Clock::time_point> deadline;
  if (o.timeout) deadline = detail::deadline_after(*o.timeout);

  PopenOptions po{
      .executable = std::move(o.executable),
      .stdin_ = o.input ? PIPE : o.stdin_,
      .stdout_ = o.capture_output ? PIPE : o.stdout_,
      .stderr_ = o.capture_output ? PIPE : o.stderr_,
      .close_fds = o.close_fds,
      .shell = o.shell,
      .cwd = std::move(o.cwd),
      .env = std::move(o.env),
      .text = o.text,
      .restore_signals = o.restore_signals,
      .start_new_session = o.start_new_session,
      .pass_fds = std::move(o.pass_fds),
      .process_group = o.process_group,
      .pipesize = o.pipesize,
  };
  Popen p(args, std::move(po));
  const std::string_view input = o.input ? std::string_view(*o.input) : std::string_view();
  std::pair<std::string, std::string> out;
  try {
    out = p.communicate_until(input, deadline ? &*deadline : nullptr,
                              o.timeout.value_or(std::chrono::duration<double>::zero()));
  } catch (const TimeoutExpired&) {
    auto [stdout_text, stderr_text] = p.kill_and_collect();
    throw TimeoutExpired(std::move(args), *o.timeout, std::move(stdout_text),
                         std::move(stderr_text));
  } catch (...) {
    p.kill();
    p.wait();
    throw;
  }
  CompletedProcess done{std::move(args), *p.returncode(), std::move(out.first),
                        std::move(out.second)};
  if (o.check) done.check_returncode();
  return done;
}

int call(std::vector<std::string> args, RunOptions options) {
  return run(std::move(args), std::move(options)).returncode;
}

int check_call(std::vector<std::string> args, RunOptions options) {
  options.check = true;
  return run(std::move(args), std::move(options)).returncode;
}

std::string check_output(std::vector<std::string> args, RunOptions options) {
  if (!options.stdout_.inherits()) {
    throw ValueError("stdout argument not allowed, it will be overridden.");
  }
  if (options.capture_output) {
    throw ValueError("capture_output argument not allowed, stdout is captured anyway.");
  }
  options.stdout_ = PIPE;
  options.check = true;
  return run(std::move(args), std::move(options)).stdout_text;
}

std::pair<int, std::string> getstatusoutput(const std::string& cmd) {
  CompletedProcess r =
      run({cmd}, {.stdout_ = PIPE, .stderr_ = STDOUT, .shell = true, .text = true});
  if (!r.stdout_text.empty() && r.stdout_text.back() == '\n') r.stdout_text.pop_back();
  return {r.returncode, std::move(r.stdout_text)};
}

std::string getoutput(const std::string& cmd) {
  return getstatusoutput(cmd).second;
}

}  // namespace pyconc::subprocess
