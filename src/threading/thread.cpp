#include "pyconc/threading/thread.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "pyconc/detail/exception_info.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/threading/event.hpp"

namespace pyconc::detail {

using threading::current_thread;
using threading::default_excepthook;
using threading::Event;
using threading::ExceptHook;
using threading::ExceptHookArgs;
using threading::Thread;
using threading::ThreadRef;

enum class Kind { pyconc, main, dummy };

struct ThreadState {
  explicit ThreadState(Kind k) : kind(k) {}

  const Kind kind;
  mutable std::mutex mu;  // guards name, os_thread
  std::string name;
  std::thread os_thread;  // joinable while a started non-daemon thread has not been reaped
  bool daemon = false;
  bool subclass = false;  // run() is the subclass's, called through `self`
  Thread* self = nullptr;
  detail::unique_function<void()> target;

  std::atomic<bool> started{false};
  std::atomic<unsigned long> ident{0};
  std::atomic<unsigned long> native_id{0};
  Event running;   // set once the thread runs (native_id is known)
  Event finished;  // set when run() has returned
};

// Live threads for enumerate()/active_count(). Leaked on purpose: daemon threads may still
// use it while static destructors run at exit.
struct Registry {
  std::mutex mu;
  std::unordered_set<std::shared_ptr<ThreadState>> live;
  std::atomic<unsigned> counter{0};  // for default names "Thread-N"
  std::atomic<unsigned> dummy_counter{0};
  std::mutex hook_mu;
  ExceptHook hook;
};
Registry& registry() {
  static Registry* r = new Registry();
  return *r;
}

std::shared_ptr<ThreadState> make_main_state() {
  auto s = std::make_shared<ThreadState>(Kind::main);
  s->name = "MainThread";
  s->started = true;
  s->ident = static_cast<unsigned long>(::pthread_self());
  s->native_id = static_cast<unsigned long>(::getpid());
  s->running.set();
  std::lock_guard g(registry().mu);
  registry().live.insert(s);
  return s;
}
// Replaced in a forked child, where the forking thread becomes the main thread.
std::shared_ptr<ThreadState>& main_state() {
  static std::shared_ptr<ThreadState> s = make_main_state();
  return s;
}

thread_local std::shared_ptr<ThreadState> tls_current;

// fork(): the child has one thread, the one that forked. As Python's threading._after_fork,
// it becomes the child's "MainThread"; every other thread is marked as ended (join() returns
// at once, is_alive() is false) and their OS handles are dropped without being joined. The
// registry's mutexes are held across fork() so the child inherits them in a consistent state,
// and every per-thread mutex is re-created (another thread may have held one at fork time).
void fork_prepare() noexcept {
  registry().mu.lock();
  registry().hook_mu.lock();
}
void fork_parent() noexcept {
  registry().hook_mu.unlock();
  registry().mu.unlock();
}
void fork_child() noexcept {
  Registry& r = registry();
  r.hook_mu.unlock();
  r.mu.unlock();
  // Never destroyed (a joinable std::thread must not be), but reachable: not a leak.
  static auto* orphans = new std::vector<std::thread>();
  for (const auto& s : r.live) {
    new (&s->mu) std::mutex();  // the old one may be locked by a thread that no longer exists
    if (s->os_thread.joinable()) orphans->push_back(std::move(s->os_thread));
    s->finished.set();
  }
  r.live.clear();
  main_state() = make_main_state();
  tls_current = main_state();
}

// Initialised during static initialisation, which runs on the process's main thread.
[[maybe_unused]] const bool main_state_ready =
    (main_state(), ::pthread_atfork(fork_prepare, fork_parent, fork_child), true);

// A thread not started by pyconc that asked for current_thread(): registered while it lives.
struct DummyHolder {
  std::shared_ptr<ThreadState> state;
  ~DummyHolder() {
    if (!state) return;
    state->finished.set();
    std::lock_guard g(registry().mu);
    registry().live.erase(state);
  }
};

struct ThreadAccess {
  static ThreadRef make(std::shared_ptr<ThreadState> s) { return ThreadRef(std::move(s)); }
  static void run(Thread* t) { t->run(); }  // Thread befriends us for this
};

void report(const std::shared_ptr<ThreadState>& st, std::exception_ptr e) noexcept {
  try {
    const auto info = detail::describe_exception(e);
    ExceptHookArgs args{e, info.type, info.message, ThreadAccess::make(st)};
    ExceptHook hook;
    {
      std::lock_guard g(registry().hook_mu);
      hook = registry().hook;
    }
    try {
      if (hook) {
        hook(args);
      } else {
        default_excepthook(args);
      }
    } catch (...) {
      const auto inner = detail::describe_exception(std::current_exception());
      std::fprintf(stderr, "Exception in threading.excepthook:\n%s: %s\n", inner.type.c_str(),
                   inner.message.c_str());
      default_excepthook(args);
    }
  } catch (...) {
    std::fputs("pyconc: failed to report an exception escaping a thread\n", stderr);
  }
}

void bootstrap(std::shared_ptr<ThreadState> st) {
  tls_current = st;
  {
    // The kernel's name for the thread (top -H, gdb, /proc): at most 15 bytes.
    std::lock_guard g(st->mu);
    ::pthread_setname_np(::pthread_self(), st->name.substr(0, 15).c_str());
  }
  st->native_id.store(static_cast<unsigned long>(::syscall(SYS_gettid)), std::memory_order_relaxed);
  st->running.set();
  try {
    if (st->subclass) {
      ThreadAccess::run(st->self);
    } else if (st->target) {
      st->target();
    }
  } catch (...) {
    report(st, std::current_exception());
  }
  // Drop the target and its arguments in this thread, as Python does once run() returns.
  st->target = nullptr;
  {
    std::lock_guard g(registry().mu);
    registry().live.erase(st);
  }
  st->finished.set();
}

}  // namespace pyconc::detail

