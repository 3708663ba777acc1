// The spawning core (pyconc/detail/spawn.hpp) and what Popen/run inherit from it:
// descriptor hygiene, signals, sessions, non-blocking pipes for asyncio, and spawning from many
// threads at once -- also while a ThreadPoolExecutor keeps the parent busy.
#include "pyconc/detail/spawn.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pyconc/errors.hpp"
#include "pyconc/futures/thread_pool_executor.hpp"
#include "pyconc/subprocess/file.hpp"
#include "pyconc/subprocess/popen.hpp"
#include "pyconc/subprocess/run.hpp"
#include "subprocess_test_util.hpp"

namespace sp = pyconc::subprocess;
namespace cf = pyconc::futures;
namespace detail = pyconc::detail;
using namespace std::chrono_literals;

namespace {

// Makes `p` (a cat with stdin and stdout pipes) echo one line: once it answers, cat runs its
// main loop and the dynamic loader has closed whatever it opened.
void ping(sp::Popen& p) {
  p.stdin_().write("ping\n");
  ASSERT_EQ(p.stdout_().readline(), "ping\n");
}

// Descriptors opened the careless way (no O_CLOEXEC), as other code in a process may do.
struct LeakyFds {
  int pipe_fds[2] = {-1, -1};
  int file = -1;
  LeakyFds() {
    if (pipe(pipe_fds) != 0) pipe_fds[0] = pipe_fds[1] = -1;
    file = open("/dev/null", O_RDONLY);
  }
  ~LeakyFds() {
    for (int fd : {pipe_fds[0], pipe_fds[1], file}) {
      if (fd >= 0) close(fd);
    }
  }
};

}  // namespace

TEST(Spawn, ChildHasOnlyStdio) {
  LeakyFds leaky;
  ASSERT_GE(leaky.file, 0);
  sp::Popen p({"cat"}, {.stdin_ = sp::PIPE, .stdout_ = sp::PIPE, .stderr_ = sp::DEVNULL});
  ping(p);
  EXPECT_EQ(sp_test::open_fds(p.pid()), (std::set<int>{0, 1, 2}));
  p.stdin_().close();
  EXPECT_EQ(p.wait(10s), 0);
}

TEST(Spawn, ChildListsOnlyStdio) {
  // The child's own view: `ls /proc/self/fd` shows 0, 1, 2 and the directory it reads (3).
  LeakyFds leaky;
  EXPECT_EQ(sp::check_output({"ls", "/proc/self/fd"}), "0\n1\n2\n3\n");
}

TEST(Spawn, PassFdsKeepsThoseOnly) {
  LeakyFds leaky;
  const int keep = leaky.pipe_fds[1];
  sp::Popen p({"cat"}, {.stdin_ = sp::PIPE, .stdout_ = sp::PIPE, .pass_fds = {keep}});
  ping(p);
  EXPECT_EQ(sp_test::open_fds(p.pid()), (std::set<int>{0, 1, 2, keep}));
  p.stdin_().close();
  p.wait();
  EXPECT_THROW(sp::Popen({"true"}, {.pass_fds = {-1}}), pyconc::ValueError);
}

TEST(Spawn, CloseFdsFalseLetsUnmarkedDescriptorsThrough) {
  LeakyFds leaky;
  // What a child may inherit: our descriptors without FD_CLOEXEC (ours above, and any this
  // test process inherited itself), moved to 0-2 or kept.
  std::set<int> expected{0, 1, 2};
  for (const int fd : sp_test::open_fds(getpid())) {
    const int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0) expected.insert(fd);
  }
  ASSERT_TRUE(expected.count(leaky.pipe_fds[0]) && expected.count(leaky.file));
  sp::Popen p({"cat"}, {.stdin_ = sp::PIPE, .stdout_ = sp::PIPE, .close_fds = false});
  ping(p);
  // Exactly those: our own pipes (and the pipes of children spawned meanwhile) are
  // close-on-exec and never reach the child.
  EXPECT_EQ(sp_test::open_fds(p.pid()), expected);
  p.stdin_().close();
  p.wait();
}

TEST(Spawn, ConcurrentSpawnsNeverInheritAnotherChildsPipe) {
  // If a child spawned by another thread inherited the write end of cat's stdin, cat would not
  // see end of file when we close ours, and wait() would time out.
  int gate[2];
  ASSERT_EQ(pipe2(gate, O_CLOEXEC), 0);
  std::atomic<bool> stop{false};
  std::vector<sp::Popen> gated;
  std::thread spawner([&] {
    while (!stop.load() && gated.size() < 200) {
      gated.emplace_back(std::vector<std::string>{"cat"},
                         sp::PopenOptions{.stdin_ = gate[0], .stdout_ = sp::DEVNULL});
    }
  });
  for (int i = 0; i < 20; ++i) {
    sp::Popen p({"cat"}, {.stdin_ = sp::PIPE, .stdout_ = sp::DEVNULL});
    p.stdin_().close();
    EXPECT_EQ(p.wait(20s), 0);
  }
  stop = true;
  spawner.join();
  close(gate[1]);  // every gated cat exits now
  for (auto& g : gated) EXPECT_EQ(g.wait(20s), 0);
  close(gate[0]);
}

