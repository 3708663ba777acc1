// bench/subprocess_bench.cpp -- subprocess.run beside the raw system calls it is made of.
//
// Names follow bench/threading_bench.cpp: BM_<Workload>/<impl>, paired by
// bench/python/summarize.py; bench/python/subprocess_run.py measures CPython's
// subprocess.run on the same workloads. Wall-clock time per run (the child is another process).
//
//   Run_True      run({"true"}): start the program (PATH lookup), wait for it, reap it
//                 peer: posix_spawnp + waitpid, nothing else (the physical limit)
//   Run_Cat1MiB   run({"cat"}, input = 1 MiB, capture_output): the bytes go through the child
//                 and back; peer: posix_spawnp with two pipes, a poll() loop, waitpid
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common.hpp"
#include "pyconc/subprocess.hpp"

extern char** environ;  // NOLINT: POSIX declares it nowhere

namespace {

namespace sp = pyconc::subprocess;

const std::string kMiB(1 << 20, 'x');

void BM_Run_True_pyconc(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(sp::run({"true"}).returncode);
  }
}

void BM_Run_True_posix_spawn(benchmark::State& state) {
  char* argv[] = {const_cast<char*>("true"), nullptr};
  for (auto _ : state) {
    pid_t pid;
    if (posix_spawnp(&pid, "true", nullptr, nullptr, argv, environ) != 0) {
      state.SkipWithError("posix_spawnp failed");
      return;
    }
    int status;
    waitpid(pid, &status, 0);
    benchmark::DoNotOptimize(status);
  }
}

void BM_Run_Cat1MiB_pyconc(benchmark::State& state) {
  for (auto _ : state) {
    auto r = sp::run({"cat"}, {.input = kMiB, .capture_output = true});
    if (r.stdout_text.size() != kMiB.size()) state.SkipWithError("short output");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * (1 << 20));
}

// The same exchange written directly: two pipes, non-blocking parent ends, one poll() loop.
void BM_Run_Cat1MiB_posix_spawn(benchmark::State& state) {
  char* argv[] = {const_cast<char*>("cat"), nullptr};
  std::vector<char> buf(64 * 1024);
  for (auto _ : state) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
      state.SkipWithError("pipe2 failed");
      return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    pid_t pid;
    const int err = posix_spawnp(&pid, "cat", &fa, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (err != 0) {
      state.SkipWithError("posix_spawnp failed");
      return;
    }
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    std::string result;
    std::size_t written = 0;
    int wfd = in[1];
    int rfd = out[0];
    while (rfd >= 0) {
      pollfd fds[2];
      nfds_t n = 0;
      if (wfd >= 0) fds[n++] = pollfd{wfd, POLLOUT, 0};
      fds[n++] = pollfd{rfd, POLLIN, 0};
      poll(fds, n, -1);
      if (wfd >= 0 && fds[0].revents != 0) {
        const ssize_t w = write(wfd, kMiB.data() + written, kMiB.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (written == kMiB.size()) {
          close(wfd);
          wfd = -1;
        }
      }
      const ssize_t r = read(rfd, buf.data(), buf.size());
      if (r > 0) {
        result.append(buf.data(), static_cast<std::size_t>(r));
      } else if (r == 0) {
        close(rfd);
        rfd = -1;
      }
    }
    int status;
    waitpid(pid, &status, 0);
    if (result.size() != kMiB.size()) state.SkipWithError("short output");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * (1 << 20));
}

}  // namespace

BENCHMARK(BM_Run_True_pyconc)
    ->Name("BM_Run_True/pyconc")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Run_True_posix_spawn)
    ->Name("BM_Run_True/posix_spawn")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Run_Cat1MiB_pyconc)
    ->Name("BM_Run_Cat1MiB/pyconc")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Run_Cat1MiB_posix_spawn)
    ->Name("BM_Run_Cat1MiB/posix_spawn")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  return run_benchmarks(argc, argv);
}
