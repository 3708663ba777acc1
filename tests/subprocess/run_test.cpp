#include "pyconc/subprocess/run.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "pyconc/errors.hpp"
#include "pyconc/subprocess/exceptions.hpp"
#include "pyconc/subprocess/popen.hpp"
#include "subprocess_test_util.hpp"

namespace sp = pyconc::subprocess;
using namespace std::chrono_literals;

TEST(Run, ReturncodeAndCapture) {
  auto r = sp::run({"sh", "-c", "echo out; echo err >&2; exit 7"}, {.capture_output = true});
  EXPECT_EQ(r.returncode, 7);
  EXPECT_EQ(r.stdout_text, "out\n");
  EXPECT_EQ(r.stderr_text, "err\n");
  EXPECT_EQ(r.args, (std::vector<std::string>{"sh", "-c", "echo out; echo err >&2; exit 7"}));
  EXPECT_THROW(r.check_returncode(), sp::CalledProcessError);
  EXPECT_NO_THROW(sp::run({"true"}).check_returncode());
}

TEST(Run, ApiSpellingWithTimeout) {
  auto r = sp::run({"echo", "python.org"}, {.capture_output = true, .timeout = 10s});
  EXPECT_EQ(r.returncode, 0);
  EXPECT_EQ(r.stdout_text, "python.org\n");
  EXPECT_EQ(r.stderr_text, "");
}

TEST(Run, NotCapturedMeansEmpty) {
  // Without capture the child writes to our own stdout; nothing comes back.
  auto r = sp::run({"true"});
  EXPECT_EQ(r.stdout_text, "");
  EXPECT_EQ(r.stderr_text, "");
}

TEST(Run, CheckRaisesCalledProcessErrorWithFields) {
  try {
    sp::run({"sh", "-c", "echo partial; echo oops >&2; exit 3"},
            {.capture_output = true, .check = true});
    FAIL() << "no CalledProcessError";
  } catch (const sp::CalledProcessError& e) {
    EXPECT_EQ(e.returncode(), 3);
    EXPECT_EQ(e.cmd(),
              (std::vector<std::string>{"sh", "-c", "echo partial; echo oops >&2; exit 3"}));
    EXPECT_EQ(e.output(), "partial\n");
    EXPECT_EQ(e.stdout_text(), "partial\n");
    EXPECT_EQ(e.stderr_text(), "oops\n");
    EXPECT_STREQ(e.what(),
                 "Command '['sh', '-c', 'echo partial; echo oops >&2; exit 3']' returned non-zero "
                 "exit status 3.");
  }
  EXPECT_NO_THROW(sp::run({"true"}, {.check = true}));
}

TEST(Run, KilledBySignalIsNegative) {
  EXPECT_EQ(sp::run({"sh", "-c", "kill -TERM $$"}).returncode, -15);
  EXPECT_EQ(sp::run({"sh", "-c", "kill -KILL $$"}).returncode, -9);
  try {
    sp::run({"sh", "-c", "kill -KILL $$"}, {.check = true});
    FAIL();
  } catch (const sp::CalledProcessError& e) {
    EXPECT_EQ(e.returncode(), -9);
    EXPECT_STREQ(e.what(),
                 "Command '['sh', '-c', 'kill -KILL $$']' died with <Signals.SIGKILL: 9>.");
  }
}

TEST(Run, TimeoutKillsTheChildAndRaises) {
  // The child prints its pid, then sleeps far longer than the timeout.
  const auto start = std::chrono::steady_clock::now();
  try {
    sp::run({"sh", "-c", "echo $$; echo started >&2; exec sleep 60"},
            {.capture_output = true, .timeout = 1s});
    FAIL() << "no TimeoutExpired";
  } catch (const sp::TimeoutExpired& e) {
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_LT(took, 30s);  // bounded: not the child's 60 s
    EXPECT_GE(took, 1s);
    EXPECT_EQ(e.timeout(), 1s);
    EXPECT_EQ(e.cmd().at(0), "sh");
    EXPECT_EQ(e.stderr_text(), "started\n");  // partial output is kept
    ASSERT_FALSE(e.output().empty());
    const pid_t pid = std::stoi(e.output());
    EXPECT_TRUE(sp_test::process_gone(pid)) << "the child " << pid << " still exists";
    EXPECT_NE(std::string(e.what()).find("timed out after 1 seconds"), std::string::npos)
        << e.what();
  }
}

