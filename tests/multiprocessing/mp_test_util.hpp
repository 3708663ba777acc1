// Helpers shared by the multiprocessing tests.
//
// MpTest checks, after every test, what multi-process code leaks most easily: file
// descriptors, zombie children, and (for fixtures that set check_shm_) shared memory blocks in
// /dev/shm. ctest runs each test in its own process, so fds and zombies are checked per test;
// /dev/shm is shared by every test running in parallel, so only the shared memory tests look
// at it, and they hold the ctest resource lock `dev_shm` (tests/CMakeLists.txt), which keeps
// them from running beside each other -- no other test creates psm_ blocks.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>

#include "proc.hpp"

namespace mp_test {

using test_support::list_dir;
using test_support::open_fds;
using test_support::zombie_children;

class MpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fds_ = open_fds();
    shm_ = list_dir("/dev/shm");
  }
  void TearDown() override {
    EXPECT_EQ(open_fds(), fds_) << "file descriptors leaked";
    EXPECT_TRUE(zombie_children().empty()) << "zombie children left";
    if (!check_shm_) return;
    std::set<std::string> leaked;
    for (const auto& n : list_dir("/dev/shm")) {
      if (!shm_.count(n) && n.rfind("psm_", 0) == 0) leaked.insert(n);
    }
    EXPECT_TRUE(leaked.empty()) << "shared memory blocks left in /dev/shm: " << *leaked.begin();
  }

  bool check_shm_ = false;

 private:
  std::set<int> fds_;
  std::set<std::string> shm_;
};

// A raw pipe for a child to report text to the test (before Pipe is under test).
class RawPipe {
 public:
  RawPipe() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  }
  ~RawPipe() {
    close_write();
    if (fds_[0] >= 0) ::close(fds_[0]);
  }
  RawPipe(const RawPipe&) = delete;
  RawPipe& operator=(const RawPipe&) = delete;

  int write_fd() const { return fds_[1]; }
  // In the parent: one line (without '\n'), even while writers are still alive.
  std::string read_line() {
    std::string out;
    char c = 0;
    for (;;) {
      const auto n = ::read(fds_[0], &c, 1);
      if (n == 1 && c != '\n') {
        out += c;
      } else if (n == 1 || n == 0 || errno != EINTR) {
        return out;
      }
    }
  }
  // From the child.
  void write(const std::string& s) const {
    std::size_t off = 0;
    while (off < s.size()) {
      const auto n = ::write(fds_[1], s.data() + off, s.size() - off);
      if (n <= 0) return;
      off += static_cast<std::size_t>(n);
    }
  }
  void close_write() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }
  // In the parent, once every writer is done: everything written.
  std::string read_all() {
    close_write();
    std::string out;
    char buf[4096];
    for (;;) {
      const auto n = ::read(fds_[0], buf, sizeof buf);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        break;
      }
    }
    return out;
  }

 private:
  int fds_[2] = {-1, -1};
};

// A raw TCP connection to 127.0.0.1:`port` (for feeding a server garbage), or -1.
inline int raw_connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether the peer closes `fd` within about 10 s (what it sends is read and dropped).
inline bool closed_by_peer(int fd) {
  char buf[512];
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (int i = 0; i < 10; ++i) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EINTR) return true;  // reset: closed as well
  }
  return false;
}

}  // namespace mp_test
