#include "pyconc/subprocess/popen.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/detail/spawn.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/subprocess/exceptions.hpp"
#include "subprocess_test_util.hpp"

namespace sp = pyconc::subprocess;
using namespace std::chrono_literals;
using sp_test::eventually;
using sp_test::process_gone;

namespace {

struct TestPipe {
  int read = -1, write = -1;
  TestPipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) == 0) {
      read = fds[0];
      write = fds[1];
    }
  }
  ~TestPipe() {
    close_read();
    close_write();
  }
  void close_read() {
    if (read >= 0) close(read);
    read = -1;
  }
  void close_write() {
    if (write >= 0) close(write);
    write = -1;
  }
};

// n bytes that are not all alike (so that a misplaced chunk shows), built by doubling.
std::string pattern(std::size_t n) {
  std::string s;
  s.reserve(n);
  for (int i = 0; i < 4099; ++i) s += static_cast<char>('a' + i % 26);
  while (s.size() < n) s.append(s, 0, std::min(s.size(), n - s.size()));
  return s;
}

}  // namespace

TEST(Popen, ApiSpelling) {
  sp::Popen p({"cat"}, {.stdin_ = sp::PIPE, .stdout_ = sp::PIPE});
  EXPECT_GT(p.pid(), 0);
  EXPECT_EQ(p.returncode(), std::nullopt);
  auto [out, err] = p.communicate("set q=mx\n");
  EXPECT_EQ(out, "set q=mx\n");
  EXPECT_EQ(err, "");
  EXPECT_EQ(p.returncode(), 0);
  EXPECT_EQ(p.wait(1s), 0);
  p.kill();  // reaped already: nothing is sent
  EXPECT_EQ(p.returncode(), 0);
  EXPECT_EQ(p.args(), std::vector<std::string>{"cat"});
}

TEST(Popen, PidIsOurChild) {
  TestPipe gate;
  sp::Popen p({"cat"}, {.stdin_ = gate.read, .stdout_ = sp::DEVNULL});
  const auto st = sp_test::proc_stat(p.pid());
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->ppid, getpid());
  gate.close_write();
  EXPECT_EQ(p.wait(), 0);
}

TEST(Popen, LargeBidirectionalCommunicateDoesNotDeadlock) {
  // 24 MiB in; the child copies it to stdout and to stderr at the same time (tee), so it blocks
  // on whichever pipe we do not drain while we would block writing its stdin.
  const std::string input = pattern(24u << 20);
  sp::Popen p({"sh", "-c", "tee /dev/stderr"},
              {.stdin_ = sp::PIPE, .stdout_ = sp::PIPE, .stderr_ = sp::PIPE});
  auto [out, err] = p.communicate(input, 50s);
  EXPECT_EQ(out.size(), input.size());
  EXPECT_TRUE(out == input);
  EXPECT_TRUE(err == input);
  EXPECT_EQ(p.returncode(), 0);
}

TEST(Popen, LargeOutputOnBothPipesWithoutInput) {
  sp::Popen p({"sh", "-c", "head -c 16000000 /dev/zero >&2; head -c 16000000 /dev/zero"},
              {.stdout_ = sp::PIPE, .stderr_ = sp::PIPE});
  auto [out, err] = p.communicate(50s);
  EXPECT_EQ(out.size(), 16000000u);
  EXPECT_EQ(err.size(), 16000000u);
}

TEST(Popen, ChildThatStopsReadingIsNotAnError) {
  // `head -c 1` exits after one byte: writing the rest gets EPIPE, which communicate ignores
  // (and the SIGPIPE never reaches this process).
  sp::Popen p({"head", "-c", "1"}, {.stdin_ = sp::PIPE, .stdout_ = sp::PIPE});
  auto [out, err] = p.communicate(pattern(8u << 20), 50s);
  EXPECT_EQ(out, "a");
  EXPECT_EQ(p.returncode(), 0);
}

TEST(Popen, WriteToExitedChildIsBrokenPipeError) {
  sp::Popen p({"true"}, {.stdin_ = sp::PIPE});
  EXPECT_EQ(p.wait(), 0);
  EXPECT_THROW(p.stdin_().write("x"), pyconc::BrokenPipeError);
  try {
    p.stdin_().write("again");
  } catch (const pyconc::OSError& e) {
    EXPECT_EQ(e.errno_(), EPIPE);
  }
}

TEST(Popen, CommunicateTimeoutKeepsOutputForTheNextCall) {
  sp::Popen p({"sh", "-c", "echo one; echo err >&2; exec sleep 60"},
              {.stdout_ = sp::PIPE, .stderr_ = sp::PIPE});
  try {
    p.communicate(100ms);
    FAIL() << "no TimeoutExpired";
  } catch (const sp::TimeoutExpired& e) {
    EXPECT_EQ(e.timeout(), 100ms);
    EXPECT_TRUE(std::string("one\n").starts_with(e.output())) << e.output();
  }
  EXPECT_EQ(p.poll(), std::nullopt);  // the child keeps running
  p.kill();
  auto [out, err] = p.communicate();
  EXPECT_EQ(out, "one\n");
  EXPECT_EQ(err, "err\n");
  EXPECT_EQ(p.returncode(), -SIGKILL);
}