TEST(Run, TimeoutDoesNotWaitForAGrandchildHoldingThePipe) {
  // sh forks `sleep` (no exec: a command follows it) and is killed; the sleeping grandchild
  // still holds stdout open. run() must return after the kill, not after the sleep.
  const auto start = std::chrono::steady_clock::now();
  try {
    sp::run({"sh", "-c", "echo $$; sleep 60; echo never"},
            {.capture_output = true, .timeout = 1s, .start_new_session = true});
    FAIL() << "no TimeoutExpired";
  } catch (const sp::TimeoutExpired& e) {
    EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
    // The orphaned `sleep` is in the process group the child led (start_new_session): end it.
    ASSERT_FALSE(e.output().empty());
    const pid_t group = std::stoi(e.output());
    EXPECT_EQ(kill(-group, SIGKILL), 0);
  }
}

TEST(Run, NegativeTimeoutIsValueError) {
  EXPECT_THROW(sp::run({"true"}, {.timeout = -1s}), pyconc::ValueError);
}

TEST(Run, Input) {
  auto r = sp::run({"sort"}, {.input = "b\nc\na\n", .capture_output = true});
  EXPECT_EQ(r.stdout_text, "a\nb\nc\n");
  // Empty input still gives the child a stdin at end of file.
  EXPECT_EQ(sp::run({"cat"}, {.input = "", .capture_output = true}).stdout_text, "");
}

TEST(Run, InputAndStdinConflict) {
  EXPECT_THROW(sp::run({"cat"}, {.stdin_ = sp::DEVNULL, .input = "x"}), pyconc::ValueError);
  EXPECT_THROW(sp::run({"cat"}, {.stdout_ = sp::PIPE, .capture_output = true}), pyconc::ValueError);
}

TEST(Run, Cwd) {
  const auto dir = std::filesystem::temp_directory_path();
  auto r = sp::run({"pwd"}, {.capture_output = true, .cwd = dir});
  EXPECT_EQ(r.stdout_text, std::filesystem::canonical(dir).string() + "\n");
  // A relative program path is taken relative to cwd, as in Python.
  EXPECT_EQ(sp::run({"./true"}, {.cwd = "/bin"}).returncode, 0);
}

TEST(Run, CwdErrorsNameTheDirectory) {
  try {
    sp::run({"true"}, {.cwd = "/nonexistent/dir"});
    FAIL();
  } catch (const pyconc::FileNotFoundError& e) {
    EXPECT_EQ(e.errno_(), ENOENT);
    EXPECT_EQ(e.filename(), "/nonexistent/dir");
    EXPECT_STREQ(e.what(), "[Errno 2] No such file or directory: '/nonexistent/dir'");
  }
  EXPECT_THROW(sp::run({"true"}, {.cwd = "/etc/passwd"}), pyconc::NotADirectoryError);
}

TEST(Run, Env) {
  auto r = sp::run({"env"}, {.capture_output = true, .env = {{"A", "1"}, {"B", "two words"}}});
  EXPECT_EQ(r.stdout_text, "A=1\nB=two words\n");
  // The default inherits ours.
  ASSERT_EQ(setenv("PYCONC_RUN_TEST_VAR", "inherited", 1), 0);
  EXPECT_EQ(sp::check_output({"sh", "-c", "echo $PYCONC_RUN_TEST_VAR"}), "inherited\n");
  // current() + set(): ours plus one.
  EXPECT_EQ(sp::check_output({"sh", "-c", "echo $PYCONC_RUN_TEST_VAR $EXTRA"},
                             {.env = sp::Environment::current().set("EXTRA", "x")}),
            "inherited x\n");
  EXPECT_EQ(sp::check_output({"sh", "-c", "echo ${PYCONC_RUN_TEST_VAR:-unset}"},
                             {.env = sp::Environment(std::nullopt).unset("PYCONC_RUN_TEST_VAR")}),
            "unset\n");
  unsetenv("PYCONC_RUN_TEST_VAR");
  // An empty map is an empty environment.
  EXPECT_EQ(sp::check_output({"/usr/bin/env"}, {.env = sp::Environment(sp::Environment::Map{})}),
            "");
}

