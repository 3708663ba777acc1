// pyconc/multiprocessing/sync_proxies.hpp -- proxies of the synchronization objects and queues a
// Manager holds: QueueProxy<T>, LockProxy, RLockProxy, SemaphoreProxy, BoundedSemaphoreProxy,
// EventProxy, ConditionProxy, BarrierProxy.
//
// Python: SyncManager.Queue(), Lock(), RLock(), Semaphore(), BoundedSemaphore(), Event(),
// Condition(), Barrier() -- the objects live in the manager's server process, which answers
// each connection on its own thread, so a blocking call (q.get(), lk.acquire(), ev.wait(),
// cond.wait(), barrier.wait()) blocks only the calling thread; the other clients go on.
//
//   auto q = mgr.Queue<std::string>(); q.put("job"); q.get(1s);  // queue::Empty after 1 s
//   auto lk = mgr.Lock(); { std::lock_guard g(lk); ... }           // `with lk:`
//   auto ev = mgr.Event(); ev.wait(2s); ev.set();
//   pool.apply_async(worker, std::make_tuple(q, lk, ev));           // proxies are Serializable
//
// Ownership as in Python: a thread of a process owns an RLock (or a Condition's lock) it
// acquired -- each thread has its own connection and server thread. A Lock may be released by
// any thread. The server raises the usual exceptions, rethrown here with their type:
// queue::Empty / queue::Full, BrokenBarrierError, RuntimeError (release of an unheld lock),
// ValueError (a BoundedSemaphore released too often; a negative timeout). If the server dies,
// a call in progress or a new one raises EOFError/BrokenPipeError/ConnectionRefusedError.
// A client killed while it waits is noticed by the server within 100 ms (a waiting server
// thread checks its connection between slices of the wait; an idle one costs nothing): the
// wait is abandoned, and an item or a lock obtained for it in the meantime is given back (the
// item at the tail of the queue). Python's server would take the item and lose it.
// Memory ordering: what a process did before release()/set()/put()/notify() is visible to the
// process whose acquire()/wait()/get() it satisfies (the server orders both calls).
// Thread safety: any thread of any process may use any proxy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "pyconc/detail/chrono.hpp"
#include "pyconc/multiprocessing/detail/manager_client.hpp"
#include "pyconc/multiprocessing/serialize.hpp"

namespace pyconc::detail {

// Lock-like proxies: acquire/release plus C++'s lock/unlock/try_lock.
class ManagerLockBase : public ManagerProxyBase {
 public:
  // Blocks until acquired (blocking=true) or tries once; returns whether acquired.
  bool acquire(bool blocking = true) { return acquire_wait(blocking ? kWaitForever : 0); }
  // Waits at most `timeout`. (Python: acquire(True, timeout).)
  template <class Rep, class Period>
  bool acquire(bool blocking, std::chrono::duration<Rep, Period> timeout) {
    return acquire_wait(blocking ? wait_field(timeout) : 0);
  }
  void release() { call(request(ManagerOp::release).number(1)); }
  void lock() { acquire(); }
  void unlock() { release(); }
  bool try_lock() { return acquire(false); }

 protected:
  using ManagerProxyBase::ManagerProxyBase;
  bool acquire_wait(std::uint64_t wait) {
    return call_number(request(ManagerOp::acquire).number(wait)) != 0;
  }
};

}  // namespace pyconc::detail

namespace pyconc::multiprocessing {

// Python: a Queue proxy (mgr.Queue(maxsize)) -- queue.Queue in the server: put/get with
// block/timeout, task_done/join. Items of type T cross as dumps() bytes.
template <class T>
class QueueProxy : private pyconc::detail::ManagerProxyBase {
  using Op = pyconc::detail::ManagerOp;

 public:
  QueueProxy() = default;
  using ManagerProxyBase::load;
  using ManagerProxyBase::save;

  // Blocks while full (maxsize > 0).
  void put(const T& item) { put_wait(item, pyconc::detail::kWaitForever); }
  // queue::Full after `timeout`.
  template <class Rep, class Period>
  void put(const T& item, std::chrono::duration<Rep, Period> timeout) {
    put_wait(item, pyconc::detail::wait_field(timeout));
  }
  void put_nowait(const T& item) { put_wait(item, 0); }
  // Blocks until an item arrives.
  T get() { return get_wait(pyconc::detail::kWaitForever); }
  // queue::Empty after `timeout`.
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) {
    return get_wait(pyconc::detail::wait_field(timeout));
  }
  T get_nowait() { return get_wait(0); }
  std::size_t qsize() const { return static_cast<std::size_t>(call_number(request(Op::q_qsize))); }
  bool empty() const { return call_number(request(Op::q_empty)) != 0; }
  bool full() const { return call_number(request(Op::q_full)) != 0; }
  // ValueError if called more times than there were items.
  void task_done() { call(request(Op::q_task_done)); }
  // Blocks until every item put has been marked done.
  void join() { call(request(Op::q_join)); }

 private:
  friend class BaseManager;
  using ManagerProxyBase::ManagerProxyBase;
  void put_wait(const T& item, std::uint64_t wait) {
    call(request(Op::q_put).blob(dumps(item)).number(wait));
  }
  T get_wait(std::uint64_t wait) { return call_value<T>(request(Op::q_get).number(wait)); }
};