TEST(Popen, CommunicateTimeoutKeepsUnwrittenInput) {
  // The child does not read stdin until we open a gate, so the first communicate times out
  // with most of the input unwritten; the second call must write the rest.
  TestPipe gate;
  const std::string input = pattern(2u << 20);
  const std::string script = "read go <&" + std::to_string(gate.read) + "; exec cat";
  sp::Popen p({"sh", "-c", script},
              {.stdin_ = sp::PIPE, .stdout_ = sp::PIPE, .pass_fds = {gate.read}});
  gate.close_read();
  EXPECT_THROW(p.communicate(input, 100ms), sp::TimeoutExpired);
  EXPECT_THROW(p.communicate("more"), pyconc::ValueError);  // input after starting
  ASSERT_EQ(write(gate.write, "go\n", 3), 3);
  auto [out, err] = p.communicate(50s);
  EXPECT_TRUE(out == input) << out.size() << " bytes of " << input.size();
  EXPECT_EQ(p.returncode(), 0);
}

TEST(Popen, CommunicateWithoutPipes) {
  sp::Popen p({"true"});
  auto [out, err] = p.communicate();
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, "");
  EXPECT_EQ(p.returncode(), 0);
  sp::Popen q({"true"});
  EXPECT_THROW(q.communicate("input without a stdin pipe"), pyconc::ValueError);
  q.wait();
}

TEST(Popen, WaitTimeoutThenKill) {
  sp::Popen p({"sleep", "60"});
  const auto start = std::chrono::steady_clock::now();
  try {
    p.wait(50ms);
    FAIL() << "no TimeoutExpired";
  } catch (const sp::TimeoutExpired& e) {
    EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
    EXPECT_EQ(e.cmd(), (std::vector<std::string>{"sleep", "60"}));
    EXPECT_STREQ(e.what(), "Command '['sleep', '60']' timed out after 0.05 seconds");
  }
  EXPECT_EQ(p.poll(), std::nullopt);
  EXPECT_EQ(p.returncode(), std::nullopt);
  p.kill();
  EXPECT_EQ(p.wait(), -SIGKILL);
  EXPECT_EQ(p.returncode(), -SIGKILL);
  EXPECT_EQ(p.poll(), -SIGKILL);
  p.terminate();  // no-op once reaped
  EXPECT_TRUE(process_gone(p.pid()));
  EXPECT_THROW(p.wait(-1s), pyconc::ValueError);
}

TEST(Popen, TerminateAndSendSignal) {
  sp::Popen a({"sleep", "60"});
  a.terminate();
  EXPECT_EQ(a.wait(10s), -SIGTERM);
  sp::Popen b({"sleep", "60"});
  b.send_signal(SIGUSR1);
  EXPECT_EQ(b.wait(10s), -SIGUSR1);
}

TEST(Popen, PollBeforeAndAfterExit) {
  sp::Popen p({"cat"}, {.stdin_ = sp::PIPE, .stdout_ = sp::DEVNULL});
  EXPECT_EQ(p.poll(), std::nullopt);
  p.stdin_().close();  // cat sees end of file and exits
  EXPECT_EQ(p.wait(10s), 0);
  EXPECT_EQ(p.poll(), 0);
}

TEST(Popen, ManyThreadsWaitAndPollTheSameChild) {
  sp::Popen p({"cat"}, {.stdin_ = sp::PIPE, .stdout_ = sp::DEVNULL});
  std::atomic<int> started{0};
  std::vector<int> codes(4, -100);
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&, i] {
      started.fetch_add(1);
      codes[i] = i % 2 == 0 ? p.wait() : p.wait(30s);
    });
  }
  std::thread poller([&] {
    while (!p.poll()) std::this_thread::yield();
  });
  while (started.load() < 4) std::this_thread::yield();
  p.stdin_().close();
  for (auto& t : waiters) t.join();
  poller.join();
  EXPECT_EQ(codes, (std::vector<int>{0, 0, 0, 0}));
}