TEST(Run, EmptyEnvIsAnEmptyEnvironmentAndNoEnvInherits) {
  ASSERT_EQ(setenv("PYCONC_RUN_TEST_EMPTY", "from-parent", 1), 0);
  // Python: run(["env"], env={}) -- the child has no variables (env found in the default PATH,
  // as Python's os.defpath, since the child's environment has none).
  EXPECT_EQ(sp::run({"env"}, {.capture_output = true, .text = true, .env = {}}).stdout_text, "");
  EXPECT_EQ(sp::check_output({"env"}, {.env = {}}), "");
  sp::RunOptions empty;
  empty.env = {};
  EXPECT_EQ(sp::run({"env"}, std::move(empty)).returncode, 0);
  // Not given (Python's env=None), or given as std::nullopt: inherits ours.
  const auto inherited = sp::run({"env"}, {.capture_output = true}).stdout_text;
  EXPECT_NE(inherited.find("PYCONC_RUN_TEST_EMPTY=from-parent\n"), std::string::npos) << inherited;
  EXPECT_EQ(sp::check_output({"sh", "-c", "echo $PYCONC_RUN_TEST_EMPTY"}, {.env = std::nullopt}),
            "from-parent\n");
  // Popen too.
  sp::Popen p({"env"}, {.stdout_ = sp::PIPE, .env = {}});
  EXPECT_EQ(p.communicate().first, "");
  sp::Popen q({"sh", "-c", "echo $PYCONC_RUN_TEST_EMPTY"}, {.stdout_ = sp::PIPE});
  EXPECT_EQ(q.communicate().first, "from-parent\n");
  // A default Environment is an empty one; set() on it gives exactly that variable.
  EXPECT_EQ(sp::check_output({"env"}, {.env = sp::Environment().set("ONLY", "1")}), "ONLY=1\n");
  unsetenv("PYCONC_RUN_TEST_EMPTY");
}

TEST(Run, ProgramLookedUpInTheChildsPath) {
  // Python looks the program up in the PATH of env= when one is given.
  EXPECT_THROW(sp::run({"true"}, {.env = {{"PATH", "/nonexistent"}}}), pyconc::FileNotFoundError);
  EXPECT_EQ(sp::run({"true"}, {.env = {{"PATH", "/nonexistent:/bin:/usr/bin"}}}).returncode, 0);
}

TEST(Run, MissingProgramIsFileNotFoundError) {
  try {
    sp::run({"pyconc-no-such-program", "x"});
    FAIL();
  } catch (const pyconc::FileNotFoundError& e) {
    EXPECT_EQ(e.errno_(), ENOENT);
    EXPECT_EQ(e.filename(), "pyconc-no-such-program");
    EXPECT_STREQ(e.what(), "[Errno 2] No such file or directory: 'pyconc-no-such-program'");
  }
  EXPECT_THROW(sp::run({"/nonexistent/prog"}), pyconc::FileNotFoundError);
  EXPECT_THROW(sp::call({""}), pyconc::FileNotFoundError);
  EXPECT_THROW(sp::run({}), pyconc::ValueError);
}

TEST(Run, NotExecutableIsPermissionError) {
  EXPECT_THROW(sp::run({"/etc/passwd"}), pyconc::PermissionError);
  EXPECT_THROW(sp::run({"/tmp"}), pyconc::PermissionError);  // a directory: EACCES
}

TEST(Run, Shell) {
  EXPECT_EQ(sp::run({"echo $((6 * 7))"}, {.capture_output = true, .shell = true}).stdout_text,
            "42\n");
  // Further items become $0, $1, ...
  EXPECT_EQ(sp::check_output({"echo $0 $1", "zero", "one"}, {.shell = true}), "zero one\n");
  EXPECT_EQ(sp::run({"exit 5"}, {.shell = true}).returncode, 5);
}

TEST(Run, StderrToStdoutMerges) {
  auto r = sp::run({"sh", "-c", "echo 1; echo 2 >&2; echo 3"},
                   {.stdout_ = sp::PIPE, .stderr_ = sp::STDOUT});
  EXPECT_EQ(r.stdout_text, "1\n2\n3\n");
  EXPECT_EQ(r.stderr_text, "");
  EXPECT_THROW(sp::run({"true"}, {.stdout_ = sp::STDOUT}), pyconc::ValueError);
}