TEST(Spawn, SignalMaskAndIgnoredSignalsAreReset) {
  // A signal blocked in the spawning thread stays blocked in a child only with
  // restore_signals = false.
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &usr1, &old), 0);
  const auto killed =
      sp::run({"sh", "-c", "kill -USR1 $$; echo survived"}, {.capture_output = true});
  const auto blocked = sp::run({"sh", "-c", "kill -USR1 $$; echo survived"},
                               {.capture_output = true, .restore_signals = false});
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(killed.returncode, -SIGUSR1);
  EXPECT_EQ(blocked.returncode, 0);
  EXPECT_EQ(blocked.stdout_text, "survived\n");

  // SIGPIPE ignored here is back to its default in the child (Python's restore_signals).
  struct sigaction ign {
  }, prev{};
  ign.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGPIPE, &ign, &prev), 0);
  const auto read_sigign = [](bool restore) {
    const std::string status =
        sp::check_output({"grep", "SigIgn", "/proc/self/status"}, {.restore_signals = restore});
    return std::stoull(status.substr(status.find(':') + 1), nullptr, 16);
  };
  const unsigned long long restored = read_sigign(true);
  const unsigned long long inherited = read_sigign(false);
  sigaction(SIGPIPE, &prev, nullptr);
  const unsigned long long pipe_bit = 1ULL << (SIGPIPE - 1);
  EXPECT_EQ(restored & pipe_bit, 0u);
  EXPECT_EQ(inherited & pipe_bit, pipe_bit);
}

TEST(Spawn, NewSessionAndProcessGroup) {
  int gate[2];
  ASSERT_EQ(pipe2(gate, O_CLOEXEC), 0);
  sp::Popen session({"cat"},
                    {.stdin_ = gate[0], .stdout_ = sp::DEVNULL, .start_new_session = true});
  sp::Popen group({"cat"}, {.stdin_ = gate[0], .stdout_ = sp::DEVNULL, .process_group = 0});
  sp::Popen plain({"cat"}, {.stdin_ = gate[0], .stdout_ = sp::DEVNULL});
  const auto s = sp_test::proc_stat(session.pid());
  const auto g = sp_test::proc_stat(group.pid());
  const auto p = sp_test::proc_stat(plain.pid());
  ASSERT_TRUE(s && g && p);
  EXPECT_EQ(s->session, session.pid());
  EXPECT_EQ(s->pgrp, session.pid());
  EXPECT_EQ(g->pgrp, group.pid());
  EXPECT_NE(g->session, group.pid());
  EXPECT_EQ(p->pgrp, getpgrp());
  close(gate[1]);
  for (sp::Popen* c : {&session, &group, &plain}) EXPECT_EQ(c->wait(10s), 0);
  close(gate[0]);
}

TEST(Spawn, Executable) {
  // argv[0] stays what was given; the program run is `executable`.
  EXPECT_EQ(sp::check_output({"renamed", "-c", "echo $0"}, {.executable = "/bin/sh"}), "renamed\n");
  EXPECT_EQ(sp::check_output({"echo $0"}, {.shell = true, .executable = "/bin/bash"}),
            "/bin/bash\n");
}

TEST(Spawn, PathDirectoryWithoutExecutableIsPermissionError) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("pyconc_spawn_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "pyconc-noexec") << "#!/bin/sh\n";
  chmod((dir / "pyconc-noexec").c_str(), 0644);
  EXPECT_THROW(sp::run({"pyconc-noexec"}, {.env = {{"PATH", dir.string()}}}),
               pyconc::PermissionError);
  chmod((dir / "pyconc-noexec").c_str(), 0755);
  EXPECT_EQ(sp::run({"pyconc-noexec"}, {.env = {{"PATH", dir.string()}}}).returncode, 0);
  std::filesystem::remove_all(dir);
}

