#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "proc.hpp"
#include "pyconc/asyncio.hpp"
#include "pyconc/detail/spawn.hpp"

namespace aio = pyconc::asyncio;
using namespace std::chrono_literals;

namespace {

// Runs `main`, failing (and cancelling it) if it takes longer than `limit`.
aio::Task<> bounded(aio::Task<> main, std::chrono::seconds limit) {
  auto task = aio::create_task(std::move(main), "test-main");
  auto guard = aio::get_running_loop().call_later(limit, [task]() mutable {
    ADD_FAILURE() << "test timed out";
    task.cancel();
  });
  co_await task;
  guard.cancel();
}
void run_test(aio::Task<> main, std::chrono::seconds limit = 30s) {
  aio::run(bounded(std::move(main), limit));
}

using test_support::count_fds;

TEST(Subprocess, CatRoundTrip) {
  const int fds_before = count_fds();
  run_test([]() -> aio::Task<> {
    auto proc =
        co_await aio::create_subprocess_exec({"cat"}, {.stdin_ = aio::PIPE, .stdout_ = aio::PIPE});
    EXPECT_GT(proc.pid(), 0);
    EXPECT_FALSE(proc.returncode().has_value());
    for (int i = 0; i < 100; ++i) {
      const std::string line = "line " + std::to_string(i) + "\n";
      proc.stdin_().write(line);
      co_await proc.stdin_().drain();
      EXPECT_EQ(co_await proc.stdout_().readline(), line);
    }
    proc.stdin_().close();
    EXPECT_EQ(co_await proc.stdout_().read(), "");
    EXPECT_EQ(co_await proc.wait(), 0);
    EXPECT_EQ(proc.returncode(), 0);
    EXPECT_THROW((void)proc.stderr_(), pyconc::ValueError);
  }());
  EXPECT_EQ(count_fds(), fds_before);
}

TEST(Subprocess, ApiSpelling) {
  run_test([]() -> aio::Task<> {
    // API.md's spelling, options inline in the co_await expression.
    auto proc = co_await aio::create_subprocess_exec({"ls", "-d", "/"}, {.stdout_ = aio::PIPE});
    auto [out, err] = co_await proc.communicate();
    EXPECT_EQ(out, "/\n");
    EXPECT_EQ(err, "");
    const std::vector<std::string> args{"echo", "from", "a vector"};
    auto p2 = co_await aio::create_subprocess_exec(
        args, {.stdout_ = aio::PIPE, .executable = "/bin/echo"});
    EXPECT_EQ((co_await p2.communicate()).first, "from a vector\n");
  }());
}

TEST(Subprocess, CommunicateLargeBothWays) {
  run_test([]() -> aio::Task<> {
    // 8 MiB through cat: far beyond the pipe buffers in both directions at once.
    std::string input(8 * 1024 * 1024, '\0');
    for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>('a' + i % 26);
    auto proc =
        co_await aio::create_subprocess_exec({"cat"}, {.stdin_ = aio::PIPE, .stdout_ = aio::PIPE});
    auto [out, err] = co_await proc.communicate(input);
    EXPECT_TRUE(out == input);
    EXPECT_EQ(err, "");
    EXPECT_EQ(proc.returncode(), 0);
  }());
}

TEST(Subprocess, LargeOutputOnBothStreams) {
  run_test([]() -> aio::Task<> {
    auto proc = co_await aio::create_subprocess_shell(
        "head -c 3000000 /dev/zero; head -c 2000000 /dev/zero >&2; exit 4",
        {.stdout_ = aio::PIPE, .stderr_ = aio::PIPE});
    auto [out, err] = co_await proc.communicate();
    EXPECT_EQ(out.size(), 3000000U);
    EXPECT_EQ(err.size(), 2000000U);
    EXPECT_EQ(proc.returncode(), 4);
  }());
}

TEST(Subprocess, ExitCodesAndSignals) {
  run_test([]() -> aio::Task<> {
    auto p3 = co_await aio::create_subprocess_exec({"sh", "-c", "exit 3"});
    EXPECT_EQ(co_await p3.wait(), 3);
    auto p7 = co_await aio::create_subprocess_shell("exit 7");
    EXPECT_EQ(co_await p7.wait(), 7);

    auto sleeper = co_await aio::create_subprocess_exec({"sleep", "30"});
    sleeper.kill();
    EXPECT_EQ(co_await sleeper.wait(), -SIGKILL);
    sleeper.kill();  // reaped: a no-op, as Python

    auto term = co_await aio::create_subprocess_exec({"sleep", "30"});
    term.terminate();
    EXPECT_EQ(co_await term.wait(), -SIGTERM);
  }());
}

TEST(Subprocess, ReturncodeIsSetWithoutWaiting) {
  run_test([]() -> aio::Task<> {
    auto proc = co_await aio::create_subprocess_exec({"sh", "-c", "echo done; exit 9"},
                                                     {.stdout_ = aio::PIPE});
    EXPECT_EQ(co_await proc.stdout_().read(), "done\n");
    // The loop reaps the child as it exits (its pidfd is in the reactor).
    for (int i = 0; i < 5000 && !proc.returncode(); ++i) co_await aio::sleep(1ms);
    EXPECT_EQ(proc.returncode(), 9);
  }());
}

TEST(Subprocess, RedirectsCwdAndEnv) {
  run_test([]() -> aio::Task<> {
    auto both = co_await aio::create_subprocess_shell(
        "echo out; echo err >&2", {.stdout_ = aio::PIPE, .stderr_ = aio::STDOUT});
    auto [out, err] = co_await both.communicate();
    EXPECT_EQ(out, "out\nerr\n");
    EXPECT_EQ(err, "");

    auto quiet = co_await aio::create_subprocess_shell(
        "echo hidden", {.stdout_ = aio::DEVNULL, .stderr_ = aio::PIPE});
    auto [o2, e2] = co_await quiet.communicate();
    EXPECT_EQ(o2, "");
    EXPECT_EQ(e2, "");

    // (A braced map inside a co_await expression trips GCC 12: build it beforehand.)
    const pyconc::subprocess::Environment env{{"GREETING", "hello"}, {"PATH", "/usr/bin:/bin"}};
    auto where = co_await aio::create_subprocess_exec(
        {"sh", "-c", "pwd; echo $GREETING"}, {.stdout_ = aio::PIPE, .cwd = "/tmp", .env = env});
    auto [o3, e3] = co_await where.communicate();
    EXPECT_EQ(o3, "/tmp\nhello\n");
  }());
}

TEST(Subprocess, EmptyEnvIsAnEmptyEnvironmentAndNoEnvInherits) {
  ASSERT_EQ(setenv("PYCONC_AIO_ENV_TEST", "from-parent", 1), 0);
  run_test([]() -> aio::Task<> {
    // Python: await create_subprocess_exec("env", env={}) -- no variables at all.
    auto empty = co_await aio::create_subprocess_exec({"env"}, {.stdout_ = aio::PIPE, .env = {}});
    auto [o1, e1] = co_await empty.communicate();
    EXPECT_EQ(o1, "");
    // Not given: inherits ours.
    auto inherit = co_await aio::create_subprocess_exec({"env"}, {.stdout_ = aio::PIPE});
    auto [o2, e2] = co_await inherit.communicate();
    EXPECT_NE(o2.find("PYCONC_AIO_ENV_TEST=from-parent\n"), std::string::npos) << o2;
    auto shell = co_await aio::create_subprocess_shell("echo $PYCONC_AIO_ENV_TEST",
                                                       {.stdout_ = aio::PIPE, .env = std::nullopt});
    auto [o3, e3] = co_await shell.communicate();
    EXPECT_EQ(o3, "from-parent\n");
  }());
  unsetenv("PYCONC_AIO_ENV_TEST");
}

TEST(Subprocess, MissingProgramRaisesAtOnce) {
  run_test([]() -> aio::Task<> {
    EXPECT_THROW(co_await aio::create_subprocess_exec({"/nonexistent/program"}),
                 pyconc::FileNotFoundError);
    EXPECT_THROW(co_await aio::create_subprocess_exec({}), pyconc::ValueError);
  }());
}

TEST(Subprocess, ChildThatDoesNotReadStdin) {
  run_test([]() -> aio::Task<> {
    auto proc =
        co_await aio::create_subprocess_exec({"true"}, {.stdin_ = aio::PIPE, .stdout_ = aio::PIPE});
    // BrokenPipeError while feeding is not an error for communicate(), as in Python.
    auto [out, err] = co_await proc.communicate(std::string(4 * 1024 * 1024, 'x'));
    EXPECT_EQ(out, "");
    EXPECT_EQ(proc.returncode(), 0);
  }());
}

TEST(Subprocess, CancelWaitLeavesTheChildRunning) {
  run_test([]() -> aio::Task<> {
    auto proc = co_await aio::create_subprocess_exec({"sleep", "30"});
    auto waiter = aio::create_task(proc.wait());
    co_await aio::sleep(0s);
    waiter.cancel();
    EXPECT_THROW(co_await waiter, pyconc::CancelledError);
    EXPECT_FALSE(proc.returncode().has_value());
    proc.kill();
    EXPECT_EQ(co_await proc.wait(), -SIGKILL);
  }());
}

TEST(Subprocess, ManyAtOnce) {
  run_test([]() -> aio::Task<> {
    std::vector<aio::Task<std::pair<std::string, std::string>>> runs;
    std::vector<aio::Process> procs;
    for (int i = 0; i < 20; ++i) {
      procs.push_back(co_await aio::create_subprocess_exec({"echo", std::to_string(i)},
                                                           {.stdout_ = aio::PIPE}));
      runs.push_back(procs.back().communicate());
    }
    auto results = co_await aio::gather(std::move(runs));
    for (int i = 0; i < 20; ++i) EXPECT_EQ(results[i].first, std::to_string(i) + "\n");
  }());
}

TEST(Subprocess, WithoutPidfdTheLoopPolls) {
  pyconc::detail::set_pidfd_enabled(false);
  run_test([]() -> aio::Task<> {
    auto proc = co_await aio::create_subprocess_shell("exit 5");
    EXPECT_EQ(co_await proc.wait(), 5);
    auto k = co_await aio::create_subprocess_exec({"sleep", "30"});
    k.kill();
    EXPECT_EQ(co_await k.wait(), -SIGKILL);
  }());
  pyconc::detail::set_pidfd_enabled(true);
}

TEST(Subprocess, DroppedWhileRunningIsReapedInTheBackground) {
  run_test([]() -> aio::Task<> {
    auto proc = co_await aio::create_subprocess_exec({"sleep", "0.05"});
    (void)proc;
  }());
  // The subprocess module's reaper took it; it must be gone soon.
  for (int i = 0; i < 4000 && pyconc::detail::reaper_pending() != 0; ++i)
    std::this_thread::sleep_for(1ms);
  EXPECT_EQ(pyconc::detail::reaper_pending(), 0U);
}

}  // namespace