TEST(Run, Devnull) {
  auto r = sp::run({"sh", "-c", "cat; echo out; echo err >&2"},
                   {.stdin_ = sp::DEVNULL, .stdout_ = sp::PIPE, .stderr_ = sp::DEVNULL});
  EXPECT_EQ(r.stdout_text, "out\n");  // cat saw end of file at once
  EXPECT_EQ(r.stderr_text, "");
}

TEST(Run, ExistingDescriptor) {
  char path[] = "/tmp/pyconc_run_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  sp::run({"sh", "-c", "echo to-file; echo err-too >&2"}, {.stdout_ = fd, .stderr_ = fd});
  sp::run({"echo", "again"}, {.stdout_ = fd});
  EXPECT_EQ(sp::check_output({"cat", path}), "to-file\nerr-too\nagain\n");
  // Our descriptor is still ours and still open.
  EXPECT_GE(fcntl(fd, F_GETFD), 0);
  close(fd);
  unlink(path);
  EXPECT_THROW(sp::run({"true"}, {.stdout_ = -5}), pyconc::ValueError);
  EXPECT_THROW(sp::run({"true"}, {.stdout_ = 1000}), pyconc::OSError);  // not open: EBADF
}

TEST(Run, TextModeTranslatesNewlines) {
  auto bytes = sp::run({"printf", "a\\r\\nb\\rc\\n"}, {.capture_output = true});
  EXPECT_EQ(bytes.stdout_text, "a\r\nb\rc\n");
  auto text = sp::run({"printf", "a\\r\\nb\\rc\\n"}, {.capture_output = true, .text = true});
  EXPECT_EQ(text.stdout_text, "a\nb\nc\n");
}

TEST(Run, CallAndCheckCall) {
  EXPECT_EQ(sp::call({"true"}), 0);
  EXPECT_EQ(sp::call({"false"}), 1);
  EXPECT_EQ(sp::call({"ls", "-l", "/"}, {.stdout_ = sp::DEVNULL}), 0);
  EXPECT_EQ(sp::check_call({"true"}), 0);
  EXPECT_THROW(sp::check_call({"false"}), sp::CalledProcessError);
  EXPECT_THROW(sp::call({"sleep", "60"}, {.timeout = 50ms}), sp::TimeoutExpired);
}

TEST(Run, CheckOutput) {
  EXPECT_EQ(sp::check_output({"echo", "hi"}), "hi\n");
  EXPECT_EQ(sp::check_output({"cat"}, {.input = "fed"}), "fed");
  try {
    sp::check_output({"sh", "-c", "echo some; exit 2"});
    FAIL();
  } catch (const sp::CalledProcessError& e) {
    EXPECT_EQ(e.returncode(), 2);
    EXPECT_EQ(e.output(), "some\n");
  }
  EXPECT_THROW(sp::check_output({"true"}, {.stdout_ = sp::DEVNULL}), pyconc::ValueError);
}

TEST(Run, GetoutputAndGetstatusoutput) {
  EXPECT_EQ(sp::getoutput("echo a; echo b >&2"), "a\nb");
  auto [rc, out] = sp::getstatusoutput("echo failing; exit 4");
  EXPECT_EQ(rc, 4);
  EXPECT_EQ(out, "failing");
  EXPECT_EQ(sp::getstatusoutput("pyconc-no-such-program").first, 127);  // the shell's code
}

TEST(Run, InputIsViewedOrOwned) {
  const std::string named = "named\n";
  EXPECT_EQ(sp::check_output({"cat"}, {.input = named}), "named\n");                 // viewed
  EXPECT_EQ(sp::check_output({"cat"}, {.input = std::string("temp\n")}), "temp\n");  // owned
  EXPECT_EQ(sp::check_output({"cat"}, {.input = std::string_view("view\n")}), "view\n");
  // A stored RunOptions keeps a temporary alive (owned), so this is safe:
  sp::RunOptions stored{.input = std::string(100000, 'z'), .capture_output = true};
  EXPECT_EQ(sp::run({"cat"}, stored).stdout_text, std::string(100000, 'z'));
  EXPECT_FALSE(sp::Input().has_value());
  EXPECT_TRUE(sp::Input("").has_value());
  EXPECT_EQ(sp::Input(std::string("abc")).view(), "abc");
}
