// bench/threading_bench.cpp -- pyconc::threading beside the C++ standard library.
//
// Each workload is registered once per implementation under the name
// `BM_<Workload>/<impl>`, impl being `pyconc` or the peer (`std_mutex`, `std_condvar`, ...).
// bench/python/summarize.py pairs them by that name, and bench/python/threading_queue.py
// measures the same workloads in CPython; bench/run.sh runs all three.
//
// Timing. Single-thread workloads report the thread's CPU time per operation: it involves no
// waiting, and CPU time is immune to the thread being descheduled by other processes on these
// shared 2-core machines. Workloads with more than one thread report wall-clock time
// (UseRealTime, which puts "/real_time" in the name), since waiting for the other thread is
// what they measure; Google Benchmark counts the iterations of all threads, so for the
// contended workloads the figure is the time per operation of the whole group (the inverse of
// its throughput).
#include <benchmark/benchmark.h>
// For moodycamel::LightweightSemaphore: lightweightsemaphore.h does not compile on its own.
#include <concurrentqueue/blockingconcurrentqueue.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

#include "common.hpp"
#include "pyconc/threading.hpp"

namespace {

namespace th = pyconc::threading;

// --- Uniform take/give over the primitives, each in its own spelling -------------------------

struct Ops {
  static void take(th::Lock& l) { l.acquire(); }
  static void give(th::Lock& l) { l.release(); }
  static void take(th::RLock& l) { l.acquire(); }
  static void give(th::RLock& l) { l.release(); }
  static void take(th::Semaphore& s) { s.acquire(); }
  static void give(th::Semaphore& s) { s.release(); }
  static void take(std::mutex& m) { m.lock(); }
  static void give(std::mutex& m) { m.unlock(); }
  static void take(std::recursive_mutex& m) { m.lock(); }
  static void give(std::recursive_mutex& m) { m.unlock(); }
  static void take(std::counting_semaphore<>& s) { s.acquire(); }
  static void give(std::counting_semaphore<>& s) { s.release(); }
  static void take(moodycamel::LightweightSemaphore& s) { s.wait(); }
  static void give(moodycamel::LightweightSemaphore& s) { s.signal(); }
};

// A primitive in its initial "free" state: locks default-construct, semaphores start at 1.
template <class L>
struct Fresh {
  L obj;
};
template <>
struct Fresh<th::Semaphore> {
  th::Semaphore obj{1};
};
template <>
struct Fresh<std::counting_semaphore<>> {
  std::counting_semaphore<> obj{1};
};
template <>
struct Fresh<moodycamel::LightweightSemaphore> {
  moodycamel::LightweightSemaphore obj{1};
};

// --- 1. and 6. Uncontended acquire + release -------------------------------------------------

template <class L>
void BM_Uncontended(benchmark::State& state) {
  Fresh<L> p;
  for (auto _ : state) {
    Ops::take(p.obj);
    benchmark::ClobberMemory();
    Ops::give(p.obj);
  }
}

BENCHMARK_TEMPLATE(BM_Uncontended, th::Lock)->Name("BM_Lock_Uncontended/pyconc");
BENCHMARK_TEMPLATE(BM_Uncontended, std::mutex)->Name("BM_Lock_Uncontended/std_mutex");
BENCHMARK_TEMPLATE(BM_Uncontended, th::RLock)->Name("BM_RLock_Uncontended/pyconc");
BENCHMARK_TEMPLATE(BM_Uncontended, std::recursive_mutex)
    ->Name("BM_RLock_Uncontended/std_recursive_mutex");
BENCHMARK_TEMPLATE(BM_Uncontended, th::Semaphore)->Name("BM_Semaphore_Uncontended/pyconc");
BENCHMARK_TEMPLATE(BM_Uncontended, std::counting_semaphore<>)
    ->Name("BM_Semaphore_Uncontended/std_counting_semaphore");
BENCHMARK_TEMPLATE(BM_Uncontended, moodycamel::LightweightSemaphore)
    ->Name("BM_Semaphore_Uncontended/moodycamel_semaphore");

// --- 2. Contended: N threads increment one counter under one lock ----------------------------

template <class L>
void BM_Contended(benchmark::State& state) {
  // Shared by every thread of the run (one instance per lock type).
  static Fresh<L> p;
  static std::uint64_t counter = 0;
  for (auto _ : state) {
    Ops::take(p.obj);
    ++counter;
    benchmark::ClobberMemory();
    Ops::give(p.obj);
  }
}

BENCHMARK_TEMPLATE(BM_Contended, th::Lock)
    ->Name("BM_Lock_Contended/pyconc")
    ->Threads(2)
    ->Threads(4)
    ->UseRealTime();
BENCHMARK_TEMPLATE(BM_Contended, std::mutex)
    ->Name("BM_Lock_Contended/std_mutex")
    ->Threads(2)
    ->Threads(4)
    ->UseRealTime();

// --- 3. Event ping-pong between two threads --------------------------------------------------
// One round trip: A sets e1; B waits e1, clears it, sets e2; A waits e2 and clears it.

// The obvious C++ peer: a flag under a std::mutex with a std::condition_variable.
class CondvarEvent {
 public:
  void set() {
    {
      std::lock_guard g(m_);
      flag_ = true;
    }
    cv_.notify_all();
  }
  void clear() {
    std::lock_guard g(m_);
    flag_ = false;
  }
  void wait() {
    std::unique_lock g(m_);
    cv_.wait(g, [this] { return flag_; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool flag_ = false;
};

// The C++20 peer closest to the hardware: std::atomic wait/notify (a futex in libstdc++).
class AtomicEvent {
 public:
  void set() {
    flag_.store(1, std::memory_order_release);
    flag_.notify_all();
  }
  void clear() { flag_.store(0, std::memory_order_relaxed); }
  void wait() {
    while (flag_.load(std::memory_order_acquire) == 0) flag_.wait(0, std::memory_order_acquire);
  }

 private:
  std::atomic<std::uint32_t> flag_{0};
};

// Two threads bouncing a pair of events: round_trip() is A's side, the partner thread B's.
template <class E>
class EventPair {
 public:
  EventPair() : partner_([this] { serve(); }) {}
  EventPair(const EventPair&) = delete;
  EventPair& operator=(const EventPair&) = delete;
  ~EventPair() {
    stop_.store(true, std::memory_order_release);
    e1_.set();
    partner_.join();
  }

  void round_trip() {
    e1_.set();
    e2_.wait();
    e2_.clear();
  }

 private:
  void serve() {
    for (;;) {
      e1_.wait();
      if (stop_.load(std::memory_order_acquire)) return;
      e1_.clear();
      e2_.set();
    }
  }

  E e1_;
  E e2_;
  std::atomic<bool> stop_{false};
  std::thread partner_;  // declared last: it starts once the events exist
};

// Argument `busy`: how many CPU-bound threads run meanwhile. 0 is the plain ping-pong; 2 puts
// one on each core of these 2-core machines, so the ping-pong threads have to share the cores
// with work that never waits -- there a waiter that spins holds a core its partner needs.
template <class E>
void BM_EventPingPong(benchmark::State& state) {
  BusyThreads busy(state.range(0));
  EventPair<E> pair;
  for (auto _ : state) pair.round_trip();
}

BENCHMARK_TEMPLATE(BM_EventPingPong, th::Event)
    ->Name("BM_Event_PingPong/pyconc")
    ->ArgName("busy")
    ->Arg(0)
    ->Arg(2)
    ->UseRealTime();
BENCHMARK_TEMPLATE(BM_EventPingPong, CondvarEvent)
    ->Name("BM_Event_PingPong/std_condvar")
    ->ArgName("busy")
    ->Arg(0)
    ->Arg(2)
    ->UseRealTime();
BENCHMARK_TEMPLATE(BM_EventPingPong, AtomicEvent)
    ->Name("BM_Event_PingPong/std_atomic_wait")
    ->ArgName("busy")
    ->Arg(0)
    ->Arg(2)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  return run_benchmarks(argc, argv);
}
