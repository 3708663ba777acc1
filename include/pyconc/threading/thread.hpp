// pyconc/threading/thread.hpp -- Thread, and the module functions about threads.
//
// Python: threading.Thread, current_thread, main_thread, get_ident, get_native_id,
// active_count, enumerate, excepthook.
//
//   th::Thread t(work, 1);                                // Thread(target=work, args=(1,))
//   th::Thread d({.name = "t2", .daemon = true}, work, 2);
//   t.start(); t.join(); t.join(500ms); t.is_alive();
//   struct MyThread : th::Thread { void run() override { ... } };   // subclass style
//
// Behaviour, as Python's: the target and its arguments are decay-copied into the thread (use
// std::ref to share); start() may be called once (RuntimeError otherwise); join() waits for
// the end, join(timeout) waits at most `timeout` and returns whether the thread has ended
// (Python returns None: check is_alive()). An exception escaping the target (or run()) is
// passed to the excepthook -- by default it prints "Exception in thread NAME:" with the
// exception's type and message to stderr -- and never reaches std::terminate.
// Differences, for C++: a started non-daemon Thread is joined by its destructor (which is why
// start() on a temporary, `th::Thread(f).start();`, is a compile error); a daemon
// thread is detached and not waited for (Python kills daemons at exit; so does the process
// here). A subclass whose run() is still running when the subclass object is destroyed is a
// bug (its members are gone): join it first -- the destructor reports the mistake on stderr.
// A Thread can be moved before start(), not after in subclass style (run() uses `this`).
// ident() and native_id() return 0 before start() (Python: None).
//
// Thread safety: distinct Thread objects are independent. On one Thread object, join(),
// is_alive(), name(), ident(), native_id() may be called from any thread at once; start(),
// set_name(), set_daemon() and moves must not race with other calls on the same object.
// Memory ordering: what the starting thread did before start() is visible to the target; what
// the target did is visible to a thread after its join() returns (or join(timeout) returns
// true, or is_alive() returns false).
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/detail/bind_call.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/function.hpp"
#include "pyconc/detail/unique_function.hpp"

namespace pyconc::detail {
struct ThreadState;
struct ThreadAccess;
}  // namespace pyconc::detail

namespace pyconc::threading {

// A non-owning reference to a thread, started by pyconc or not (Python code holds Thread
// objects by reference; this is what current_thread(), main_thread() and enumerate() return).
// Copyable; valid after the thread ended (is_alive() then returns false).
class ThreadRef {
 public:
  std::string name() const;
  void set_name(std::string name);
  unsigned long ident() const noexcept;
  unsigned long native_id() const;
  bool daemon() const noexcept;
  bool is_alive() const noexcept;
  // Waits for the thread to end. RuntimeError when it is the calling thread, or not started.
  void join() const;
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) const {
    return join_until(detail::deadline_after(timeout));
  }

  friend bool operator==(const ThreadRef& a, const ThreadRef& b) noexcept {
    return a.state_ == b.state_;
  }

 private:
  friend class Thread;
  friend struct detail::ThreadAccess;
  explicit ThreadRef(std::shared_ptr<detail::ThreadState> s) : state_(std::move(s)) {}
  bool join_until(detail::Clock::time_point deadline) const;

  std::shared_ptr<detail::ThreadState> state_;
};

// Thread(name=..., daemon=...). An empty name means Python's default "Thread-N"; an unset
// daemon flag is inherited from the creating thread, as in Python. (Default member
// initializers keep -Wextra quiet for `{.name = "t1"}`.)
struct ThreadOptions {
  std::string name{};
  std::optional<bool> daemon{};
};

class Thread {
 public:
  using Options = ThreadOptions;

  // Thread(target=f, args=(args...)).
  template <class F, class... Args>
  requires std::invocable<std::decay_t<F>, std::decay_t<Args>...>
  explicit Thread(F&& target, Args&&... args)
      : Thread(Options{}, std::forward<F>(target), std::forward<Args>(args)...) {}

