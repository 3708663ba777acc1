// pyconc/future.hpp -- Future<T>, the one future of pyconc.
//
// Python: concurrent.futures.Future. A copyable handle to a thread-safe shared state (Python
// objects are references: copies of a Future name the same future). Thread pools, process
// pools and coroutines all hand out this type; a coroutine can co_await it (asyncio layer).
//
//   pyconc::Future<int> f = pool.submit(fn, 1);
//   f.result(); f.result(2s); f.exception(); f.done(); f.running(); f.cancel(); f.cancelled();
//   auto h = f.add_done_callback([](pyconc::Future<int>& g) { ... });
//   f.remove_done_callback(h);                   // or remove_done_callback(fn) for a function
//
// Behaviour, as Python's: a future is pending, then running, then finished (with a value or
// an exception) or cancelled. cancel() succeeds only while pending. result() blocks until
// done, then returns the value, rethrows the task's own exception (its original type), or
// throws CancelledError; result(timeout) throws TimeoutError when the time runs out.
// exception() returns the exception (null on success) instead of throwing it. Callbacks added
// with add_done_callback run once the future is done -- in the thread that completes it, or at
// once in the caller's thread if it is already done; an exception escaping a callback is
// reported on stderr and does not affect the future, its other callbacks or the executor.
// remove_done_callback() takes back a callback that has not run yet: by the handle
// add_done_callback returned, or -- Python's spelling -- by the function itself when it is a
// plain function pointer (every registration of it goes); it returns how many were removed.
// A future made by an event loop (loop.create_future<T>(), asyncio layer) is the same type; its
// callbacks are scheduled on that loop, as asyncio.Future's are, instead of running inline.
// Executor side: set_running_or_notify_cancel(), set_result(), set_exception(); setting an
// already finished or cancelled future raises InvalidStateError.
// Difference: result() returns a reference to the stored value (T&) -- copy it (`int v =
// f.result();`) or move it out (`auto p = std::move(f.result());` for move-only T); the
// reference lives as long as some Future handle to the state does.
//
// Thread safety: every member may be called from any thread on any copy concurrently.
// Memory ordering: everything the task did before set_result()/set_exception() is visible to
// a thread after its result()/exception()/wait returns or in a done-callback.
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "pyconc/detail/callback_handle.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/unique_function.hpp"
#include "pyconc/errors.hpp"

namespace pyconc {

template <class T = void>
class Future;

namespace detail {

enum class FutureStatus : std::uint32_t { pending = 0, running = 1, cancelled = 2, finished = 3 };

class FutureStateBase;

// Something waiting for any of many futures at once (cf::wait, cf::as_completed). Registered
// on each future; on_done is called exactly once per future, with that future's lock held --
// so it must be short, must not throw and must not touch the future.
class FutureWaiter {
 public:
  virtual void on_done(FutureStateBase& state) noexcept = 0;

 protected:
  ~FutureWaiter() = default;
};

// The type-independent part of a future's shared state.
class FutureStateBase : public std::enable_shared_from_this<FutureStateBase> {
 public:
  FutureStateBase() = default;
  FutureStateBase(const FutureStateBase&) = delete;
  FutureStateBase& operator=(const FutureStateBase&) = delete;
  virtual ~FutureStateBase() = default;

  FutureStatus status() const noexcept {
    return static_cast<FutureStatus>(status_.load(std::memory_order_acquire));
  }
  bool done() const noexcept { return status() >= FutureStatus::cancelled; }
  // Finished with an exception (not cancelled). Meaningful once done() was seen true.
  bool has_exception() const noexcept {
    return status() == FutureStatus::finished && exception_ != nullptr;
  }

  bool cancel();
  bool set_running_or_notify_cancel();
  // Non-throwing pending -> running. Returns the status found: `pending` means the caller
  // now runs the task; `cancelled` means it must not; anything else means someone else runs
  // or ran it.
  FutureStatus try_set_running() noexcept;
  void set_exception(std::exception_ptr e);

