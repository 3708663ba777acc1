// Unix signals on the loop (add_signal_handler / remove_signal_handler), aio::Runner, and
// aio::run's SIGINT handling (Python 3.11: the main task is cancelled, then KeyboardInterrupt),
// the last checked in a forked child that the parent interrupts after a pipe handshake.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>

#include "pyconc/asyncio.hpp"

namespace aio = pyconc::asyncio;
using namespace std::chrono_literals;

namespace {

aio::Task<> wait_event(aio::Event& e) {
  co_await e.wait();
}

void (*disposition(int sig))(int) {
  struct sigaction cur {};
  ::sigaction(sig, nullptr, &cur);
  return cur.sa_handler;
}

TEST(Signals, HandlerRunsAsALoopCallback) {
  ::signal(SIGUSR1, SIG_IGN);  // the disposition that removal must restore
  aio::run([]() -> aio::Task<> {
    auto& loop = aio::get_running_loop();
    aio::Event got;
    int calls = 0;
    loop.add_signal_handler(SIGUSR1, [&] {
      ++calls;
      EXPECT_EQ(aio::current_task().valid(), false);  // a callback, not inside a task
      got.set();
    });
    ::kill(::getpid(), SIGUSR1);
    co_await aio::wait_for(wait_event(got), 20s);
    EXPECT_EQ(calls, 1);
    got.clear();
    ::raise(SIGUSR1);
    co_await aio::wait_for(wait_event(got), 20s);
    EXPECT_EQ(calls, 2);
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
    EXPECT_FALSE(loop.remove_signal_handler(SIGUSR1));
  }());
  EXPECT_EQ(disposition(SIGUSR1), SIG_IGN);
  ::signal(SIGUSR1, SIG_DFL);
}

TEST(Signals, InvalidSignalsRaiseAsPython) {
  aio::EventLoop loop;
  EXPECT_THROW(loop.add_signal_handler(0, [] {}), pyconc::ValueError);
  EXPECT_THROW(loop.add_signal_handler(NSIG, [] {}), pyconc::ValueError);
  EXPECT_THROW(loop.add_signal_handler(-3, [] {}), pyconc::ValueError);
  EXPECT_THROW(loop.add_signal_handler(SIGKILL, [] {}), pyconc::RuntimeError);
  EXPECT_THROW(loop.add_signal_handler(SIGSTOP, [] {}), pyconc::RuntimeError);
  EXPECT_THROW(loop.remove_signal_handler(0), pyconc::ValueError);
  EXPECT_FALSE(loop.remove_signal_handler(SIGUSR2));
  loop.close();
  EXPECT_THROW(loop.add_signal_handler(SIGUSR2, [] {}), pyconc::RuntimeError);
}

TEST(Signals, CloseRestoresTheDispositionAndErrorsGoToTheHandler) {
  ASSERT_EQ(disposition(SIGUSR2), SIG_DFL);
  {
    aio::EventLoop loop;
    std::string reported;
    loop.set_exception_handler([&](aio::EventLoop& l, const aio::ExceptionContext& c) {
      reported = c.message;
      l.stop();
    });
    loop.add_signal_handler(SIGUSR2, [] { throw pyconc::ValueError("from the handler"); });
    EXPECT_NE(disposition(SIGUSR2), SIG_DFL);
    ::raise(SIGUSR2);
    loop.run_forever();  // stopped by the exception handler
    EXPECT_NE(reported.find("signal"), std::string::npos) << reported;
    loop.close();
  }
  EXPECT_EQ(disposition(SIGUSR2), SIG_DFL);
}

aio::Task<int> value(int v) {
  co_return v;
}

TEST(Runner, SeveralRunsOnOneLoopThenClose) {
  aio::Task<> pending;
  {
    aio::Runner runner;
    aio::EventLoop* first = &runner.get_loop();
    EXPECT_EQ(runner.run(value(1)), 1);
    pending = runner.run([]() -> aio::Task<aio::Task<>> {
      co_return aio::create_task([]() -> aio::Task<> { co_await aio::sleep(1h); }());
    }());
    EXPECT_EQ(&runner.get_loop(), first);
    EXPECT_EQ(runner.run(value(2)), 2);
    EXPECT_FALSE(pending.done());  // still waiting in the loop between runs
    EXPECT_THROW(runner.run([]() -> aio::Task<> {
      throw pyconc::ValueError("bad");
      co_return;
    }()),
                 pyconc::ValueError);
    runner.close();  // cancels the leftover task and waits for it
    EXPECT_TRUE(pending.cancelled());
    EXPECT_THROW(runner.run(value(3)), pyconc::RuntimeError);
    EXPECT_THROW(runner.get_loop(), pyconc::RuntimeError);
    runner.close();  // idempotent
  }
  aio::run([]() -> aio::Task<> {
    aio::Runner inner;
    EXPECT_THROW(inner.run(value(1)), pyconc::RuntimeError);  // inside a running loop
    co_return;
  }());
}

TEST(Runner, RaiiClosesTheLoop) {
  aio::Task<> pending;
  {
    aio::Runner runner;
    pending = runner.run([]() -> aio::Task<aio::Task<>> {
      co_return aio::create_task([]() -> aio::Task<> { co_await aio::sleep(1h); }());
    }());
  }
  EXPECT_TRUE(pending.cancelled());
}

// Reads one byte within `limit`; -1 on timeout or EOF.
int read_byte(int fd, std::chrono::milliseconds limit) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(limit.count())) != 1) return -1;
  unsigned char b = 0;
  return ::read(fd, &b, 1) == 1 ? b : -1;
}

TEST(RunSigint, CancelsTheMainTaskThenRaisesKeyboardInterrupt) {
  int ready[2];
  int report[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(report), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    ::close(report[0]);
    const int rfd = ready[1];
    const int out = report[1];
    char verdict = 'X';
    try {
      aio::run([](int rfd, int out) -> aio::Task<> {
        aio::Event never;
        try {
          const char r = 'R';
          (void)::write(rfd, &r, 1);  // the SIGINT handler is installed: interrupt me
          co_await aio::wait_for(wait_event(never), 30s);
        } catch (const pyconc::CancelledError&) {
          const char c = 'C';
          (void)::write(out, &c, 1);
          throw;
        }
      }(rfd, out));
      verdict = 'N';  // returned normally
    } catch (const pyconc::KeyboardInterrupt&) {
      verdict = 'K';
    } catch (...) {
      verdict = 'E';
    }
    (void)::write(out, &verdict, 1);
    // The default disposition is back after the run.
    struct sigaction cur {};
    ::sigaction(SIGINT, nullptr, &cur);
    const char d = cur.sa_handler == SIG_DFL ? 'D' : 'd';
    (void)::write(out, &d, 1);
    ::_exit(0);
  }
  ::close(ready[1]);
  ::close(report[1]);
  ASSERT_EQ(read_byte(ready[0], 20s), 'R');
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  std::string got;
  for (int b = read_byte(report[0], 20s); b >= 0; b = read_byte(report[0], 20s)) {
    got += static_cast<char>(b);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status)) << "the child died of signal " << WTERMSIG(status);
  EXPECT_EQ(got, "CKD");  // CancelledError in the task, then KeyboardInterrupt, SIG_DFL again
  ::close(ready[0]);
  ::close(report[0]);
}

}  // namespace