  // Thread(target=f, args=(args...), name=..., daemon=...).
  template <class F, class... Args>
  requires std::invocable<std::decay_t<F>, std::decay_t<Args>...> Thread(Options options,
                                                                         F&& target, Args&&... args)
      : Thread(std::move(options)) {
    set_target(detail::bind_call(std::forward<F>(target), std::forward<Args>(args)...));
  }

  Thread(Thread&& other) noexcept;
  Thread& operator=(Thread&& other) noexcept;
  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;

  // Joins a started non-daemon thread.
  virtual ~Thread();

  // Starts the thread. RuntimeError("threads can only be started once") on a second call.
  void start() &;
  // Python's `Thread(target=f).start()` spelled on a temporary would start the thread and,
  // at the end of the statement, destroy the temporary, whose destructor joins it: the caller
  // silently waits for the whole thread (and `Timer(5s, f).start();` blocks 5 s). So it does
  // not compile; the static_assert's message says what to write instead. (A template, so the
  // assertion fires only where a temporary is started; g++ 12 has no `= delete("reason")`.)
  template <class OnATemporary = Thread>
  void start() && {
    static_assert(sizeof(OnATemporary) == 0,
                  "Thread::start() (Timer::start()) on a temporary: the temporary's destructor "
                  "joins the thread "
                  "at the end of the statement, so it would run in the foreground, not beside "
                  "the caller. Keep the thread in a variable or container: `th::Thread t(f); "
                  "t.start();` (or `threads.emplace_back(f); threads.back().start();`)");
  }
  // Waits until the thread ends. RuntimeError if not started, or if called from the thread itself.
  void join() const;
  // Waits at most `timeout`; returns true if the thread has ended. ValueError if negative.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) const {
    return ref().join(timeout);
  }

  bool is_alive() const noexcept;
  std::string name() const;
  void set_name(std::string name);
  bool daemon() const noexcept;
  // RuntimeError("cannot set daemon status of active thread") after start().
  void set_daemon(bool daemon);
  // pthread_self() of the thread (Python's ident); 0 before start().
  unsigned long ident() const noexcept;
  // The kernel thread id (gettid, Python's native_id); 0 before start().
  unsigned long native_id() const;

  // A reference to this thread, comparable with current_thread().
  ThreadRef ref() const { return ThreadRef(state_); }
  friend bool operator==(const Thread& a, const ThreadRef& b) noexcept { return a.ref() == b; }

 protected:
  // Subclass style: override run().
  explicit Thread(Options options = {});
  // What the thread executes: the target if one was given, else nothing. Override in a subclass.
  virtual void run();

 private:
  friend struct detail::ThreadAccess;
  void set_target(detail::unique_function<void()> target);

  std::shared_ptr<detail::ThreadState> state_;
};

// The Thread(Ref) of the caller. Threads not started by pyconc get a "Dummy-N" entry, as in
// Python; the process's first thread is "MainThread".
ThreadRef current_thread();
ThreadRef main_thread();
// pthread_self() / gettid() of the caller.
unsigned long get_ident() noexcept;
unsigned long get_native_id() noexcept;
// The threads alive now: the main thread, started pyconc threads, and dummy threads.
std::vector<ThreadRef> enumerate();
int active_count();

// Python: threading.ExceptHookArgs / threading.excepthook.
struct ExceptHookArgs {
  std::exception_ptr exc_value;
  std::string exc_type;  // demangled type name
  std::string message;   // what()
  ThreadRef thread;
};
using ExceptHook = std::function<void(const ExceptHookArgs&)>;
// Replaces the hook called for exceptions escaping a thread (an empty hook restores the
// default printer). Returns the previous hook. Safe to call from any thread.
ExceptHook set_excepthook(ExceptHook hook);
// The default hook: prints "Exception in thread NAME:\nTYPE: MESSAGE" to stderr.
void default_excepthook(const ExceptHookArgs& args);

}  // namespace pyconc::threading
