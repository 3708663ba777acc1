// File over plain pipes (no child): reads, lines, text mode across chunk boundaries,
// non-blocking descriptors, closed files.
#include "pyconc/subprocess/file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "pyconc/errors.hpp"

namespace sp = pyconc::subprocess;
using pyconc::detail::UniqueFd;

namespace {

struct Pair {
  sp::File reader, writer;
};

Pair make_pair(bool text = false, int flags = O_CLOEXEC) {
  int fds[2];
  EXPECT_EQ(pipe2(fds, flags), 0);
  return {sp::File(UniqueFd(fds[0]), text), sp::File(UniqueFd(fds[1]))};
}

// Writes `chunks` one write() each from another thread (so that reads see the boundaries).
std::thread feed(sp::File& w, std::vector<std::string> chunks) {
  return std::thread([&w, chunks] {
    for (const auto& c : chunks) w.write(c);
    w.close();
  });
}

}  // namespace

TEST(File, ReadMethods) {
  auto [r, w] = make_pair();
  w.write("line one\nline two\nlast");
  w.close();
  EXPECT_EQ(r.readline(), "line one\n");
  EXPECT_EQ(r.read(4), "line");
  EXPECT_EQ(r.read1(3), " tw");
  EXPECT_EQ(r.readlines(), (std::vector<std::string>{"o\n", "last"}));
  EXPECT_EQ(r.read(), "");
  EXPECT_EQ(r.readline(), "");
  EXPECT_EQ(r.read(10), "");
}

TEST(File, ReadNWaitsForNBytesOrEof) {
  auto [r, w] = make_pair();
  std::thread t = feed(w, {"ab", "cd", "ef"});
  EXPECT_EQ(r.read(5), "abcde");
  EXPECT_EQ(r.read(5), "f");
  t.join();
}

TEST(File, IterationOverLines) {
  auto [r, w] = make_pair();
  std::thread t = feed(w, {"a\nb", "b\n", "\nc"});
  std::vector<std::string> lines;
  for (const std::string& line : r) lines.push_back(line);
  t.join();
  EXPECT_EQ(lines, (std::vector<std::string>{"a\n", "bb\n", "\n", "c"}));
}

TEST(File, TextModeTranslatesAcrossChunks) {
  auto [r, w] = make_pair(/*text=*/true);
  std::thread t = feed(w, {"a\r", "\nb\r", "c\r\r", "\n", "end\r"});
  EXPECT_EQ(r.read(), "a\nb\nc\n\nend\n");
  t.join();
}

TEST(File, NonBlockingDescriptorStillBlocksTheCaller) {
  auto [r, w] = make_pair(false, O_CLOEXEC | O_NONBLOCK);
  std::thread t = feed(w, {"x", std::string(1 << 20, 'y')});  // the writer fills the pipe
  const std::string all = r.read();
  t.join();
  EXPECT_EQ(all.size(), 1u + (1u << 20));
}

TEST(File, ClosedFileIsValueError) {
  sp::File f;
  EXPECT_TRUE(f.closed());
  EXPECT_EQ(f.fileno(), -1);
  EXPECT_THROW(f.read(), pyconc::ValueError);
  EXPECT_THROW(f.readline(), pyconc::ValueError);
  EXPECT_THROW(f.write("x"), pyconc::ValueError);
  EXPECT_THROW(f.flush(), pyconc::ValueError);
  auto [r, w] = make_pair();
  w.close();
  w.close();  // idempotent
  EXPECT_THROW(w.write("x"), pyconc::ValueError);
}

TEST(File, WriteAfterReaderClosedIsBrokenPipe) {
  auto [r, w] = make_pair();
  r.close();
  EXPECT_THROW(w.write("nobody reads"), pyconc::BrokenPipeError);
}
