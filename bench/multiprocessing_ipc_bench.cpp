// bench/multiprocessing_ipc_bench.cpp -- pyconc::multiprocessing's processes, pipes, queues and
// shared memory beside the bare system mechanisms (the physical limit here) and, through
// bench/python/multiprocessing_ipc.py, CPython's multiprocessing on the same workloads.
// (The process pools are measured by bench/multiprocessing_bench.cpp.)
//
//   Process_StartJoin      mp::Process(f).start() + join(); peer: fork + _exit + waitpid
//   Pipe_RoundTrip         send(int) to a forked echo process and recv() the answer over
//                          mp::Pipe(); peer: 4 bytes each way over two raw pipes
//   MpQueue_Throughput     a forked producer puts ints into mp::Queue(maxsize=10000), this
//                          process gets them: time per item; peer: 8-byte writes/reads on a
//                          raw pipe
//   SharedValue_LockedIncrement  `with v.get_lock(): v.value += 1` here while a forked process
//                          does the same: time per increment of this process; peer: a plain
//                          process-shared pthread mutex (not robust) around an int in shared
//                          memory
//   MpLock_Uncontended     acquire + release of an mp::Lock (robust, process-shared); peers:
//                          threading::Lock (a futex word, this process only) and a plain
//                          process-shared pthread mutex
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <mutex>

#include "common.hpp"
#include "pyconc/multiprocessing.hpp"
#include "pyconc/threading/lock.hpp"

