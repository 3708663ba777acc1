// Shared by the process-pool tests: synchronising with tasks that run in worker processes
// (pipes the workers inherit), and a fixture that checks every test leaves no fd and no
// child process behind.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>

#include "proc.hpp"

namespace pool_test {

using namespace std::chrono_literals;

using test_support::count_fds;
using test_support::has_children;

// Every test: no fd and no child process (worker or zombie) survives it.
class NoLeaks : public ::testing::Test {
 protected:
  void SetUp() override { fds_ = count_fds(); }
  void TearDown() override {
    EXPECT_EQ(count_fds(), fds_) << "file descriptors leaked";
    EXPECT_FALSE(has_children()) << "a child process (worker or zombie) survived the test";
  }

 private:
  int fds_ = 0;
};

// A pipe one end of which the worker processes inherit (create it before the pool). A
// Channel to the test: a task writes a number to worker_fd() ("I am running"), the test
// receive()s it with a bound. A Channel to the workers: the test send()s, a task reads
// worker_fd() (a task blocked until the test releases it).
class Channel {
 public:
  enum Direction { to_test, to_workers };
  explicit Channel(Direction d = to_test) : direction_(d) {
    if (::pipe(fds_) != 0) std::abort();
    ::fcntl(own(), F_SETFD, FD_CLOEXEC);  // only the workers' end is inherited
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int worker_fd() const { return direction_ == to_test ? fds_[1] : fds_[0]; }
  // The next number written by a task; fails the test (returns -1) after `timeout`.
  long receive(std::chrono::milliseconds timeout = 20s) {
    pollfd p{fds_[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
      ADD_FAILURE() << "no message from the task in time";
      return -1;
    }
    long v = -1;
    if (::read(fds_[0], &v, sizeof v) != sizeof v) ADD_FAILURE() << "short read";
    return v;
  }
  void send(long v) {
    if (::write(fds_[1], &v, sizeof v) != sizeof v) std::abort();
  }

 private:
  int own() const { return direction_ == to_test ? fds_[0] : fds_[1]; }
  Direction direction_;
  int fds_[2] = {-1, -1};
};

// --- task bodies (run in the workers) ------------------------------------------------------
inline void say(int fd, long v) {
  if (::write(fd, &v, sizeof v) != sizeof v) ::_exit(90);
}
inline long hear(int fd) {
  long v = 0;
  if (::read(fd, &v, sizeof v) != sizeof v) ::_exit(91);
  return v;
}

}  // namespace pool_test