TEST(Popen, Files) {
  sp::Popen p({"sh", "-c", "printf 'one\\ntwo\\nthree\\nrest'"}, {.stdout_ = sp::PIPE});
  EXPECT_EQ(p.stdout_().readline(), "one\n");
  EXPECT_EQ(p.stdout_().read(2), "tw");
  std::vector<std::string> lines;
  for (const std::string& line : p.stdout_()) lines.push_back(line);
  EXPECT_EQ(lines, (std::vector<std::string>{"o\n", "three\n", "rest"}));
  EXPECT_EQ(p.stdout_().readline(), "");
  EXPECT_EQ(p.wait(), 0);
  EXPECT_TRUE(p.stdin_().closed());  // not a pipe
  EXPECT_THROW(p.stdin_().write("x"), pyconc::ValueError);

  sp::Popen s({"sort"}, {.stdin_ = sp::PIPE, .stdout_ = sp::PIPE});
  EXPECT_EQ(s.stdin_().write("b\nc\na\n"), 6u);
  s.stdin_().flush();
  s.stdin_().close();
  EXPECT_EQ(s.stdout_().read(), "a\nb\nc\n");
  EXPECT_EQ(s.wait(), 0);
}

TEST(Popen, CommunicateIncludesWhatAFileReadAhead) {
  sp::Popen p({"printf", "first\\nsecond\\nthird\\n"}, {.stdout_ = sp::PIPE});
  EXPECT_EQ(p.stdout_().readline(), "first\n");  // the File may have read more than the line
  auto [out, err] = p.communicate();
  EXPECT_EQ(out, "second\nthird\n");
}

TEST(Popen, TextMode) {
  sp::Popen p({"printf", "a\\r\\nb\\rc"}, {.stdout_ = sp::PIPE, .text = true});
  EXPECT_EQ(p.stdout_().readline(), "a\n");
  EXPECT_EQ(p.stdout_().readline(), "b\n");
  EXPECT_EQ(p.stdout_().readline(), "c");
  p.wait();
}

TEST(Popen, DestructorReapsAnExitedChild) {
  pid_t pid;
  {
    sp::Popen p({"true"});
    pid = p.pid();
  }
  EXPECT_TRUE(eventually([&] { return process_gone(pid); }));
}

TEST(Popen, DestructorHandsARunningChildToTheReaper) {
  // Children given up by earlier tests of this binary may still be on their way out.
  ASSERT_TRUE(eventually([] { return pyconc::detail::reaper_pending() == 0; }));
  TestPipe gate;
  pid_t pid;
  {
    sp::Popen p({"cat"}, {.stdin_ = gate.read, .stdout_ = sp::DEVNULL});
    pid = p.pid();
  }
  // cat blocks on the gate: it outlives its Popen (as in Python) and the reaper holds it.
  EXPECT_EQ(pyconc::detail::reaper_pending(), 1u);
  auto st = sp_test::proc_stat(pid);
  ASSERT_TRUE(st.has_value());
  EXPECT_NE(st->state, 'Z');
  gate.close_write();  // now it exits, and the reaper reaps it
  EXPECT_TRUE(
      eventually([&] { return process_gone(pid) && pyconc::detail::reaper_pending() == 0; }));
}

TEST(Popen, DestructorClosesStdinSoTheChildCanFinish) {
  pid_t pid;
  {
    sp::Popen p({"cat"}, {.stdin_ = sp::PIPE, .stdout_ = sp::DEVNULL});
    pid = p.pid();
    p.stdin_().write("unread");
  }
  EXPECT_TRUE(eventually([&] { return process_gone(pid); }));
}

TEST(Popen, Move) {
  sp::Popen a({"sh", "-c", "exit 4"});
  const pid_t pid = a.pid();
  sp::Popen b(std::move(a));
  EXPECT_EQ(b.pid(), pid);
  EXPECT_EQ(b.wait(), 4);
  TestPipe gate;
  sp::Popen c({"cat"}, {.stdin_ = gate.read, .stdout_ = sp::DEVNULL});
  const pid_t running = c.pid();
  c = std::move(b);  // the running cat goes to the reaper
  EXPECT_EQ(c.returncode(), 4);
  gate.close_write();
  EXPECT_TRUE(eventually([&] { return process_gone(running); }));
}

TEST(Popen, WithoutPidfd) {
  // The fallback for kernels without pidfd_open: timed waits poll, the reaper polls.
  pyconc::detail::set_pidfd_enabled(false);
  {
    sp::Popen p({"sleep", "60"});
    EXPECT_THROW(p.wait(30ms), sp::TimeoutExpired);
    p.kill();
    EXPECT_EQ(p.wait(10s), -SIGKILL);
    sp::Popen q({"cat"}, {.stdin_ = sp::PIPE, .stdout_ = sp::PIPE});
    EXPECT_EQ(q.communicate("no pidfd").first, "no pidfd");
    TestPipe gate;
    pid_t pid;
    {
      sp::Popen r({"cat"}, {.stdin_ = gate.read, .stdout_ = sp::DEVNULL});
      pid = r.pid();
    }
    gate.close_write();
    EXPECT_TRUE(eventually([&] { return process_gone(pid); }));
  }
  pyconc::detail::set_pidfd_enabled(true);
}
