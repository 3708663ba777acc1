// pyconc/asyncio/future.hpp -- co_await on any pyconc::Future<T> from a coroutine.
//
// Python: awaiting asyncio.wrap_future(concurrent_future). The one Future type of pyconc
// (thread pools, process pools, run_coroutine_threadsafe) is awaitable in a task:
//   int q = co_await pool.submit(cpu_fn, 4);   // the loop keeps running while the pool works
// The future's done-callback (run by whichever thread completes it) posts the task's wake-up
// to the loop with call_soon_threadsafe -- no thread blocks, no polling. `co_await f` on an
// lvalue returns a reference to the stored value; on an rvalue the value is moved out.
//
// Cancellation: cancelling the awaiting task unparks it at once with CancelledError and
// cancels the future too (it succeeds only if the work has not started yet), as Python's
// wrap_future does. Thread safety: await on a loop thread; the future may be completed from
// any thread.
#pragma once

#include <coroutine>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

#include "pyconc/asyncio/detail/task_core.hpp"
#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/future.hpp"

namespace pyconc::detail {

// Posts `fn` to a loop through its remote; false if the loop is closed. Any thread.
bool post_to_loop(const std::shared_ptr<LoopRemote>& remote, LoopCore* loop,
                  unique_function<void()> fn);

template <class T, bool Move>
class FutureAwaiter final : public SuspendPoint {
 public:
  explicit FutureAwaiter(Future<T> f) : f_(std::move(f)) {}
  FutureAwaiter(FutureAwaiter&& o) noexcept : f_(std::move(o.f_)) {}
  ~FutureAwaiter() {
    if (alive_) *alive_ = false;
    if (token_ != 0) f_.state()->remove_callback(token_);
  }

  bool await_ready() const noexcept { return f_.done(); }
  void await_suspend(std::coroutine_handle<> h) {
    park(h);
    // `alive_` is read and written on the loop thread only: the completing thread merely
    // carries the shared_ptr (whose count is atomic) inside the posted callback.
    alive_ = std::make_shared<bool>(true);
    LoopCore* loop = task_->loop();
    token_ = f_.state()->add_callback(
        [remote = loop->loop().remote(), loop, alive = alive_, self = this]() mutable {
          post_to_loop(remote, loop, [alive = std::move(alive), self] {
            if (*alive) self->complete();
          });
        });
  }
  decltype(auto) await_resume() {
    if (task_ != nullptr) resume_check();
    if constexpr (std::is_void_v<T>) {
      f_.result();
    } else if constexpr (Move) {
      return T(std::move(f_.result()));
    } else {
      return static_cast<T&>(f_.result());
    }
  }

  bool cancel() noexcept override {
    if (!cancellable()) return false;
    if (token_ != 0 && f_.state()->remove_callback(token_)) {
      token_ = 0;
      try {
        f_.cancel();
      } catch (...) {
      }
      return cancelled_now();
    }
    // The done-callback already ran or is running: its wake-up is on its way; resume then.
    cancelled_ = true;
    return true;
  }

 private:
  Future<T> f_;
  std::shared_ptr<bool> alive_;
  std::uint64_t token_ = 0;
};

// The state of a future made by loop.create_future(): callbacks go through the loop.
template <class T>
class LoopFutureState final : public FutureState<T> {
 public:
  LoopFutureState(std::shared_ptr<LoopRemote> remote, LoopCore* loop)
      : remote_(std::move(remote)), loop_(loop) {}

 protected:
  void dispatch_callback(unique_function<void()>& fn) noexcept override {
    if (LoopCore::running() == loop_) {
      try {
        loop_->loop().call_soon(std::move(fn));
        return;
      } catch (...) {
        // Out of memory scheduling: run it now rather than lose it (fn is intact: the node
        // that would have taken it was never built).
      }
      run_callback(fn);
      return;
    }
    // Another thread: through the loop's thread-safe entrance. A closed loop drops the
    // callback, as Python's call_soon on a closed loop refuses it.
    post_to_loop(remote_, loop_, std::move(fn));
  }

 private:
  std::shared_ptr<LoopRemote> remote_;
  LoopCore* loop_;
};

}  // namespace pyconc::detail

namespace pyconc::asyncio {

// Python: asyncio.Future is pyconc's one Future (see loop.create_future()).
using pyconc::Future;

template <class T>
Future<T> EventLoop::create_future() {
  return Future<T>(std::make_shared<detail::LoopFutureState<T>>(remote(), this));
}

}  // namespace pyconc::asyncio

namespace pyconc {

template <class T>
detail::FutureAwaiter<T, false> operator co_await(const Future<T>& f) {
  return detail::FutureAwaiter<T, false>(f);
}
template <class T>
detail::FutureAwaiter<T, true> operator co_await(Future<T>&& f) {
  return detail::FutureAwaiter<T, true>(std::move(f));
}

}  // namespace pyconc
