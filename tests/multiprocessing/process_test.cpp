#include "pyconc/multiprocessing/process.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "mp_test_util.hpp"
#include "pyconc/futures/thread_pool_executor.hpp"
#include "pyconc/multiprocessing/event.hpp"
#include "pyconc/multiprocessing/value.hpp"
#include "pyconc/threading/thread.hpp"

using namespace std::chrono_literals;
namespace mp = pyconc::multiprocessing;
namespace th = pyconc::threading;
using mp_test::MpTest;
using mp_test::RawPipe;

namespace {

void add_to(mp::Value<int> v, int n) {
  v.value() += n;
}

struct Counter : mp::Process {
  Counter(mp::Value<int> v, int n) : Process({.name = "counter"}), v_(std::move(v)), n_(n) {}
  void run() override { v_.value() += n_ * 10; }
  mp::Value<int> v_;
  int n_;
};

double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

class ProcessTest : public MpTest {};

TEST_F(ProcessTest, RunsAFunctionWithArgumentsInAChild) {
  mp::Value<int> v(0);
  mp::Process p(add_to, v, 5);
  EXPECT_EQ(p.pid(), 0);
  EXPECT_FALSE(p.is_alive());
  EXPECT_EQ(p.exitcode(), std::nullopt);
  p.start();
  EXPECT_GT(p.pid(), 0);
  EXPECT_NE(p.pid(), ::getpid());
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_FALSE(p.is_alive());
  EXPECT_EQ(v.value(), 5);
}

TEST_F(ProcessTest, RunsALambdaWithCaptures) {
  mp::Value<int> v(0);
  const std::string word = "hello";
  mp::Process p([v, word](int k) { v.value() = static_cast<int>(word.size()) * k; }, 3);
  p.start();
  p.join();
  EXPECT_EQ(v.value(), 15);
}

TEST_F(ProcessTest, SubclassStyleRunsRun) {
  mp::Value<int> v(0);
  Counter c(v, 4);
  EXPECT_EQ(c.name(), "counter");
  c.start();
  c.join();
  EXPECT_EQ(c.exitcode(), 0);
  EXPECT_EQ(v.value(), 40);
}

TEST_F(ProcessTest, ChildSeesItsOwnNameAndPidAndItsParent) {
  RawPipe out;
  mp::Process p({.name = "p1"}, [&out] {
    const auto me = mp::current_process();
    const auto parent = mp::parent_process();
    out.write(me.name() + " " + std::to_string(me.pid() == ::getpid()) + " " +
              std::to_string(me.is_alive()) + " " + (parent ? parent->name() : "none") + " " +
              std::to_string(parent && parent->pid() == ::getppid()) + " " +
              std::to_string(parent && parent->is_alive()));
  });
  p.start();
  p.join();
  EXPECT_EQ(out.read_all(), "p1 1 1 MainProcess 1 1");
  EXPECT_EQ(mp::current_process().name(), "MainProcess");
  EXPECT_EQ(mp::current_process().pid(), ::getpid());
  EXPECT_FALSE(mp::parent_process().has_value());
}

TEST_F(ProcessTest, DefaultNamesCountUpAndNestLikePython) {
  RawPipe out;
  mp::Process a([] {});
  mp::Process b([&out] {
    mp::Process inner([] {});
    out.write(inner.name());
  });
  const int na = std::stoi(a.name().substr(8));
  EXPECT_EQ(a.name().substr(0, 8), "Process-");
  EXPECT_EQ(b.name(), "Process-" + std::to_string(na + 1));
  b.start();
  b.join();
  EXPECT_EQ(out.read_all(), b.name() + ":1");
}

TEST_F(ProcessTest, UncaughtExceptionGivesExitCodeOneAndIsPrinted) {
  RawPipe err;
  mp::Process p({.name = "bad"}, [&err] {
    ::dup2(err.write_fd(), STDERR_FILENO);
    throw pyconc::ValueError("boom");
  });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 1);
  EXPECT_EQ(err.read_all(), "Process bad:\npyconc::ValueError: boom\n");
}

