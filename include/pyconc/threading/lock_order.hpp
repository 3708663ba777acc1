// pyconc/threading/lock_order.hpp -- debug mode's lock-order inversion (potential deadlock)
// detection for threading.Lock, threading.RLock and asyncio.Lock.
//
//   PYCONC_DEBUG=1 ./app                       // on for the whole run (read once, at the first lock)
//   th::set_deadlock_detection(true);          // or from the program (tests)
//   th::set_deadlock_handler(th::raise_potential_deadlock);   // throw instead of printing
//
// While it is on, every blocking acquire of a Lock / RLock by a thread (of an asyncio Lock by a
// task) records, for each lock the thread (task) already holds, the edge "held -> acquired" in
// one process-wide graph. An acquire whose edge would close a cycle is a lock-order inversion:
// two (or more) threads taking the same locks in different orders can deadlock, even if this
// run's timing happened not to. It is reported *before* the acquire waits, naming every lock of
// the cycle (kind, address, where it was created) and the thread or task that established each
// edge. Non-blocking acquires (acquire(false), try_lock, std::lock's back-off) record what is
// held but add no edge: they cannot wait. RLock re-entry adds nothing. A destroyed lock's node
// and edges are removed, so a new lock at the same address starts clean. Each inversion is
// reported once (per pair of locks) unless the handler threw, in which case the acquire did
// not happen and the next attempt is reported again.
// Not covered: multiprocessing's process-shared locks (their other holders live in other
// processes, whose orders one process's graph cannot see); library-internal locks (queue,
// pool, barrier), which are leaves and never wait while holding a user's lock.
//
// Cost: off, one predictable branch per acquire/release; on, a global mutex per acquire and
// release of a tracked lock (debug mode, not for production throughput).
// Thread safety: every function here may be called from any thread. Switch detection on before
// the threads whose locks it should watch start: turning it off forgets the whole graph.
#pragma once

#include <string>
#include <vector>

#include "pyconc/detail/function.hpp"

namespace pyconc::threading {

// A lock-order cycle found by the detector.
struct PotentialDeadlock {
  // "potential deadlock: ..." -- the whole report, several lines.
  std::string message;
  // The cycle, starting with the lock being acquired: locks[i] was held while locks[i+1] was
  // acquired (and the last one while locks[0] was), each described as
  // "Lock 0x... (created at file.cpp:12)".
  std::vector<std::string> locks;
  // holders[i]: who established the edge locks[i] -> locks[(i+1) % n], e.g. "thread 'Thread-1'"
  // or "task 'Task-3'"; the last edge is the one being attempted now.
  std::vector<std::string> holders;
};

using DeadlockHandler = std::function<void(const PotentialDeadlock&)>;

// Turns the lock-order checking on or off (default: on when the environment has PYCONC_DEBUG
// set to something other than "" or "0"). Turning it off clears the graph.
void set_deadlock_detection(bool on);
// Whether it is on.
bool deadlock_detection();

// Replaces the function called with each report (an empty one restores the default, which
// prints the message to stderr). Returns the previous handler. The handler runs in the
// acquiring thread (task), before it waits and with no lock of the detector held; if it
// throws, the acquire throws that exception and does not take the lock.
DeadlockHandler set_deadlock_handler(DeadlockHandler handler);
// The default handler: prints report.message to stderr.
void print_potential_deadlock(const PotentialDeadlock& report);
// A handler that throws pyconc::RuntimeError(report.message) (for tests, or to fail fast).
[[noreturn]] void raise_potential_deadlock(const PotentialDeadlock& report);

}  // namespace pyconc::threading
