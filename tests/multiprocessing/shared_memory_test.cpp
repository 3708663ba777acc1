#include "pyconc/multiprocessing/shared_memory.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "mp_test_util.hpp"
#include "pyconc/multiprocessing/array.hpp"
#include "pyconc/multiprocessing/process.hpp"
#include "pyconc/multiprocessing/shareable_list.hpp"
#include "pyconc/multiprocessing/shared_memory_manager.hpp"
#include "pyconc/multiprocessing/value.hpp"

namespace mp = pyconc::multiprocessing;
namespace shm = pyconc::multiprocessing::shared_memory;
using mp_test::MpTest;

// The resource tracker is started at the first create and keeps a pipe open for the rest of
// the process: start it before any test counts descriptors.
class TrackerFirst : public ::testing::Environment {
 public:
  void SetUp() override {
    if (std::getenv("PYCONC_TEST_TRACKER_CHILD") != nullptr) return;
    shm::SharedMemory warm({.create = true, .size = 16});
    warm.unlink();
  }
};
[[maybe_unused]] ::testing::Environment* const kTrackerFirst =
    ::testing::AddGlobalTestEnvironment(new TrackerFirst);

class SharedMemoryTest : public MpTest {
 protected:
  SharedMemoryTest() { check_shm_ = true; }
};

TEST_F(SharedMemoryTest, CreateAttachShareAndUnlink) {
  shm::SharedMemory a({.create = true, .size = 100});
  EXPECT_TRUE(std::regex_match(a.name(), std::regex("psm_[0-9a-f]{8}"))) << a.name();
  EXPECT_EQ(a.size(), 100U);
  ASSERT_EQ(a.buf().size(), 100U);
  std::memcpy(a.buf().data(), "hello", 5);

  struct stat st {};
  ASSERT_EQ(::stat(("/dev/shm/" + a.name()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);

  shm::SharedMemory b(a.name());
  EXPECT_EQ(b.size(), 100U);
  EXPECT_EQ(std::memcmp(b.buf().data(), "hello", 5), 0);
  b.buf()[0] = std::byte{'j'};
  EXPECT_EQ(static_cast<char>(a.buf()[0]), 'j');
  b.close();
  EXPECT_TRUE(b.buf().empty());
  b.close();  // idempotent

  a.unlink();
  EXPECT_THROW(shm::SharedMemory c(a.name()), pyconc::FileNotFoundError);
  EXPECT_THROW(a.unlink(), pyconc::FileNotFoundError);
  // The mapping outlives the name.
  EXPECT_EQ(static_cast<char>(a.buf()[1]), 'e');
}

TEST_F(SharedMemoryTest, ShareableListAcrossProcesses) {
  shm::ShareableList a({1, 2.5, "hello", true, nullptr});
  EXPECT_EQ(a.size(), 5U);
  EXPECT_EQ(a.format(), "q d 8s ? x");
  EXPECT_EQ(std::get<std::int64_t>(a[0]), 1);
  EXPECT_EQ(std::get<double>(a[1]), 2.5);
  EXPECT_EQ(std::get<std::string>(a[2]), "hello");
  EXPECT_EQ(std::get<bool>(a[-2]), true);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(a[4]));
  EXPECT_EQ(a.index("hello"), 2U);
  EXPECT_EQ(a.count(1), 1U);
  EXPECT_THROW((void)a[5], pyconc::IndexError);
  EXPECT_THROW((void)a[-6], pyconc::IndexError);
  EXPECT_THROW(a.set(2, "longer than eight"), pyconc::ValueError);  // the slot keeps its size
  EXPECT_THROW((void)a.index("absent"), pyconc::ValueError);

  const std::string name = a.shm().name();
  mp::Process p([name] {
    shm::ShareableList b(name);
    b.set(0, 42);
    b.set(2, "bye");
    b.set(4, 7.25);  // a type change that fits the slot, as Python allows
  });
  p.start();
  p.join(std::chrono::seconds(20));
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(std::get<std::int64_t>(a[0]), 42);
  EXPECT_EQ(std::get<std::string>(a[2]), "bye");
  EXPECT_EQ(std::get<double>(a[4]), 7.25);
  EXPECT_EQ(a.format(), "q d 8s ? d");

  shm::SharedMemory plain({.create = true, .size = 64});
  EXPECT_THROW(shm::ShareableList not_a_list(plain.name()), pyconc::ValueError);
  plain.unlink();
  a.shm().unlink();
}

TEST_F(SharedMemoryTest, SharedMemoryManagerUnlinksEverythingAtShutdown) {
  std::vector<std::string> names;
  {
    mp::managers::SharedMemoryManager smm;
    auto sl = smm.ShareableList({1, 2, 3});
    auto block = smm.SharedMemory(128);
    auto gone = smm.SharedMemory(64);
    gone.unlink();  // unlinked by hand: skipped at shutdown
    names = smm.names();
    EXPECT_EQ(names.size(), 3U);
    // A child attaches by name while the manager lives.
    const std::string list_name = sl.shm().name();
    mp::Process p([list_name] { shm::ShareableList(list_name).set(1, 20); });
    p.start();
    p.join(std::chrono::seconds(20));
    EXPECT_EQ(std::get<std::int64_t>(sl[1]), 20);
    EXPECT_THROW(smm.SharedMemory(0), pyconc::ValueError);
  }  // shutdown
  for (const auto& n : names) {
    EXPECT_FALSE(std::filesystem::exists("/dev/shm/" + n)) << n;
  }
  mp::managers::SharedMemoryManager closed;
  closed.shutdown();
  EXPECT_THROW(closed.SharedMemory(16), pyconc::ValueError);
}

TEST_F(SharedMemoryTest, AChildAttachesByNameAndWrites) {
  shm::SharedMemory a({.create = true, .size = 16});
  const std::string name = a.name();
  mp::Process p([name] {
    shm::SharedMemory b(name);
    std::memcpy(b.buf().data(), "from child", 10);
  });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(a.buf().data()), 10), "from child");
  a.unlink();
}