// Python: a Lock proxy (mgr.Lock()) -- threading.Lock in the server.
class LockProxy : public pyconc::detail::ManagerLockBase {
 public:
  LockProxy() = default;
  bool locked() const { return call_number(request(pyconc::detail::ManagerOp::locked)) != 0; }

 private:
  friend class BaseManager;
  using ManagerLockBase::ManagerLockBase;
};

// Python: an RLock proxy (mgr.RLock()) -- threading.RLock in the server, owned by the thread
// (of the process) that acquired it. release() by another thread: RuntimeError.
class RLockProxy : public pyconc::detail::ManagerLockBase {
 public:
  RLockProxy() = default;

 private:
  friend class BaseManager;
  using ManagerLockBase::ManagerLockBase;
};

// Python: a Semaphore proxy (mgr.Semaphore(value)).
class SemaphoreProxy : public pyconc::detail::ManagerLockBase {
 public:
  SemaphoreProxy() = default;
  // release(n): wakes up to n waiters.
  void release(int n = 1) {
    if (n < 1) throw ValueError("n must be one or more");
    call(request(pyconc::detail::ManagerOp::release).number(static_cast<std::uint64_t>(n)));
  }
  void unlock() { release(); }
  // The current counter (Python: sem._value).
  int get_value() const {
    return static_cast<int>(call_number(request(pyconc::detail::ManagerOp::sem_value)));
  }

 private:
  friend class BaseManager;
  using ManagerLockBase::ManagerLockBase;
};

// Python: a BoundedSemaphore proxy (mgr.BoundedSemaphore(value)): release() above the initial
// value raises ValueError.
class BoundedSemaphoreProxy : public SemaphoreProxy {
 public:
  BoundedSemaphoreProxy() = default;

 private:
  friend class BaseManager;
  using SemaphoreProxy::SemaphoreProxy;
};

// Python: an Event proxy (mgr.Event()).
class EventProxy : private pyconc::detail::ManagerProxyBase {
  using Op = pyconc::detail::ManagerOp;

 public:
  EventProxy() = default;
  using ManagerProxyBase::load;
  using ManagerProxyBase::save;

  void set() { call(request(Op::e_set)); }
  void clear() { call(request(Op::e_clear)); }
  bool is_set() const { return call_number(request(Op::e_is_set)) != 0; }
  // Blocks until set; returns true.
  bool wait() { return call_number(request(Op::e_wait).number(pyconc::detail::kWaitForever)) != 0; }
  // Whether the flag is set, waiting at most `timeout`.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return call_number(request(Op::e_wait).number(pyconc::detail::wait_field(timeout))) != 0;
  }

 private:
  friend class BaseManager;
  using ManagerProxyBase::ManagerProxyBase;
};

// Python: a Condition proxy (mgr.Condition()) -- threading.Condition over an RLock in the
// server. wait/notify need the lock held by the calling thread (RuntimeError otherwise).
class ConditionProxy : public pyconc::detail::ManagerLockBase {
  using Op = pyconc::detail::ManagerOp;

 public:
  ConditionProxy() = default;

  // Releases the lock, waits for a notify, re-acquires. Returns false on timeout.
  void wait() { call(request(Op::c_wait).number(pyconc::detail::kWaitForever)); }
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return call_number(request(Op::c_wait).number(pyconc::detail::wait_field(timeout))) != 0;
  }
  // Python: wait_for(predicate, timeout): evaluated here, between waits, with the lock held.
  template <class Predicate, class Rep, class Period>
  bool wait_for(Predicate predicate, std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = pyconc::detail::deadline_after(timeout);
    while (!predicate()) {
      const auto left = pyconc::detail::remaining(deadline);
      if (left <= pyconc::detail::Clock::duration::zero()) return predicate();
      wait(left);
    }
    return true;
  }
  template <class Predicate>
  bool wait_for(Predicate predicate) {
    while (!predicate()) wait();
    return true;
  }
  void notify(int n = 1) { call(request(Op::c_notify).number(static_cast<std::uint64_t>(n))); }
  void notify_all() { call(request(Op::c_notify).number(0x7fffffff)); }

 private:
  friend class BaseManager;
  using ManagerLockBase::ManagerLockBase;
};

// Python: a Barrier proxy (mgr.Barrier(parties)). wait() returns the arrival index
// (0..parties-1); BrokenBarrierError when the barrier is aborted, reset or a wait times out.
class BarrierProxy : private pyconc::detail::ManagerProxyBase {
  using Op = pyconc::detail::ManagerOp;

 public:
  BarrierProxy() = default;
  using ManagerProxyBase::load;
  using ManagerProxyBase::save;

  int wait() {
    return static_cast<int>(call_number(request(Op::b_wait).number(pyconc::detail::kWaitForever)));
  }
  template <class Rep, class Period>
  int wait(std::chrono::duration<Rep, Period> timeout) {
    return static_cast<int>(
        call_number(request(Op::b_wait).number(pyconc::detail::wait_field(timeout))));
  }
  void abort() { call(request(Op::b_abort)); }
  void reset() { call(request(Op::b_reset)); }
  int parties() const { return static_cast<int>(call_number(request(Op::b_parties))); }
  int n_waiting() const { return static_cast<int>(call_number(request(Op::b_n_waiting))); }
  bool broken() const { return call_number(request(Op::b_broken)) != 0; }

 private:
  friend class BaseManager;
  using ManagerProxyBase::ManagerProxyBase;
};

}  // namespace pyconc::multiprocessing