TEST(Spawn, NonBlockingParentEndsForAnEventLoop) {
  detail::SpawnOptions o;
  o.stdin_ = sp::PIPE;
  o.stdout_ = sp::PIPE;
  o.stderr_ = sp::PIPE;
  o.nonblocking = true;
  detail::SpawnedProcess child = detail::spawn_process({"cat"}, o);
  ASSERT_GT(child.pid, 0);
  for (const auto* fd : {&child.stdin_, &child.stdout_, &child.stderr_}) {
    ASSERT_TRUE(*fd);
    EXPECT_NE(fcntl(fd->get(), F_GETFL) & O_NONBLOCK, 0);
    EXPECT_NE(fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, 0);
  }
  // The child's ends are ordinary blocking descriptors.
  std::ifstream fdinfo("/proc/" + std::to_string(child.pid) + "/fdinfo/0");
  std::string key, flags;
  while (fdinfo >> key >> flags && key != "flags:") {
  }
  EXPECT_EQ(std::stoi(flags, nullptr, 8) & O_NONBLOCK, 0);
  char buf[16];
  EXPECT_EQ(read(child.stdout_.get(), buf, sizeof buf), -1);  // nothing yet: EAGAIN
  EXPECT_EQ(errno, EAGAIN);
  ASSERT_TRUE(child.pidfd);
  pollfd p{child.pidfd.get(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0);  // still running
  EXPECT_EQ(detail::try_reap(child.pid), std::nullopt);
  child.stdin_.reset();  // cat exits at end of file
  EXPECT_EQ(poll(&p, 1, 20000), 1);
  EXPECT_EQ(detail::try_reap(child.pid), 0);
}

TEST(Spawn, ShellArgv) {
  EXPECT_EQ(detail::shell_argv({"echo hi", "x"}, ""),
            (std::vector<std::string>{"/bin/sh", "-c", "echo hi", "x"}));
  EXPECT_EQ(detail::shell_argv({"echo hi"}, "/bin/bash"),
            (std::vector<std::string>{"/bin/bash", "-c", "echo hi"}));
}

TEST(Spawn, ManyThreadsRunConcurrently) {
  constexpr int kThreads = 4, kRuns = 25;
  std::vector<int> ok(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRuns; ++i) {
        const std::string tag = "thread " + std::to_string(t) + " run " + std::to_string(i);
        auto r = sp::run({"sh", "-c", "cat; echo \"$0\" >&2", tag},
                         {.input = tag, .capture_output = true, .timeout = 30s});
        ok[t] += r.returncode == 0 && r.stdout_text == tag && r.stderr_text == tag + "\n";
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, std::vector<int>(kThreads, kRuns));
}

TEST(Spawn, WhileAThreadPoolIsBusy) {
  // Pool workers compute (and allocate) while other workers and the main thread spawn: a
  // fork() here could copy a locked malloc arena or a half-updated structure into the child.
  std::atomic<bool> stop{false};
  cf::ThreadPoolExecutor pool(4);
  std::vector<pyconc::Future<long>> busy;
  for (int i = 0; i < 2; ++i) {
    busy.push_back(pool.submit([&stop] {
      long allocations = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        std::vector<std::string> garbage(64, std::string(100, 'x'));
        allocations += static_cast<long>(garbage.size());
      }
      return allocations;
    }));
  }
  std::vector<pyconc::Future<int>> spawners;
  for (int i = 0; i < 2; ++i) {
    spawners.push_back(pool.submit([i] {
      int ok = 0;
      for (int j = 0; j < 20; ++j) {
        const std::string tag = std::to_string(i) + ":" + std::to_string(j);
        ok += sp::check_output({"cat"}, {.input = tag}) == tag;
      }
      return ok;
    }));
  }
  int main_ok = 0;
  for (int j = 0; j < 20; ++j) main_ok += sp::run({"true"}).returncode == 0;
  for (auto& f : spawners) EXPECT_EQ(f.result(60s), 20);
  stop = true;
  for (auto& f : busy) EXPECT_GT(f.result(60s), 0);
  EXPECT_EQ(main_ok, 20);
}

TEST(Spawn, DescriptorsGivenForStreamsMayBeSwapped) {
  // stdout_ = 2, stderr_ = 1: the child's stdout is our stderr and the other way round. Our
  // 1 and 2 are pointed at two pipes for the duration of the run.
  int out_pipe[2], err_pipe[2];
  ASSERT_EQ(pipe2(out_pipe, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(err_pipe, O_CLOEXEC), 0);
  std::fflush(stdout);
  std::fflush(stderr);
  const int saved_out = fcntl(1, F_DUPFD_CLOEXEC, 3);
  const int saved_err = fcntl(2, F_DUPFD_CLOEXEC, 3);
  dup2(out_pipe[1], 1);
  dup2(err_pipe[1], 2);
  const int rc =
      sp::run({"sh", "-c", "echo to-stdout; echo to-stderr >&2"}, {.stdout_ = 2, .stderr_ = 1})
          .returncode;
  dup2(saved_out, 1);
  dup2(saved_err, 2);
  close(saved_out);
  close(saved_err);
  close(out_pipe[1]);
  close(err_pipe[1]);
  sp::File ours_1{detail::UniqueFd(out_pipe[0])};
  sp::File ours_2{detail::UniqueFd(err_pipe[0])};
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(ours_1.read(), "to-stderr\n");
  EXPECT_EQ(ours_2.read(), "to-stdout\n");
}