TEST_F(SharedMemoryTest, ExplicitNamesAndErrors) {
  EXPECT_THROW(shm::SharedMemory({.create = true, .size = 0}), pyconc::ValueError);
  EXPECT_THROW(shm::SharedMemory({}), pyconc::ValueError);
  EXPECT_THROW(shm::SharedMemory("psm_doesnotexist_pyconc"), pyconc::FileNotFoundError);
  EXPECT_THROW(shm::SharedMemory({.name = "a/b", .create = true, .size = 1}), pyconc::ValueError);
  const std::string name = "psm_pyconc_test_" + std::to_string(::getpid());
  shm::SharedMemory a({.name = "/" + name, .create = true, .size = 10});
  EXPECT_EQ(a.name(), name);
  EXPECT_THROW(shm::SharedMemory({.name = name, .create = true, .size = 10}),
               pyconc::FileExistsError);
  shm::SharedMemory moved = std::move(a);
  EXPECT_EQ(moved.name(), name);
  moved.unlink();
}

TEST_F(SharedMemoryTest, ValueAndArrayAreSharedWithChildren) {
  mp::Value<int> v(0);
  mp::Value<double> d(3.14);
  mp::Array<int> a{1, 2, 3, 4};
  mp::Array<double> z(3);
  EXPECT_EQ(a.size(), 4U);
  EXPECT_EQ(z.to_vector(), (std::vector<double>{0, 0, 0}));
  mp::Process p([=] {
    v.value() = 42;
    d.value() *= 2;
    for (int& x : a) x *= 10;
    z[2] = 1.5;
  });
  p.start();
  p.join();
  EXPECT_EQ(v.value(), 42);
  EXPECT_DOUBLE_EQ(d.value(), 6.28);
  EXPECT_EQ(a.to_vector(), (std::vector<int>{10, 20, 30, 40}));
  EXPECT_DOUBLE_EQ(z[2], 1.5);
  EXPECT_THROW(a.at(4), pyconc::IndexError);
  a[0] = 5;
  EXPECT_EQ(a.get_obj()[0], 5);
  mp::Array<long> from_vector(std::vector<long>{7, 8});
  EXPECT_EQ(from_vector[1], 8);
}

