// bench/queue_bench.cpp -- pyconc::queue::Queue beside the C++ queues people use instead.
//
// Peers: the textbook std::mutex + std::deque + std::condition_variable queue (what Python's
// queue.Queue is, written in C++), moodycamel::BlockingConcurrentQueue and oneTBB's
// tbb::concurrent_bounded_queue, each used the obvious way (no producer tokens, no tuning).
// All queues are unbounded, like queue.Queue().
//
// Naming and timing as in threading_bench.cpp: `BM_<Workload>/<impl>`; the thread's CPU time
// for put+get on one thread, wall-clock time for the ping-pongs. bench/python/summarize.py
// pairs the implementations and adds CPython's figure.
#include <benchmark/benchmark.h>
#include <concurrentqueue/blockingconcurrentqueue.h>
#include <tbb/concurrent_queue.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "common.hpp"
#include "pyconc/queue.hpp"

namespace {

// --- The implementations behind one put/get interface -----------------------------------------

class PyconcQueue {
 public:
  PyconcQueue() : q_(0) {}
  void put(int v) { q_.put(v); }
  int get() { return q_.get(); }

 private:
  pyconc::queue::Queue<int> q_;
};

class MutexDequeQueue {
 public:
  void put(int v) {
    {
      std::lock_guard g(m_);
      q_.push_back(v);
    }
    cv_.notify_one();
  }
  int get() {
    std::unique_lock g(m_);
    cv_.wait(g, [this] { return !q_.empty(); });
    const int v = q_.front();
    q_.pop_front();
    return v;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<int> q_;
};

class MoodycamelQueue {
 public:
  void put(int v) { q_.enqueue(v); }
  int get() {
    int v = 0;
    q_.wait_dequeue(v);
    return v;
  }

 private:
  moodycamel::BlockingConcurrentQueue<int> q_;
};

class TbbQueue {
 public:
  void put(int v) { q_.push(v); }
  int get() {
    int v = 0;
    q_.pop(v);
    return v;
  }

 private:
  tbb::concurrent_bounded_queue<int> q_;
};

// --- 4. put + get on one thread ---------------------------------------------------------------

template <class Q>
void BM_QueuePutGet(benchmark::State& state) {
  Q q;
  int i = 0;
  for (auto _ : state) {
    q.put(i++);
    benchmark::DoNotOptimize(q.get());
  }
}

BENCHMARK_TEMPLATE(BM_QueuePutGet, PyconcQueue)->Name("BM_Queue_PutGet/pyconc");
BENCHMARK_TEMPLATE(BM_QueuePutGet, MutexDequeQueue)->Name("BM_Queue_PutGet/std_mutex_deque");
BENCHMARK_TEMPLATE(BM_QueuePutGet, MoodycamelQueue)->Name("BM_Queue_PutGet/moodycamel");
BENCHMARK_TEMPLATE(BM_QueuePutGet, TbbQueue)->Name("BM_Queue_PutGet/tbb");

// --- 5. Ping-pong between two threads over two queues ----------------------------------------
// One round trip: A puts into q1; B gets it and puts into q2; A gets from q2.

// Two threads bouncing an int over two queues: round_trip() is A's side, the partner thread B's.
template <class Q>
class QueuePair {
 public:
  QueuePair() : partner_([this] { serve(); }) {}
  QueuePair(const QueuePair&) = delete;
  QueuePair& operator=(const QueuePair&) = delete;
  ~QueuePair() {
    q1_.put(-1);  // the stop sentinel
    partner_.join();
  }

  void round_trip() {
    q1_.put(next_);
    next_ = q2_.get() & 0x3fffffff;  // stays non-negative
  }

 private:
  void serve() {
    for (;;) {
      const int v = q1_.get();
      if (v < 0) return;
      q2_.put(v + 1);
    }
  }

  Q q1_;
  Q q2_;
  int next_ = 0;
  std::thread partner_;  // declared last: it starts once the queues exist
};

// Argument `busy`: how many CPU-bound threads run meanwhile. 0 is the plain ping-pong; 2 puts
// one on each core of these 2-core machines, so the ping-pong threads have to share the cores
// with work that never waits -- there a waiter that spins holds a core its partner needs.
template <class Q>
void BM_QueuePingPong(benchmark::State& state) {
  BusyThreads busy(state.range(0));
  QueuePair<Q> pair;
  for (auto _ : state) pair.round_trip();
}

BENCHMARK_TEMPLATE(BM_QueuePingPong, PyconcQueue)
    ->Name("BM_Queue_PingPong/pyconc")
    ->ArgName("busy")
    ->Arg(0)
    ->Arg(2)
    ->UseRealTime();
BENCHMARK_TEMPLATE(BM_QueuePingPong, MutexDequeQueue)
    ->Name("BM_Queue_PingPong/std_mutex_deque")
    ->ArgName("busy")
    ->Arg(0)
    ->Arg(2)
    ->UseRealTime();
BENCHMARK_TEMPLATE(BM_QueuePingPong, MoodycamelQueue)
    ->Name("BM_Queue_PingPong/moodycamel")
    ->ArgName("busy")
    ->Arg(0)
    ->Arg(2)
    ->UseRealTime();
BENCHMARK_TEMPLATE(BM_QueuePingPong, TbbQueue)
    ->Name("BM_Queue_PingPong/tbb")
    ->ArgName("busy")
    ->Arg(0)
    ->Arg(2)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  return run_benchmarks(argc, argv);
}
