// pyconc/multiprocessing/process.hpp -- Process, and the module functions about processes.
//
// Python: multiprocessing.Process (start method "fork"), current_process, parent_process,
// active_children, cpu_count.
//
//   mp::Process p(fn, "p1");                              // Process(target=fn, args=("p1",))
//   mp::Process d({.name = "worker", .daemon = true}, fn, 2);
//   p.start(); p.join(); p.join(500ms); p.is_alive(); p.exitcode(); p.pid();
//   p.terminate(); p.kill();
//   struct MyProcess : mp::Process { void run() override { ... } };   // subclass style
//   mp::current_process().name(); mp::cpu_count();
//
// start() forks. The child runs the target (any callable: lambdas with captures, bound
// arguments, std::function ...; arguments are decay-copied, use std::ref to share an object of
// the parent -- the child sees it as it was at fork time) or the overridden run(), then ends
// with _exit(): exit code 0 when it returned, 1 when an exception escaped (printed on stderr as
// "Process NAME:" + "TYPE: MESSAGE", as Python prints its traceback), or the code given to
// mp::exit(code) (Python's sys.exit). The parent's exitcode() is std::nullopt while the child
// runs, then its exit code, or -N when signal N ended it (as Python). The child's stdin is
// /dev/null (as Python), and its static destructors and atexit handlers do not run (the
// parent's objects are the parent's to tear down); stdout/stderr are flushed before fork and
// before the child exits, so no output is lost or printed twice.
//
// Lifetime, as Python's: a started Process keeps running when its Process object is
// destroyed. Children are reaped by join(), is_alive() and exitcode() once they ended, by the
// next start() or active_children() call, and at the latest when the parent exits -- then,
// as in Python, daemon children are terminated (SIGTERM) and every child is joined. So no
// child is left a zombie. A daemon child started from the main thread also gets
// PR_SET_PDEATHSIG(SIGKILL): it dies with the parent even if the parent is killed. (Not from
// other threads: the kernel sends that signal when the forking *thread* ends.) A daemon
// process may not start children (RuntimeError), as in Python.
//
// What the child may use (fork's caveats, Python's too): it has a single thread, the one that
// called start(), which threading::current_thread() reports as its "MainThread"; every other
// thread of the parent is absent (their Thread objects say not alive). So a thread pool of the
// parent has no workers in the child: create new pools there, do not submit to the parent's.
// A threading::Lock held by another parent thread at fork time stays held forever in the
// child. Everything of pyconc::multiprocessing (Lock, Event, Queue, Pipe, Value, Manager...)
// created before start() is shared with the child and works there.
//
// Thread safety: distinct Process objects are independent. On one Process, join(),
// is_alive(), exitcode(), terminate(), kill(), name(), pid() may be called from several
// threads at once; start(), close(), set_name(), set_daemon() and moves must not race.
// join(timeout) sleeps in poll() on a pidfd: it does not poll in a loop.
// Memory ordering: what the parent did before start() is what the child sees (fork copies it).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>
#include "pyconc/detail/chrono.hpp"

#include "pyconc/detail/bind_call.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/unique_function.hpp"

namespace pyconc::detail {
struct ProcessState;  // multiprocessing::Process (asyncio's is AsyncSubprocessState)
struct ProcessAccess;
}  // namespace pyconc::detail

namespace pyconc::multiprocessing {

// A reference to a process: a child started here, the current process, or the parent
// (what current_process(), parent_process() and active_children() return). Copyable.
// join/terminate/kill are for children of the calling process (RuntimeError otherwise);
// join() also waits for the parent (parent_process().join()).
class ProcessRef {
 public:
  std::string name() const;
  void set_name(std::string name);
  // The process id; 0 before start() (Python: None).
  int pid() const noexcept;
  int ident() const noexcept { return pid(); }
  bool daemon() const noexcept;
  // Whether the process runs: a child between start() and its end; the current process
  // always; the parent while it lives.
  bool is_alive() const;
  // std::nullopt while running (or not started); the exit code once ended, -N if signal N
  // ended it. For a child that something else reaped (SIGCHLD ignored, a waitpid(-1)
  // elsewhere) the status is lost: 255.
  std::optional<int> exitcode() const;
  // Waits until the process ends. RuntimeError if not started, or not a child of this process
  // (joining yourself included).
  void join() const;
  // Waits at most `timeout`; returns whether the process has ended (Python returns None:
  // check is_alive()). ValueError for a negative timeout.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) const {
    return join_until(detail::deadline_after(timeout));
  }
  // SIGTERM / SIGKILL. Nothing happens if the process already ended.
  void terminate() const;
  void kill() const;
  // A file descriptor that becomes readable when the process ends (a pidfd; -1 if
  // unavailable); Python's Process.sentinel. Owned by the Process: do not close it.
  int sentinel() const;

