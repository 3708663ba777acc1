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
//   ManagerProxy_RoundTrip v.get() on a Manager's Value proxy: one request to the manager's
//                          server process and its answer; peer: 8 bytes each way over an
//                          AF_UNIX socketpair to a forked echo process
//   ListenerClient_RoundTrip  send(i) / recv() on a Client connection (TCP loopback, authkey
//                          challenge done once) to a forked process that accept()ed it and
//                          echoes; peer: 4 bytes each way over a raw TCP loopback connection
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
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

// ---------------------------------------------------------------------------------------------
void BM_ManagerProxy_RoundTrip_pyconc(benchmark::State& state) {
  mp::Manager mgr;
  auto v = mgr.Value<int>(7);
  for (auto _ : state) benchmark::DoNotOptimize(v.get());
}

// Echoes 8-byte (or `size`-byte) messages on `fd` until the peer closes it.
[[noreturn]] void echo_forever(int fd, std::size_t size) {
  char buf[8];
  while (::read(fd, buf, size) == static_cast<ssize_t>(size)) {
    if (::write(fd, buf, size) != static_cast<ssize_t>(size)) break;
  }
  ::_exit(0);
}

void socket_round_trips(benchmark::State& state, int fd, std::size_t size) {
  char buf[8] = {};
  for (auto _ : state) {
    if (::write(fd, buf, size) != static_cast<ssize_t>(size) ||
        ::read(fd, buf, size) != static_cast<ssize_t>(size)) {
      state.SkipWithError("raw round trip failed");
      break;
    }
    benchmark::DoNotOptimize(buf);
  }
}

void BM_ManagerProxy_RoundTrip_raw_socket(benchmark::State& state) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
    state.SkipWithError("socketpair failed");
    return;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(sv[0]);
    echo_forever(sv[1], 8);
  }
  ::close(sv[1]);
  socket_round_trips(state, sv[0], 8);
  ::close(sv[0]);
  ::waitpid(pid, nullptr, 0);
}

// ---------------------------------------------------------------------------------------------
void BM_ListenerClient_RoundTrip_pyconc(benchmark::State& state) {
  namespace conn = mp::connection;
  conn::Listener l({"127.0.0.1", 0}, {.authkey = "bench"});
  mp::Process echo([address = l.address()] {
    auto c = conn::Client(address, {.authkey = "bench"});
    for (;;) {
      try {
        c.send(c.recv<int>());
      } catch (const pyconc::EOFError&) {
        return;
      }
    }
  });
  echo.start();
  auto c = l.accept();
  int i = 0;
  for (auto _ : state) {
    c.send(i++);
    benchmark::DoNotOptimize(c.recv<int>());
  }
  c.close();
  echo.join();
}

void BM_ListenerClient_RoundTrip_raw_tcp(benchmark::State& state) {
  const int l = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (l < 0 || ::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 1) != 0 ||
      ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    state.SkipWithError("listen failed");
    return;
  }
  const int one = 1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int c = ::socket(AF_INET, SOCK_STREAM, 0);
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ::_exit(1);
    echo_forever(c, 4);
  }
  const int c = ::accept(l, nullptr, nullptr);
  ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  socket_round_trips(state, c, 4);
  ::close(c);
  ::close(l);
  ::waitpid(pid, nullptr, 0);
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

BENCHMARK(BM_ManagerProxy_RoundTrip_pyconc)
    ->Name("BM_ManagerProxy_RoundTrip/pyconc")
    ->UseRealTime();
BENCHMARK(BM_ManagerProxy_RoundTrip_raw_socket)
    ->Name("BM_ManagerProxy_RoundTrip/raw_socket")
    ->UseRealTime();
BENCHMARK(BM_ListenerClient_RoundTrip_pyconc)
    ->Name("BM_ListenerClient_RoundTrip/pyconc")
    ->UseRealTime();
BENCHMARK(BM_ListenerClient_RoundTrip_raw_tcp)
    ->Name("BM_ListenerClient_RoundTrip/raw_tcp")
    ->UseRealTime();

int main(int argc, char** argv) {
  return run_benchmarks(argc, argv);
}