namespace pyconc::threading {

using detail::registry;
using detail::ThreadState;

// ---------------------------------------------------------------------------------------------
// ThreadRef
// ---------------------------------------------------------------------------------------------
std::string ThreadRef::name() const {
  std::lock_guard g(state_->mu);
  return state_->name;
}
void ThreadRef::set_name(std::string name) {
  std::lock_guard g(state_->mu);
  state_->name = std::move(name);
}
unsigned long ThreadRef::ident() const noexcept {
  return state_->ident.load();
}
unsigned long ThreadRef::native_id() const {
  if (!state_->started.load()) return 0;
  state_->running.wait();  // started: the thread will publish its id momentarily
  return state_->native_id.load(std::memory_order_relaxed);
}
bool ThreadRef::daemon() const noexcept {
  return state_->daemon;
}
bool ThreadRef::is_alive() const noexcept {
  return state_->started.load() && !state_->finished.is_set();
}

void ThreadRef::join() const {
  join_until(detail::Clock::time_point::max());
}

bool ThreadRef::join_until(detail::Clock::time_point deadline) const {
  if (!state_->started.load()) throw RuntimeError("cannot join thread before it is started");
  if (detail::tls_current == state_ ||
      (state_->kind == detail::Kind::main && get_ident() == state_->ident.load())) {
    throw RuntimeError("cannot join current thread");
  }
  bool done = true;
  if (deadline == detail::Clock::time_point::max()) {
    state_->finished.wait();
  } else {
    done = state_->finished.wait(detail::remaining(deadline));
  }
  if (done) {
    // Reap the OS thread (it is past run() and exiting); only one joiner does it.
    std::thread t;
    {
      std::lock_guard g(state_->mu);
      t = std::move(state_->os_thread);
    }
    if (t.joinable()) t.join();
  }
  return done;
}

// ---------------------------------------------------------------------------------------------
// Thread
// ---------------------------------------------------------------------------------------------
Thread::Thread(Options options) : state_(std::make_shared<ThreadState>(detail::Kind::pyconc)) {
  const unsigned n = ++registry().counter;
  state_->name = options.name.empty() ? "Thread-" + std::to_string(n) : std::move(options.name);
  state_->daemon = options.daemon.value_or(current_thread().daemon());
  state_->subclass = true;  // until a target is given
  state_->self = this;
}

void Thread::set_target(detail::unique_function<void()> target) {
  state_->target = std::move(target);
  state_->subclass = false;
  state_->self = nullptr;
}

Thread::Thread(Thread&& other) noexcept : state_(std::move(other.state_)) {
  if (state_ && state_->subclass) state_->self = this;
}

Thread& Thread::operator=(Thread&& other) noexcept {
  if (this != &other) {
    if (state_ && state_->started && !state_->daemon && is_alive()) join();
    state_ = std::move(other.state_);
    if (state_ && state_->subclass) state_->self = this;
  }
  return *this;
}

Thread::~Thread() {
  if (!state_ || !state_->started.load() || state_->daemon) return;
  if (state_->subclass && is_alive()) {
    std::fprintf(stderr,
                 "pyconc: Thread '%s' was destroyed while its run() was running; join() a "
                 "subclass thread before it is destroyed\n",
                 name().c_str());
  }
  try {
    join();
  } catch (...) {  // join of ourselves from our own thread: nothing sensible left to do
  }
}

void Thread::run() {
  if (state_->target) state_->target();
}

void Thread::start() & {
  if (!state_) throw RuntimeError("thread object was moved from");
  if (state_->started.exchange(true)) throw RuntimeError("threads can only be started once");
  {
    std::lock_guard g(registry().mu);
    registry().live.insert(state_);
  }
  try {
    std::thread t(detail::bootstrap, state_);
    state_->ident.store(static_cast<unsigned long>(t.native_handle()));
    if (state_->daemon) {
      t.detach();
    } else {
      std::lock_guard g(state_->mu);
      state_->os_thread = std::move(t);
    }
  } catch (const std::system_error& e) {
    {
      std::lock_guard g(registry().mu);
      registry().live.erase(state_);
    }
    state_->started = false;
    throw RuntimeError(std::string("can't start new thread: ") + e.what());
  }
}

void Thread::join() const {
  if (!state_) throw RuntimeError("thread object was moved from");
  ref().join();
}
bool Thread::is_alive() const noexcept {
  return state_ && ref().is_alive();
}
std::string Thread::name() const {
  return ref().name();
}
void Thread::set_name(std::string name) {
  ref().set_name(std::move(name));
}
bool Thread::daemon() const noexcept {
  return state_->daemon;
}
void Thread::set_daemon(bool daemon) {
  if (state_->started.load()) throw RuntimeError("cannot set daemon status of active thread");
  state_->daemon = daemon;
}
unsigned long Thread::ident() const noexcept {
  return state_->ident.load();
}
unsigned long Thread::native_id() const {
  return ref().native_id();
}

// ---------------------------------------------------------------------------------------------
// Module functions
// ---------------------------------------------------------------------------------------------
ThreadRef current_thread() {
  if (detail::tls_current) return detail::ThreadAccess::make(detail::tls_current);
  const auto& main = detail::main_state();
  if (::pthread_self() == static_cast<pthread_t>(main->ident.load())) {
    detail::tls_current = main;
    return detail::ThreadAccess::make(main);
  }
  // A thread pyconc did not start: give it a dummy entry for as long as it lives.
  static thread_local detail::DummyHolder holder;
  auto s = std::make_shared<ThreadState>(detail::Kind::dummy);
  s->name = "Dummy-" + std::to_string(++registry().dummy_counter);
  s->daemon = true;
  s->started = true;
  s->ident = get_ident();
  s->native_id = get_native_id();
  s->running.set();
  {
    std::lock_guard g(registry().mu);
    registry().live.insert(s);
  }
  holder.state = s;
  detail::tls_current = s;
  return detail::ThreadAccess::make(std::move(s));
}

ThreadRef main_thread() {
  return detail::ThreadAccess::make(detail::main_state());
}

unsigned long get_ident() noexcept {
  return static_cast<unsigned long>(::pthread_self());
}
unsigned long get_native_id() noexcept {
  return static_cast<unsigned long>(::syscall(SYS_gettid));
}

std::vector<ThreadRef> enumerate() {
  std::vector<ThreadRef> out;
  std::lock_guard g(registry().mu);
  out.reserve(registry().live.size());
  for (const auto& s : registry().live) out.push_back(detail::ThreadAccess::make(s));
  return out;
}

int active_count() {
  std::lock_guard g(registry().mu);
  return static_cast<int>(registry().live.size());
}

ExceptHook set_excepthook(ExceptHook hook) {
  std::lock_guard g(registry().hook_mu);
  std::swap(registry().hook, hook);
  return hook;
}

void default_excepthook(const ExceptHookArgs& args) {
  const std::string name = args.thread.name();
  std::fprintf(stderr, "Exception in thread %s:\n%s: %s\n", name.c_str(), args.exc_type.c_str(),
               args.message.c_str());
  std::fflush(stderr);
}

}  // namespace pyconc::threading
