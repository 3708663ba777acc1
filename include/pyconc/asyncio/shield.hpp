// pyconc/asyncio/shield.hpp -- aio::shield: await a task without passing cancellation to it.
//
// Python: asyncio.shield(aw).
//   int s = co_await aio::shield(t2);
// The awaitable becomes a task (if it was a coroutine). Cancelling the awaiting task makes
// this await throw CancelledError at once while the shielded task keeps running; its eventual
// exception is marked retrieved, as Python does. The result is copied (moved if nobody else
// holds the task).
// Thread safety: loop-thread only.
#pragma once

#include <coroutine>
#include <type_traits>
#include <utility>

#include "pyconc/asyncio/detail/task_core.hpp"
#include "pyconc/asyncio/gather.hpp"
#include "pyconc/asyncio/task.hpp"

namespace pyconc::detail {

template <class T>
class [[nodiscard]] ShieldAwaiter final : public SuspendPoint, public DoneWatcher {
 public:
  explicit ShieldAwaiter(asyncio::Task<T> t) : t_(std::move(t)) {}
  ShieldAwaiter(ShieldAwaiter&& o) noexcept : t_(std::move(o.t_)) {}
  ~ShieldAwaiter() {
    if (watching_) t_.core().remove_watcher(this);
  }
  bool await_ready() const { return t_.done(); }
  void await_suspend(std::coroutine_handle<> h) {
    t_.core().add_watcher(this);
    watching_ = true;
    park(h);
  }
  auto await_resume() {
    if (task_ != nullptr) resume_check();
    if constexpr (std::is_void_v<T>) {
      t_.result();
    } else {
      return take_result(t_);
    }
  }
  void on_task_done(TaskCore&) noexcept override {
    watching_ = false;
    complete();
  }
  bool cancel() noexcept override {
    if (!cancellable()) return false;
    t_.core().remove_watcher(this);
    watching_ = false;
    retrieve_when_done({&t_.core()});
    return cancelled_now();
  }

 private:
  asyncio::Task<T> t_;
  bool watching_ = false;
};

}  // namespace pyconc::detail

namespace pyconc::asyncio {

template <class T>
detail::ShieldAwaiter<T> shield(Task<T> aw) {
  return detail::ShieldAwaiter<T>(ensure_future(std::move(aw)));
}

}  // namespace pyconc::asyncio