TEST_F(SharedMemoryTest, LockOptionAndRawTypes) {
  mp::Value<int> locked(1);
  {
    std::lock_guard g(locked.get_lock());
    locked.value() += 1;
  }
  {
    std::lock_guard g(locked);
    locked.value() += 1;
  }  // `with v:`
  EXPECT_EQ(locked.value(), 3);
  mp::Value<int> bare(0, {.lock = false});
  EXPECT_THROW(bare.get_lock(), pyconc::RuntimeError);
  mp::Array<int> bare_array(4, {.lock = false});
  EXPECT_THROW(bare_array.get_lock(), pyconc::RuntimeError);
  mp::RawValue<int> raw(9);
  mp::RawArray<char> chars{'a', 'b'};
  mp::Process p([=] {
    raw.value() = 10;
    chars[1] = 'c';
  });
  p.start();
  p.join();
  EXPECT_EQ(raw.value(), 10);
  EXPECT_EQ(chars[1], 'c');
}

// The seed's lesson: 8 processes x 10k increments lose updates without the lock and never with it.
TEST_F(SharedMemoryTest, IncrementsUnderTheLockAreNeverLost) {
  constexpr int kProcs = 8;
  constexpr int kIters = 10000;
  mp::Value<int> locked(0);
  mp::Value<int> racy(0, {.lock = false});
  std::vector<mp::Process> ps;
  for (int i = 0; i < kProcs; ++i) {
    ps.emplace_back([=]() mutable {
      for (int k = 0; k < kIters; ++k) {
        {
          std::lock_guard g(locked.get_lock());
          locked.value() += 1;
        }
        // A load and a store, not one atomic add: updates get lost as in Python's
        // `v.value += 1`, without a C++ data race.
        std::atomic_ref<int> r(racy.value());
        r.store(r.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& p : ps) p.start();
  for (auto& p : ps) p.join();
  for (auto& p : ps) EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(locked.value(), kProcs * kIters);
  EXPECT_GT(racy.value(), 0);
  EXPECT_LE(racy.value(), kProcs * kIters);
}

namespace {

// Run in a process of its own (see the next test): creates a block, reports its name on the
// fd given in PYCONC_TEST_TRACKER_CHILD, and dies by SIGKILL without unlinking it.
TEST(ResourceTracker, ChildThatDiesHoldingABlock) {
  const char* fd_text = std::getenv("PYCONC_TEST_TRACKER_CHILD");
  if (fd_text == nullptr)
    GTEST_SKIP() << "only run by ResourceTracker.BlocksOfAKilledProcessAreUnlinked";
  shm::SharedMemory block({.create = true, .size = 4096});
  const std::string name = block.name() + "\n";
  if (::write(std::atoi(fd_text), name.data(), name.size()) < 0) std::abort();
  ::raise(SIGKILL);
}

TEST(ResourceTracker, BlocksOfAKilledProcessAreUnlinked) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(p[0]);
    ::setenv("PYCONC_TEST_TRACKER_CHILD", std::to_string(p[1]).c_str(), 1);
    const char* args[] = {"self", "--gtest_filter=ResourceTracker.ChildThatDiesHoldingABlock",
                          nullptr};
    ::execv("/proc/self/exe", const_cast<char* const*>(args));
    ::_exit(127);
  }
  ::close(p[1]);
  std::string name;
  char c;
  while (::read(p[0], &c, 1) == 1 && c != '\n') name += c;
  ::close(p[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  ASSERT_FALSE(name.empty());
  // The child's tracker sees its pipe close and unlinks the block: wait for that deletion
  // with inotify (watch first, then look, so the event cannot be missed), at most 20 s.
  const auto path = std::filesystem::path("/dev/shm") / name;
  const int in = ::inotify_init1(IN_CLOEXEC);
  ASSERT_GE(in, 0);
  ASSERT_GE(::inotify_add_watch(in, "/dev/shm", IN_DELETE), 0);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::filesystem::exists(path) && std::chrono::steady_clock::now() < until) {
    pollfd p{in, POLLIN, 0};
    if (::poll(&p, 1, 1000) > 0) {
      char events[4096];
      [[maybe_unused]] const ssize_t n = ::read(in, events, sizeof events);
    }
  }
  ::close(in);
  EXPECT_FALSE(std::filesystem::exists(path)) << path << " was left behind";
  if (std::filesystem::exists(path)) ::shm_unlink(("/" + name).c_str());
}

}  // namespace