namespace {

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
void BM_Process_StartJoin_pyconc(benchmark::State& state) {
  for (auto _ : state) {
    mp::Process p([] {});
    p.start();
    p.join();
  }
}

void BM_Process_StartJoin_fork(benchmark::State& state) {
  for (auto _ : state) {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    ::waitpid(pid, nullptr, 0);
  }
}

// ---------------------------------------------------------------------------------------------
void BM_Pipe_RoundTrip_pyconc(benchmark::State& state) {
  auto [a, b] = mp::Pipe();
  // The child must close its copy of the parent's end, else it never sees EOF when the
  // parent closes its own (the same rule as in Python).
  mp::Process echo([b, &a]() mutable {
    a.close();
    for (;;) {
      int v = 0;
      try {
        v = b.recv<int>();
      } catch (const pyconc::EOFError&) {
        return;
      }
      b.send(v);
    }
  });
  echo.start();
  b.close();
  int i = 0;
  for (auto _ : state) {
    a.send(i++);
    benchmark::DoNotOptimize(a.recv<int>());
  }
  a.close();
  echo.join();
}

void BM_Pipe_RoundTrip_raw_pipe(benchmark::State& state) {
  int to_child[2], to_parent[2];
  if (::pipe(to_child) != 0 || ::pipe(to_parent) != 0) {
    state.SkipWithError("pipe failed");
    return;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(to_child[1]);
    ::close(to_parent[0]);
    int v = 0;
    while (::read(to_child[0], &v, sizeof v) == sizeof v) {
      if (::write(to_parent[1], &v, sizeof v) != sizeof v) break;
    }
    ::_exit(0);
  }
  ::close(to_child[0]);
  ::close(to_parent[1]);
  int i = 0;
  for (auto _ : state) {
    int v = i++;
    if (::write(to_child[1], &v, sizeof v) != sizeof v ||
        ::read(to_parent[0], &v, sizeof v) != sizeof v) {
      state.SkipWithError("raw pipe round trip failed");
      break;
    }
    benchmark::DoNotOptimize(v);
  }
  ::close(to_child[1]);
  ::close(to_parent[0]);
  ::waitpid(pid, nullptr, 0);
}

// ---------------------------------------------------------------------------------------------
void BM_MpQueue_Throughput_pyconc(benchmark::State& state) {
  mp::Queue<int> q(10000);
  mp::Event stop;
  mp::Process producer([q, stop]() mutable {
    for (int i = 0; !stop.is_set(); ++i) {
      try {
        q.put(i, 100ms);
      } catch (const pyconc::queue::Full&) {
      }
    }
  });
  producer.start();
  for (auto _ : state) benchmark::DoNotOptimize(q.get());
  stop.set();
  while (!producer.join(0ms)) {
    try {
      q.get(1ms);
    } catch (const pyconc::queue::Empty&) {
    }
  }
}

void BM_MpQueue_Throughput_raw_pipe(benchmark::State& state) {
  int fds[2];
  if (::pipe(fds) != 0) {
    state.SkipWithError("pipe failed");
    return;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGPIPE, SIG_IGN);
    ::close(fds[0]);
    for (std::int64_t i = 0;; ++i) {
      if (::write(fds[1], &i, sizeof i) != sizeof i) break;  // EPIPE once the reader is gone
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  for (auto _ : state) {
    std::int64_t v = 0;
    if (::read(fds[0], &v, sizeof v) != sizeof v) {
      state.SkipWithError("raw pipe read failed");
      break;
    }
    benchmark::DoNotOptimize(v);
  }
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
}

// ---------------------------------------------------------------------------------------------
// A process-shared, non-robust pthread mutex and a counter, in an anonymous shared mapping.
struct PlainShared {
  pthread_mutex_t mutex;
  int value;
};

PlainShared* make_plain_shared() {
  void* mem = ::mmap(nullptr, sizeof(PlainShared), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  auto* s = static_cast<PlainShared*>(mem);
  pthread_mutexattr_t attr;
  ::pthread_mutexattr_init(&attr);
  ::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  ::pthread_mutex_init(&s->mutex, &attr);
  ::pthread_mutexattr_destroy(&attr);
  s->value = 0;
  return s;
}

void BM_SharedValue_LockedIncrement_pyconc(benchmark::State& state) {
  mp::Value<int> v(0);
  mp::Event stop;
  mp::Process other([v, stop]() mutable {
    while (!stop.is_set()) {
      std::lock_guard g(v.get_lock());
      v.value() += 1;
    }
  });
  other.start();
  for (auto _ : state) {
    std::lock_guard g(v.get_lock());
    v.value() += 1;
  }
  stop.set();
  other.join();
}

void BM_SharedValue_LockedIncrement_pthread_mutex(benchmark::State& state) {
  PlainShared* s = make_plain_shared();
  mp::Event stop;
  mp::Process other([s, stop]() mutable {
    while (!stop.is_set()) {
      ::pthread_mutex_lock(&s->mutex);
      s->value += 1;
      ::pthread_mutex_unlock(&s->mutex);
    }
  });
  other.start();
  for (auto _ : state) {
    ::pthread_mutex_lock(&s->mutex);
    s->value += 1;
    ::pthread_mutex_unlock(&s->mutex);
  }
  stop.set();
  other.join();
  ::munmap(s, sizeof(PlainShared));
}

// ---------------------------------------------------------------------------------------------
void BM_MpLock_Uncontended_pyconc(benchmark::State& state) {
  mp::Lock lock;
  for (auto _ : state) {
    lock.acquire();
    lock.release();
  }
}

void BM_MpLock_Uncontended_threading_lock(benchmark::State& state) {
  pyconc::threading::Lock lock;
  for (auto _ : state) {
    lock.acquire();
    lock.release();
  }
}

void BM_MpLock_Uncontended_pthread_mutex(benchmark::State& state) {
  PlainShared* s = make_plain_shared();
  for (auto _ : state) {
    ::pthread_mutex_lock(&s->mutex);
    ::pthread_mutex_unlock(&s->mutex);
  }
  ::munmap(s, sizeof(PlainShared));
}

}  // namespace

BENCHMARK(BM_Process_StartJoin_pyconc)
    ->Name("BM_Process_StartJoin/pyconc")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Process_StartJoin_fork)
    ->Name("BM_Process_StartJoin/fork_waitpid")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Pipe_RoundTrip_pyconc)->Name("BM_Pipe_RoundTrip/pyconc")->UseRealTime();
BENCHMARK(BM_Pipe_RoundTrip_raw_pipe)->Name("BM_Pipe_RoundTrip/raw_pipe")->UseRealTime();
BENCHMARK(BM_MpQueue_Throughput_pyconc)->Name("BM_MpQueue_Throughput/pyconc")->UseRealTime();
BENCHMARK(BM_MpQueue_Throughput_raw_pipe)->Name("BM_MpQueue_Throughput/raw_pipe")->UseRealTime();
BENCHMARK(BM_SharedValue_LockedIncrement_pyconc)
    ->Name("BM_SharedValue_LockedIncrement/pyconc")
    ->UseRealTime();
BENCHMARK(BM_SharedValue_LockedIncrement_pthread_mutex)
    ->Name("BM_SharedValue_LockedIncrement/pthread_mutex")
    ->UseRealTime();
BENCHMARK(BM_MpLock_Uncontended_pyconc)->Name("BM_MpLock_Uncontended/pyconc");
BENCHMARK(BM_MpLock_Uncontended_threading_lock)->Name("BM_MpLock_Uncontended/threading_lock");
BENCHMARK(BM_MpLock_Uncontended_pthread_mutex)->Name("BM_MpLock_Uncontended/pthread_mutex");

int main(int argc, char** argv) {
  return run_benchmarks(argc, argv);
}