TEST_F(ProcessTest, ExitSetsTheExitCodeAndUnwinds) {
  mp::Value<int> v(0);
  mp::Process p([v] {
    struct Guard {
      mp::Value<int> v;
      ~Guard() { v.value() = 7; }
    } g{v};
    mp::exit(3);
  });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 3);
  EXPECT_EQ(v.value(), 7);
}

TEST_F(ProcessTest, ExitIsNotSwallowedByCatchingStdException) {
  mp::Process p([] {
    try {
      mp::exit(4);
    } catch (const std::exception&) {
    }
    mp::exit(5);
  });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 4);
}

TEST_F(ProcessTest, TerminateAndKillGiveNegativeSignalNumbers) {
  mp::Event started;
  mp::Process a([started]() mutable {
    started.set();
    ::pause();
  });
  a.start();
  ASSERT_TRUE(started.wait(10s));
  EXPECT_TRUE(a.is_alive());
  a.terminate();
  a.join();
  EXPECT_EQ(a.exitcode(), -SIGTERM);

  mp::Process b([] { ::pause(); });
  b.start();
  b.kill();
  ASSERT_TRUE(b.join(10s));
  EXPECT_EQ(b.exitcode(), -SIGKILL);
  b.terminate();  // already ended: nothing happens
  EXPECT_EQ(b.exitcode(), -SIGKILL);
}

TEST_F(ProcessTest, JoinWithTimeoutWaitsWithoutSpinning) {
  mp::Event go;
  mp::Process p([go]() mutable { go.wait(); });
  p.start();
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(p.join(300ms));
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(cpu_seconds() - cpu0, 0.1) << "join(timeout) burned CPU";
  EXPECT_TRUE(p.is_alive());
  EXPECT_EQ(p.exitcode(), std::nullopt);
  go.set();
  EXPECT_TRUE(p.join(10s));
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_THROW(p.join(-1ms), pyconc::ValueError);
}

TEST_F(ProcessTest, SentinelBecomesReadableWhenTheChildEnds) {
  mp::Event go;
  mp::Process p([go]() mutable { go.wait(); });
  p.start();
  pollfd pf{p.sentinel(), POLLIN, 0};
  EXPECT_EQ(::poll(&pf, 1, 0), 0);
  go.set();
  EXPECT_EQ(::poll(&pf, 1, 10000), 1);
  p.join();
}

TEST_F(ProcessTest, MisuseRaisesPythonErrors) {
  mp::Process p([] {});
  EXPECT_THROW(p.join(), pyconc::RuntimeError);
  EXPECT_THROW(p.terminate(), pyconc::RuntimeError);
  p.start();
  EXPECT_THROW(p.start(), pyconc::RuntimeError);
  EXPECT_THROW(p.set_daemon(true), pyconc::RuntimeError);
  p.join();
  p.close();
  EXPECT_THROW(p.is_alive(), pyconc::ValueError);
  EXPECT_THROW(p.start(), pyconc::ValueError);
  EXPECT_THROW(mp::current_process().join(), pyconc::RuntimeError);

  mp::Event go;
  mp::Process q([go]() mutable { go.wait(); });
  q.start();
  EXPECT_THROW(q.close(), pyconc::ValueError);
  go.set();
  q.join();
}

TEST_F(ProcessTest, ChildCannotJoinItselfOrASibling) {
  RawPipe out;
  mp::Process sibling([] {});
  sibling.start();
  mp::Process p([&] {
    std::string r;
    try {
      mp::current_process().join();
    } catch (const pyconc::RuntimeError&) {
      r += "self ";
    }
    try {
      sibling.join();
    } catch (const pyconc::RuntimeError&) {
      r += "sibling";
    }
    out.write(r);
  });
  p.start();
  p.join();
  sibling.join();
  EXPECT_EQ(out.read_all(), "self sibling");
}

