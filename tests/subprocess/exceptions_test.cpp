#include "pyconc/subprocess/exceptions.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "pyconc/errors.hpp"

namespace sp = pyconc::subprocess;
using namespace std::chrono_literals;

TEST(SubprocessExceptions, CalledProcessErrorMessageQuotesLikePython) {
  // Python: str(CalledProcessError(1, ["echo", "it's", "a\nb"]))
  sp::CalledProcessError e(1, {"echo", "it's", "a\nb", "back\\slash"}, "out", "err");
  EXPECT_STREQ(e.what(),
               "Command '['echo', \"it's\", 'a\\nb', 'back\\\\slash']' returned non-zero exit "
               "status 1.");
  EXPECT_EQ(e.returncode(), 1);
  EXPECT_EQ(e.output(), "out");
  EXPECT_EQ(e.stderr_text(), "err");
  EXPECT_STREQ(sp::CalledProcessError(-2, {"x"}).what(),
               "Command '['x']' died with <Signals.SIGINT: 2>.");
  EXPECT_STREQ(sp::CalledProcessError(-99, {"x"}).what(),
               "Command '['x']' died with unknown signal 99.");
}

TEST(SubprocessExceptions, TimeoutExpired) {
  sp::TimeoutExpired e({"sleep", "10"}, 2.5s, "partial");
  EXPECT_STREQ(e.what(), "Command '['sleep', '10']' timed out after 2.5 seconds");
  EXPECT_EQ(e.timeout(), 2.5s);
  EXPECT_EQ(e.output(), "partial");
  EXPECT_EQ(e.stdout_text(), "partial");
  EXPECT_EQ(e.stderr_text(), "");
}

TEST(SubprocessExceptions, Hierarchy) {
  EXPECT_THROW(throw sp::TimeoutExpired({"x"}, 1s), sp::SubprocessError);
  EXPECT_THROW(throw sp::CalledProcessError(1, {"x"}), pyconc::Error);
}

TEST(OSError, MessageAndFields) {
  pyconc::OSError e(ENOENT, "nslookup");
  EXPECT_STREQ(e.what(), "[Errno 2] No such file or directory: 'nslookup'");
  EXPECT_EQ(e.errno_(), ENOENT);
  EXPECT_EQ(e.strerror(), "No such file or directory");
  EXPECT_EQ(e.filename(), "nslookup");
  EXPECT_STREQ(pyconc::OSError(EPIPE).what(), "[Errno 32] Broken pipe");
}

template <class E>
void expect_raised_as(int err) {
  try {
    pyconc::raise_os_error(err, "f");
    FAIL() << "nothing raised";
  } catch (const E& e) {
    EXPECT_EQ(e.errno_(), err);
    EXPECT_EQ(e.filename(), "f");
  }
}

TEST(OSError, RaisedAsPythonsSubclass) {
  expect_raised_as<pyconc::FileNotFoundError>(ENOENT);
  expect_raised_as<pyconc::PermissionError>(EACCES);
  expect_raised_as<pyconc::PermissionError>(EPERM);
  expect_raised_as<pyconc::ProcessLookupError>(ESRCH);
  expect_raised_as<pyconc::ChildProcessError>(ECHILD);
  expect_raised_as<pyconc::BrokenPipeError>(EPIPE);
  expect_raised_as<pyconc::ConnectionError>(EPIPE);
  expect_raised_as<pyconc::ConnectionRefusedError>(ECONNREFUSED);
  expect_raised_as<pyconc::ConnectionResetError>(ECONNRESET);
  expect_raised_as<pyconc::ConnectionAbortedError>(ECONNABORTED);
  expect_raised_as<pyconc::BlockingIOError>(EAGAIN);
  expect_raised_as<pyconc::InterruptedError>(EINTR);
  expect_raised_as<pyconc::FileExistsError>(EEXIST);
  expect_raised_as<pyconc::IsADirectoryError>(EISDIR);
  expect_raised_as<pyconc::NotADirectoryError>(ENOTDIR);
  expect_raised_as<pyconc::OSError>(EIO);
  EXPECT_THROW(pyconc::raise_os_error(EIO), pyconc::Error);
}
