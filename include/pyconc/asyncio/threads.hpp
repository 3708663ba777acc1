// pyconc/asyncio/threads.hpp -- crossing between the loop and threads.
//
// Python: asyncio.to_thread, loop.run_in_executor, asyncio.run_coroutine_threadsafe.
//   int r = co_await aio::to_thread(blocking_fn, 3);            // default executor
//   int s = co_await aio::run_in_executor(pool, cpu_fn, 4);     // any pyconc Executor
//   pyconc::Future<int> f = aio::run_coroutine_threadsafe(coro(), loop);  // from another thread
// to_thread / run_in_executor return the executor's pyconc::Future<R>, which is awaitable
// (see future.hpp). The default executor is a ThreadPoolExecutor owned by the loop, created on
// first use and shut down by aio::run() at exit.
//
// Cancellation: cancelling a task awaiting to_thread() unparks it at once; the function keeps
// running in its thread if it had started (Python's behaviour: threads cannot be interrupted).
// A future from run_coroutine_threadsafe that is cancelled (from any thread) cancels the task.
// Thread safety: to_thread/run_in_executor on the loop thread; run_coroutine_threadsafe from
// any thread but the loop's own (it would deadlock if the caller then blocked on result()).
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/future.hpp"
#include "pyconc/asyncio/task.hpp"
#include "pyconc/contextvars.hpp"
#include "pyconc/future.hpp"
#include "pyconc/futures/executor.hpp"
#include "pyconc/futures/thread_pool_executor.hpp"

namespace pyconc::detail {
// fn, called in a copy of the submitting thread's context (contextvars): what to_thread and
// run_in_executor hand to the executor.
template <class F>
struct InContext {
  contextvars::Context context;
  F fn;
  template <class... A>
  decltype(auto) operator()(A&&... a) {
    return context.run(fn, std::forward<A>(a)...);
  }
};
template <class F>
InContext<std::decay_t<F>> in_current_context(F&& fn) {
  return {contextvars::copy_context(), std::forward<F>(fn)};
}
}  // namespace pyconc::detail

namespace pyconc::asyncio {

// Python: loop.run_in_executor(executor, fn, *args). Submits fn(args...) to `executor`; fn runs
// in a copy of the caller's contextvars context (as to_thread's; Python's run_in_executor does
// not copy it -- here both do, so a value set in a task is seen by the work it hands off).
template <class F, class... Args>
auto run_in_executor(futures::Executor& executor, F&& fn, Args&&... args) {
  return executor.submit(detail::in_current_context(std::forward<F>(fn)),
                         std::forward<Args>(args)...);
}
// run_in_executor(nullptr, fn, args...): the loop's default executor.
template <class F, class... Args>
auto run_in_executor(std::nullptr_t, F&& fn, Args&&... args) {
  return get_running_loop().default_executor().submit(
      detail::in_current_context(std::forward<F>(fn)), std::forward<Args>(args)...);
}

// Python: asyncio.to_thread(fn, *args): fn runs in a copy of the caller's contextvars context.
template <class F, class... Args>
auto to_thread(F&& fn, Args&&... args) {
  return run_in_executor(nullptr, std::forward<F>(fn), std::forward<Args>(args)...);
}

// Python: asyncio.run_coroutine_threadsafe(coro, loop). Schedules `coro` as a task of `loop`
// from another thread; the returned future gets its result, exception or cancellation. If
// the loop closes before the coroutine could start, the future fails with RuntimeError.
template <class T>
Future<T> run_coroutine_threadsafe(Task<T> coro, EventLoop& loop) {
  Future<T> fut;
  struct Starter {
    Task<T> coro;
    Future<T> fut;
    std::shared_ptr<detail::LoopRemote> remote;
    detail::LoopCore* loop;
    bool started = false;
    Starter(Task<T> c, Future<T> f, std::shared_ptr<detail::LoopRemote> r, detail::LoopCore* l)
        : coro(std::move(c)), fut(std::move(f)), remote(std::move(r)), loop(l) {}
    Starter(Starter&& o) noexcept
        : coro(std::move(o.coro)),
          fut(o.fut),
          remote(o.remote),
          loop(o.loop),
          started(std::exchange(o.started, true)) {}
    ~Starter() {
      if (!started && !fut.done()) {
        try {
          fut.set_exception(RuntimeError("the event loop closed before the coroutine started"));
        } catch (...) {
        }
      }
    }
    void operator()() {
      started = true;
      if (fut.cancelled()) return;
      Task<T> task = create_task(std::move(coro));
      // Loop-thread-only holder; other threads only carry the shared_ptr.
      auto holder = std::make_shared<TaskRef>(task);
      task.add_done_callback([f = fut, holder](Task<T>& t) mutable {
        *holder = TaskRef();  // drop the reference on the loop thread
        if (f.done()) return;
        try {
          if (t.cancelled()) {
            f.cancel();
          } else if (auto e = t.exception()) {
            f.set_exception(e);
          } else if constexpr (std::is_void_v<T>) {
            f.set_result();
          } else {
            f.set_result(std::move(t.result()));
          }
        } catch (...) {  // cancelled concurrently from another thread
        }
      });
      fut.add_done_callback([remote = remote, l = loop, holder](Future<T>& f) {
        if (!f.cancelled()) return;
        detail::post_to_loop(remote, l, [holder] {
          if (holder->valid()) holder->cancel();
        });
      });
    }
  };
  loop.call_soon_threadsafe(Starter(std::move(coro), fut, loop.remote(), &loop));
  return fut;
}

}  // namespace pyconc::asyncio
