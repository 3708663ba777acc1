// pyconc/asyncio/task_group.hpp -- aio::TaskGroup and aio::task_group(): structured concurrency.
//
// Python: `async with asyncio.TaskGroup() as tg:`. C++ cannot await in a destructor, so the
// `async with` block is a body the scope runs (the documented form):
//   co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
//     tg.create_task(crawl_page("d"));
//     tg.create_task(crawl_page("e"));
//     co_await aio::sleep(1s);               // cancelled if a child fails
//   });                                      // every child has finished here, even if the body threw
// The body runs inline in the calling task. When a child fails with an exception, the other
// children are cancelled and so is the calling task (Python cancels the parent task; the scope
// takes that cancellation back with uncancel() when it ends), so the body stops at its next
// suspension point. When the body throws, every child is cancelled. Either way the scope then
// waits until every child has finished -- also when the calling task is cancelled meanwhile --
// and only then returns or throws, so no child outlives the frame whose locals it uses.
// Errors: pyconc::ExceptionGroup holding every child's error (cancelled children are not
// errors) and the body's own exception; the body's value is returned when there is none. When
// no child failed and the calling task was cancelled from outside, CancelledError propagates.
//
// The earlier form stays: `aio::TaskGroup tg; tg.create_task(c()); co_await tg;` -- children
// failing cancel their siblings but not the parent, and `co_await tg` must be reached. A
// TaskGroup destroyed with children still running (an exception skipped `co_await tg`) cancels
// them and reports it to the loop's exception handler ("TaskGroup destroyed with N unfinished
// tasks"), because those children run on after the frame they may reference is gone: use
// aio::task_group() instead.
//
// create_task() after the group finished, or while it is shutting down after a failure,
// raises RuntimeError (the coroutine is closed, so it is not reported as never awaited).
// Thread safety: loop-thread only. A child's Child node costs no allocation of its own (nodes
// come in blocks that double in size).
#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/asyncio/detail/task_core.hpp"
#include "pyconc/asyncio/task.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::asyncio {

class TaskGroup {
  struct ScopedTag {};

 public:
  TaskGroup() = default;
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup();

  // Python: TaskGroup.create_task(coro, name=None): schedules `coro` as a child task.
  template <class T>
  ScheduledTask<T> create_task(Task<T> coro, std::string name = {}) {
    if (const char* why = closed_reason()) {
      coro.close();
      throw RuntimeError(why);
    }
    Child& node = next_node();  // before scheduling: nothing can fail after that
    ScheduledTask<T> t = asyncio::create_task(std::move(coro), std::move(name));
    adopt(node, t.core());
    return t;
  }

  // `co_await tg` (the earlier form): waits for every child; see the header comment.
  class Awaiter final : public detail::SuspendPoint {
   public:
    Awaiter(TaskGroup* g, bool exiting) noexcept : g_(g), exiting_(exiting) {}
    ~Awaiter();
    bool await_ready() const noexcept { return g_->pending_ == 0; }
    void await_suspend(std::coroutine_handle<> h);
    void await_resume();
    bool cancel() noexcept override;
    void wake() noexcept { complete(); }

   private:
    TaskGroup* g_;
    bool exiting_;
    bool cancel_seen_ = false;
  };
  [[nodiscard]] Awaiter operator co_await();

  // The number of tasks created in this group so far.
  std::size_t size() const noexcept { return count_; }

  // For aio::task_group(): a group whose failures cancel the task running its body.
  explicit TaskGroup(ScopedTag);
  // __aexit__: records how the body ended (null: normally), cancels the children if it threw,
  // and returns the awaiter that waits for them and raises what Python's __aexit__ raises.
  Awaiter exit(std::exception_ptr body_error) noexcept;
  static ScopedTag scoped() noexcept { return {}; }

 private:
  struct Child final : detail::DoneWatcher {
    TaskGroup* g = nullptr;
    TaskRef task;
    bool watching = false;
    void on_task_done(detail::TaskCore&) noexcept override {
      watching = false;
      g->child_done(*this);
    }
  };
  struct Block {
    std::unique_ptr<Child[]> nodes;
    std::size_t size = 0;
    std::size_t used = 0;
  };
  const char* closed_reason() const noexcept;
  Child& next_node();
  void adopt(Child& c, detail::TaskCore& t) noexcept;
  void child_done(Child& c) noexcept;
  void abort() noexcept;
  // Raises the outcome of the scope once every child finished (exit's await_resume).
  void finish_exit(bool cancelled_while_waiting);
  template <class F>
  void for_each_child(F f) {
    for (auto& b : blocks_) {
      for (std::size_t i = 0; i < b.used; ++i) f(b.nodes[i]);
    }
  }

  std::vector<Block> blocks_;
  std::vector<std::exception_ptr> errors_;
  std::exception_ptr body_error_;
  detail::TaskCore* parent_ = nullptr;  // scoped form: the task running the body
  std::size_t count_ = 0;
  std::size_t pending_ = 0;
  Awaiter* waiter_ = nullptr;
  bool aborting_ = false;
  bool exiting_ = false;
  bool finished_ = false;
  bool body_cancelled_ = false;
  bool parent_cancel_requested_ = false;
};

}  // namespace pyconc::asyncio

namespace pyconc::detail {
template <class F>
using task_group_result_t = typename std::invoke_result_t<F&, asyncio::TaskGroup&>::value_type;
}  // namespace pyconc::detail

namespace pyconc::asyncio {

// Python: `async with asyncio.TaskGroup() as tg: <body>` -- see the header comment. `body` is
// called once with the group and must return an aio::Task<R>; the scope returns its R.
// RuntimeError outside a task.
template <class F>
requires std::invocable<F&, TaskGroup&> Task<detail::task_group_result_t<F>> task_group(F body) {
  using R = detail::task_group_result_t<F>;
  TaskGroup tg(TaskGroup::scoped());
  std::exception_ptr error;
  std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> value;
  try {
    if constexpr (std::is_void_v<R>) {
      co_await body(tg);
    } else {
      value.emplace(co_await body(tg));
    }
  } catch (...) {
    error = std::current_exception();
  }
  co_await tg.exit(std::move(error));
  if constexpr (!std::is_void_v<R>) co_return std::move(*value);
}

}  // namespace pyconc::asyncio
