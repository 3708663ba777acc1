// pyconc/subprocess.hpp -- Python's `subprocess` module: run programs, talk to them through
// pipes, wait for them.
//
//   namespace sp = pyconc::subprocess;
//   auto r = sp::run({"nslookup", "python.org"}, {.capture_output = true, .timeout = 10s});
//   r.returncode; r.stdout_text; r.stderr_text;          // check = true -> CalledProcessError
//   sp::Popen p({"cat"}, {.stdin_ = sp::PIPE, .stdout_ = sp::PIPE});
//   auto [out, err] = p.communicate("set q=mx\n"); p.returncode(); p.wait(1s); p.kill();
//   int rc = sp::call({"ls", "-l"}); std::string o = sp::check_output({"echo", "hi"});
//
// One header per concept under pyconc/subprocess/: redirect.hpp (PIPE, DEVNULL, STDOUT),
// environment.hpp, file.hpp (the pipe ends), popen.hpp, run.hpp, exceptions.hpp. The spawning
// core shared with asyncio's subprocesses is pyconc/detail/spawn.hpp.
// A program that cannot be started raises pyconc::FileNotFoundError / PermissionError
// (pyconc/errors.hpp), as Python does; they are also reachable from this namespace.
#pragma once

#include "pyconc/errors.hpp"
#include "pyconc/subprocess/environment.hpp"
#include "pyconc/subprocess/exceptions.hpp"
#include "pyconc/subprocess/file.hpp"
#include "pyconc/subprocess/popen.hpp"
#include "pyconc/subprocess/redirect.hpp"
#include "pyconc/subprocess/run.hpp"

namespace pyconc::subprocess {
using pyconc::FileNotFoundError;
using pyconc::OSError;
using pyconc::PermissionError;
}  // namespace pyconc::subprocess
