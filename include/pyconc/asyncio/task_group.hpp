// pyconc/asyncio/task_group.hpp -- aio::TaskGroup: structured concurrency.
//
// Python: asyncio.TaskGroup (`async with TaskGroup() as tg:`).
//   aio::TaskGroup tg;
//   auto t1 = tg.create_task(crawl_page("d"));
//   auto t2 = tg.create_task(crawl_page("e"));
//   co_await tg;               // the end of the `async with` block: waits for every task
// When a child fails with an exception, the other children are cancelled; `co_await tg` waits
// until all have finished and then throws pyconc::ExceptionGroup holding every child's error
// (cancelled children are not errors). If the task awaiting the group is cancelled, the
// children are cancelled, awaited, and CancelledError propagates (unless children failed:
// the ExceptionGroup wins, as in Python). create_task() after the group finished, or while it
// is shutting down after a failure, raises RuntimeError.
// Difference: C++ has no `async with`, so `co_await tg` must be reached. Python also cancels
// the *parent* task when a child fails while the parent is still inside the block; we do not
// (the parent would unwind past `co_await tg` and lose the children's errors) -- the parent
// sees the errors at `co_await tg`. If a TaskGroup is destroyed without having been awaited
// (an exception in the block), its unfinished children are cancelled and left to finish.
//
// Thread safety: loop-thread only.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pyconc/asyncio/detail/task_core.hpp"
#include "pyconc/asyncio/task.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::asyncio {

class TaskGroup {
 public:
  TaskGroup() = default;
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup();

  template <class T>
  Task<T> create_task(Task<T> coro, std::string name = {}) {
    check_open();
    Task<T> t = asyncio::create_task(std::move(coro), std::move(name));
    adopt(t.core());
    return t;
  }

  class Awaiter final : public detail::SuspendPoint {
   public:
    explicit Awaiter(TaskGroup* g) noexcept : g_(g) {}
    ~Awaiter();
    bool await_ready() const noexcept { return g_->pending_ == 0; }
    void await_suspend(std::coroutine_handle<> h);
    void await_resume();
    bool cancel() noexcept override;
    void wake() noexcept { complete(); }

   private:
    TaskGroup* g_;
    bool cancel_seen_ = false;
  };
  Awaiter operator co_await() noexcept { return Awaiter(this); }

  std::size_t size() const noexcept { return children_.size(); }

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
  void check_open() const;
  void adopt(detail::TaskCore& t);
  void child_done(Child& c) noexcept;
  void abort() noexcept;

  std::vector<std::unique_ptr<Child>> children_;
  std::vector<std::exception_ptr> errors_;
  std::size_t pending_ = 0;
  Awaiter* waiter_ = nullptr;
  bool aborting_ = false;
  bool finished_ = false;
};

}  // namespace pyconc::asyncio