TEST_F(ProcessTest, ActiveChildrenListsRunningOnes) {
  mp::Event go;
  std::vector<mp::Process> ps;
  for (int i = 0; i < 3; ++i) ps.emplace_back([go]() mutable { go.wait(); });
  for (auto& p : ps) p.start();
  auto kids = mp::active_children();
  EXPECT_EQ(kids.size(), 3U);
  for (auto& p : ps) {
    EXPECT_NE(std::find(kids.begin(), kids.end(), p.ref()), kids.end());
  }
  go.set();
  for (auto& k : kids) k.join();
  EXPECT_TRUE(mp::active_children().empty());
  for (auto& p : ps) EXPECT_EQ(p.exitcode(), 0);
}

TEST_F(ProcessTest, DestroyedHandleIsReapedByActiveChildren) {
  mp::Event done;
  int pid = 0;
  {
    mp::Process p([done]() mutable { done.set(); });
    p.start();
    pid = p.pid();
  }
  ASSERT_TRUE(done.wait(10s));
  // The handle is gone; the module still knows the child, lists it until it ends, reaps it.
  for (auto& k : mp::active_children()) {
    EXPECT_EQ(k.pid(), pid);
    EXPECT_TRUE(k.join(10s));
  }
  EXPECT_TRUE(mp::active_children().empty());
  EXPECT_EQ(::kill(pid, 0), -1);
}

TEST_F(ProcessTest, ChildOfAThreadHasOneMainThreadAndNoPoolWorkers) {
  pyconc::futures::ThreadPoolExecutor pool(2);
  pool.submit([] { return 1; }).result();
  RawPipe out;
  int code = -100;
  th::Thread t([&] {
    mp::Process p([&out] {
      out.write(th::current_thread().name() + " " + std::to_string(th::active_count()) + " " +
                std::to_string(th::main_thread() == th::current_thread()));
    });
    p.start();
    p.join();
    code = *p.exitcode();
  });
  t.start();
  t.join();
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out.read_all(), "MainThread 1 1");
}

TEST_F(ProcessTest, CpuCountIsPositive) {
  EXPECT_GE(mp::cpu_count(), 1);
}

// A sub-test process (raw fork) exits normally: like Python, it terminates its daemon children
// and joins the others before exiting.
TEST_F(ProcessTest, ExitOfTheParentTerminatesDaemonsAndJoinsOthers) {
  RawPipe pids;
  RawPipe finished;
  mp::Event release;
  const pid_t sub = ::fork();
  ASSERT_GE(sub, 0);
  if (sub == 0) {
    mp::Process daemon({.daemon = true}, [] { ::pause(); });
    mp::Process worker([&finished, release]() mutable {
      release.wait();
      std::this_thread::sleep_for(50ms);  // a late finisher: the exit must wait for it
      finished.write("done");
    });
    daemon.start();
    worker.start();
    pids.write(std::to_string(daemon.pid()) + " " + std::to_string(worker.pid()) + "\n");
    std::exit(0);  // runs the exit handler
  }
  std::istringstream in(pids.read_line());
  int daemon_pid = 0, worker_pid = 0;
  in >> daemon_pid >> worker_pid;
  ASSERT_GT(daemon_pid, 0);
  release.set();
  int status = 0;
  ASSERT_EQ(::waitpid(sub, &status, 0), sub);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(finished.read_all(), "done") << "the exit did not wait for the non-daemon child";
  EXPECT_EQ(::kill(daemon_pid, 0), -1) << "daemon child survived its parent";
  EXPECT_EQ(::kill(worker_pid, 0), -1);
}

// A daemon child dies with its parent even when the parent is killed (PR_SET_PDEATHSIG).
TEST_F(ProcessTest, DaemonDiesWhenTheParentIsKilled) {
  RawPipe pids;
  const pid_t sub = ::fork();
  ASSERT_GE(sub, 0);
  if (sub == 0) {
    mp::Process daemon({.daemon = true}, [] { ::pause(); });
    daemon.start();
    pids.write(std::to_string(daemon.pid()) + "\n");
    ::pause();
    ::_exit(0);
  }
  const int daemon_pid = std::stoi(pids.read_line());
  ASSERT_GT(daemon_pid, 0);
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, daemon_pid, 0));
  ASSERT_GE(fd, 0);
  ::kill(sub, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(sub, &status, 0), sub);
  pollfd pf{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&pf, 1, 10000), 1) << "daemon child survived its killed parent";
  ::close(fd);
}