  // Blocks until done; false if `deadline` (may be null: no limit) passed first. Before
  // blocking it offers the future a chance to run its own work in the calling thread (see
  // help_while_waiting), which is how a pool task can wait for a task it submitted.
  bool wait(const Clock::time_point* deadline) const;
  // Waits, then: CancelledError if cancelled, else the stored exception (null on success).
  // TimeoutError when the deadline passes.
  std::exception_ptr wait_exception(const Clock::time_point* deadline) const;

  // Registers `fn` to run once done; runs it at once (returning 0) if already done.
  // Otherwise returns a token for remove_callback (used by awaiting coroutines on cancel).
  // `key` names a function-pointer callback for remove_callbacks(key).
  std::uint64_t add_callback(unique_function<void()> fn, CallbackKey key = nullptr);
  bool remove_callback(std::uint64_t token);
  // Removes every pending callback registered with `key`; returns how many.
  std::size_t remove_callbacks(CallbackKey key);

  // Registers `w` unless the future is already done (then returns false and calls nothing).
  bool add_waiter(FutureWaiter* w);
  void remove_waiter(FutureWaiter* w);

 protected:
  // Called by wait() before it blocks. An executor's task overrides it to run itself inline
  // when it is still queued and the waiter is one of its executor's own workers.
  virtual void help_while_waiting() const noexcept {}
  // Runs a done-callback. A loop's future (asyncio layer) overrides it to schedule the callback
  // on its loop instead. Must not throw.
  virtual void dispatch_callback(unique_function<void()>& fn) noexcept;
  // Under mu_: whether the future may still be finished. Throws InvalidStateError if not.
  void check_can_finish_locked() const;
  // Publishes `s`, wakes blocked threads and waiters, then (after releasing `lock`) runs the
  // callbacks.
  void finish(std::unique_lock<std::mutex>& lock, FutureStatus s);
  // The second half of finish(): the status is already published.
  void notify_done(std::unique_lock<std::mutex>& lock);

  mutable std::mutex mu_;
  std::exception_ptr exception_;

 private:
  struct Callback {
    std::uint64_t token;
    unique_function<void()> fn;
    CallbackKey key;
  };

  // status_ is also the futex word blocked threads sleep on; sleepers_ tells finish() whether
  // a wake-up syscall is needed.
  std::atomic<std::uint32_t> status_{0};
  mutable std::atomic<std::uint32_t> sleepers_{0};
  std::vector<Callback> callbacks_;
  std::vector<FutureWaiter*> waiters_;
  std::uint64_t next_token_ = 1;
};

// Runs a done-callback, reporting (never propagating) what it throws.
void run_callback(unique_function<void()>& fn) noexcept;

template <class T>
class FutureState : public FutureStateBase {
 public:
  using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

  template <class... Args>
  void set_value(Args&&... args) {
    std::unique_lock lock(mu_);
    check_can_finish_locked();
    value_.emplace(std::forward<Args>(args)...);
    finish(lock, FutureStatus::finished);
  }
  // Valid once finished without exception (status() observed with acquire ordering).
  Stored& value() noexcept { return *value_; }

 private:
  std::optional<Stored> value_;
};

}  // namespace detail

template <class T>
class Future {
 public:
  using value_type = T;
  using reference = std::add_lvalue_reference_t<T>;

  // A new pending future (Python: Future()), for code that completes futures itself.
  Future() : state_(std::make_shared<detail::FutureState<T>>()) {}

  bool done() const noexcept { return state_->done(); }
  bool running() const noexcept { return state_->status() == detail::FutureStatus::running; }
  bool cancelled() const noexcept { return state_->status() == detail::FutureStatus::cancelled; }
  // Cancels the future if it has not started running; returns whether it is cancelled.
  bool cancel() { return state_->cancel(); }