  friend bool operator==(const ProcessRef& a, const ProcessRef& b) noexcept {
    return a.state_ == b.state_;
  }

 private:
  friend class Process;
  friend struct detail::ProcessAccess;
  explicit ProcessRef(std::shared_ptr<detail::ProcessState> s) : state_(std::move(s)) {}
  bool join_until(detail::Clock::time_point deadline) const;
  void send_signal(int sig) const;

  std::shared_ptr<detail::ProcessState> state_;
};

// Process(name=..., daemon=...). An empty name means Python's default "Process-N" (N:M... for
// grandchildren); an unset daemon flag is inherited from the current process, as in Python.
struct ProcessOptions {
  std::string name{};
  std::optional<bool> daemon{};
};

class Process {
 public:
  using Options = ProcessOptions;

  // Process(target=f, args=(args...)).
  template <class F, class... Args>
  requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
  explicit Process(F&& target, Args&&... args)
      : Process(Options{}, std::forward<F>(target), std::forward<Args>(args)...) {}

  // Process(target=f, args=(args...), name=..., daemon=...).
  template <class F, class... Args>
  requires std::invocable<std::decay_t<F>, std::decay_t<Args>...> Process(Options options,
                                                                          F&& target,
                                                                          Args&&... args)
      : Process(std::move(options)) {
    set_target(detail::bind_call(std::forward<F>(target), std::forward<Args>(args)...));
  }

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  // Does not wait: a running child keeps running (see "Lifetime" above).
  virtual ~Process();

  // Forks the child. RuntimeError on a second call ("cannot start a process twice"), from a
  // daemon process, from a process that did not create this object, or after close();
  // OSError if fork() fails.
  void start();
  void join() const { ref().join(); }
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) const {
    return ref().join(timeout);
  }
  bool is_alive() const { return ref().is_alive(); }
  std::optional<int> exitcode() const { return ref().exitcode(); }
  int pid() const noexcept { return ref().pid(); }
  int ident() const noexcept { return ref().pid(); }
  std::string name() const { return ref().name(); }
  void set_name(std::string name) { ref().set_name(std::move(name)); }
  bool daemon() const noexcept { return ref().daemon(); }
  // RuntimeError after start().
  void set_daemon(bool daemon);
  void terminate() const { ref().terminate(); }
  void kill() const { ref().kill(); }
  int sentinel() const { return ref().sentinel(); }
  // Releases the process's resources (its pidfd). ValueError while it still runs; afterwards
  // most calls raise ValueError("process object is closed").
  void close();

  // A reference to this process, comparable with active_children()'s.
  ProcessRef ref() const;
  friend bool operator==(const Process& a, const ProcessRef& b) { return a.ref() == b; }

 protected:
  // Subclass style: override run().
  explicit Process(Options options = {});
  // What the child executes: the target if one was given. Override in a subclass.
  virtual void run();

 private:
  friend struct detail::ProcessAccess;
  void set_target(detail::unique_function<void()> target);

  std::shared_ptr<detail::ProcessState> state_;
};

// The calling process: "MainProcess" in the program's first process, the Process object's
// name (and pid, daemon flag) in a child.
ProcessRef current_process();
// The parent of a child started by Process; std::nullopt in the main process.
std::optional<ProcessRef> parent_process();
// The children of this process that are still running (finished ones are reaped on the way).
std::vector<ProcessRef> active_children();
// The CPUs this process may use (affinity mask and cgroup quota; Python's os.cpu_count()
// counts the host's).
int cpu_count() noexcept;

// Python's sys.exit(code) for a Process: ends the child with exit code `code`, unwinding the
// stack first (destructors run). Call it from the thread running the target; do not swallow
// it with catch (...). Outside a Process child it is std::exit(code).
[[noreturn]] void exit(int code = 0);

}  // namespace pyconc::multiprocessing