  // Blocks until done; returns the value, rethrows the task's exception, or throws
  // CancelledError.
  reference result() const { return take(state_->wait_exception(nullptr)); }
  // As result(), but throws TimeoutError after `timeout` (ValueError if negative).
  template <class Rep, class Period>
  reference result(std::chrono::duration<Rep, Period> timeout) const {
    const auto deadline = detail::deadline_after(timeout);
    return take(state_->wait_exception(&deadline));
  }

  // Blocks until done; returns the task's exception, or null if it succeeded. CancelledError
  // if cancelled.
  std::exception_ptr exception() const { return state_->wait_exception(nullptr); }
  template <class Rep, class Period>
  std::exception_ptr exception(std::chrono::duration<Rep, Period> timeout) const {
    const auto deadline = detail::deadline_after(timeout);
    return state_->wait_exception(&deadline);
  }

  // Calls fn(future) -- or fn() -- once the future is done (at once if it already is).
  // Returns a handle for remove_done_callback (empty when the callback already ran).
  template <class F>
  requires std::invocable<F&, Future&> || std::invocable<F&> CallbackHandle add_done_callback(F fn)
  const {
    detail::CallbackKey key = nullptr;
    if constexpr (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>) {
      key = reinterpret_cast<detail::CallbackKey>(fn);
    }
    if constexpr (std::invocable<F&, Future&>) {
      // The callback holds a weak reference: a future whose handles are all gone does not
      // keep itself alive through its own callback list.
      std::weak_ptr<detail::FutureState<T>> weak = state_;
      return CallbackHandle{state_->add_callback(
          [fn = std::move(fn), weak]() mutable {
            if (auto s = weak.lock()) {
              Future self(std::move(s));
              fn(self);
            }
          },
          key)};
    } else {
      return CallbackHandle{state_->add_callback(std::move(fn), key)};
    }
  }

  // Python: remove_done_callback. Takes back a callback that has not run yet; returns how
  // many were removed (0 or 1 for a handle; every registration of a function pointer).
  std::size_t remove_done_callback(CallbackHandle h) const {
    return h.id != 0 && state_->remove_callback(h.id) ? 1 : 0;
  }
  template <class R, class... Args>
  std::size_t remove_done_callback(R (*fn)(Args...)) const {
    return state_->remove_callbacks(reinterpret_cast<detail::CallbackKey>(fn));
  }

  // --- executor side ---
  // Pending -> running (true); cancelled -> false (and wait()ers are told). RuntimeError in
  // any other state.
  bool set_running_or_notify_cancel() { return state_->set_running_or_notify_cancel(); }
  template <class... Args>
  requires(std::is_void_v<T> ? sizeof...(Args) == 0
                             : std::is_constructible_v<typename detail::FutureState<T>::Stored,
                                                       Args...>) void set_result(Args&&... args) {
    state_->set_value(std::forward<Args>(args)...);
  }
  void set_exception(std::exception_ptr e) { state_->set_exception(std::move(e)); }
  template <class E>
  requires std::derived_from<std::decay_t<E>, std::exception>
  void set_exception(E&& e) { state_->set_exception(std::make_exception_ptr(std::forward<E>(e))); }

  // Identity: two handles are equal when they name the same future.
  friend bool operator==(const Future& a, const Future& b) noexcept { return a.state_ == b.state_; }

  // For pyconc's own layers (executors, wait/as_completed, asyncio): the shared state.
  const std::shared_ptr<detail::FutureState<T>>& state() const noexcept { return state_; }
  explicit Future(std::shared_ptr<detail::FutureState<T>> s) noexcept : state_(std::move(s)) {}

 private:
  reference take(const std::exception_ptr& e) const {
    if (e) std::rethrow_exception(e);
    if constexpr (!std::is_void_v<T>) return state_->value();
  }

  std::shared_ptr<detail::FutureState<T>> state_;
};

}  // namespace pyconc

template <class T>
struct std::hash<pyconc::Future<T>> {
  std::size_t operator()(const pyconc::Future<T>& f) const noexcept {
    return std::hash<const void*>()(f.state().get());
  }
};
