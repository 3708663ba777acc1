// pyconc/asyncio/wait.hpp -- aio::wait and aio::as_completed: wait for some of many tasks.
//
// Python: asyncio.wait(aws, timeout=None, return_when=ALL_COMPLETED), asyncio.as_completed.
//   auto [done, pending] = co_await aio::wait(tasks, aio::FIRST_COMPLETED);
//   auto [done, pending] = co_await aio::wait(tasks, 1s, aio::ALL_COMPLETED);
//   for (auto next : aio::as_completed(tasks)) { int r = co_await next; }   // completion order
//   for (auto next : aio::as_completed(tasks, 5s)) { ... }  // TimeoutError after 5 s
// wait() returns the tasks split into done and pending (input order within each), cancels
// nothing, and on timeout simply returns. FIRST_EXCEPTION returns when a task fails with an
// exception (a cancelled one does not count) or all are done. Coroutines are made tasks.
// ValueError for an empty input (Python's). The constants are concurrent.futures' own.
//
// Cancellation: cancelling the waiting task unparks it at once; the tasks keep running (wait
// never cancels them, as Python's). Thread safety: loop-thread only.
#pragma once

#include <coroutine>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "pyconc/asyncio/detail/multi_wait.hpp"
#include "pyconc/asyncio/detail/task_core.hpp"
#include "pyconc/asyncio/detail/timer_heap.hpp"
#include "pyconc/asyncio/gather.hpp"
#include "pyconc/asyncio/task.hpp"
#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/futures/wait.hpp"

namespace pyconc::asyncio {

using futures::ALL_COMPLETED;
using futures::FIRST_COMPLETED;
using futures::FIRST_EXCEPTION;
using futures::ReturnWhen;

template <class T>
struct WaitResult {
  std::vector<Task<T>> done;
  std::vector<Task<T>> pending;
};

}  // namespace pyconc::asyncio

namespace pyconc::detail {
template <class T>
asyncio::Task<asyncio::WaitResult<T>> async_wait_impl(std::vector<asyncio::Task<T>> aws,
                                                      std::optional<Clock::time_point> deadline,
                                                      asyncio::ReturnWhen when) {
  if (aws.empty()) throw ValueError("Set of Tasks/Futures is empty.");
  std::vector<TaskCore*> cores;
  cores.reserve(aws.size());
  for (auto& t : aws) {
    t = asyncio::ensure_future(std::move(t));
    cores.push_back(&t.core());
  }
  {
    const auto until = when == asyncio::FIRST_COMPLETED   ? WaitUntil::first_done
                       : when == asyncio::FIRST_EXCEPTION ? WaitUntil::first_error
                                                          : WaitUntil::all_done;
    MultiWait w(cores, until, OnCancel::leave_children, false, deadline ? &*deadline : nullptr);
    co_await w;
  }
  asyncio::WaitResult<T> out;
  for (auto& t : aws) (t.done() ? out.done : out.pending).push_back(std::move(t));
  co_return out;
}
}  // namespace pyconc::detail

namespace pyconc::asyncio {

template <class T>
Task<WaitResult<T>> wait(std::vector<Task<T>> aws, ReturnWhen when = ALL_COMPLETED) {
  return detail::async_wait_impl(std::move(aws), std::nullopt, when);
}
template <class T, class Rep, class Period>
Task<WaitResult<T>> wait(std::vector<Task<T>> aws, std::chrono::duration<Rep, Period> timeout,
                         ReturnWhen when = ALL_COMPLETED) {
  return detail::async_wait_impl(std::move(aws), detail::deadline_after(timeout), when);
}

// The range returned by as_completed(): each element is an awaitable yielding the result of
// the next task to finish (or rethrowing its exception).
template <class T>
class AsCompleted {
  struct State;

 public:
  class Next;
  class iterator {
   public:
    using difference_type = std::ptrdiff_t;
    using value_type = Next;
    iterator() = default;
    iterator(std::shared_ptr<State> s, std::size_t i) : s_(std::move(s)), i_(i) {}
    Next operator*() const { return Next(s_); }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    void operator++(int) { ++i_; }
    bool operator==(const iterator& o) const noexcept { return i_ == o.i_; }

   private:
    std::shared_ptr<State> s_;
    std::size_t i_ = 0;
  };

  class Next {
   public:
    explicit Next(std::shared_ptr<State> s) : s_(std::move(s)) {}
    auto operator co_await() const { return Awaiter(s_); }

   private:
    std::shared_ptr<State> s_;
  };

  AsCompleted(std::vector<Task<T>> aws, std::optional<detail::Clock::time_point> deadline)
      : s_(std::make_shared<State>(std::move(aws), deadline)) {}
  iterator begin() const { return iterator(s_, 0); }
  iterator end() const { return iterator(s_, s_->tasks.size()); }
  std::size_t size() const noexcept { return s_->tasks.size(); }

 private:
  class Awaiter final : public detail::SuspendPoint, public detail::TimerEntry {
   public:
    explicit Awaiter(std::shared_ptr<State> s) : s_(std::move(s)) {}
    Awaiter(Awaiter&& o) noexcept : s_(std::move(o.s_)) {}
    ~Awaiter() { detach(); }
    bool await_ready() const noexcept { return s_->taken < s_->finished.size() || expired(); }
    void await_suspend(std::coroutine_handle<> h) {
      if (s_->waiter != nullptr)
        throw RuntimeError("as_completed: another task awaits the next result");
      park(h);
      s_->waiter = this;
      if (s_->deadline) task_->loop()->timers().push(this, *s_->deadline);
    }
    auto await_resume() {
      detach();
      if (task_ != nullptr) resume_check();
      if (s_->taken >= s_->finished.size()) throw TimeoutError("as_completed: timed out");
      Task<T>& t = s_->tasks[s_->finished[s_->taken++]];
      return detail::take_result(t);
    }
    void fire() noexcept override { complete(); }
    void wake() noexcept { complete(); }
    bool cancel() noexcept override {
      if (!cancellable()) return false;
      detach();
      return cancelled_now();
    }

   private:
    bool expired() const noexcept { return s_->deadline && detail::Clock::now() >= *s_->deadline; }
    void detach() noexcept {
      if (s_ && s_->waiter == this) s_->waiter = nullptr;
      if (armed() && task_ != nullptr) task_->loop()->timers().erase(this);
    }
    std::shared_ptr<State> s_;
  };

  struct Node final : detail::DoneWatcher {
    State* s = nullptr;
    std::size_t index = 0;
    bool watching = false;
    void on_task_done(detail::TaskCore&) noexcept override {
      watching = false;
      s->finished.push_back(index);
      if (s->waiter != nullptr) s->waiter->wake();
    }
  };

  struct State {
    State(std::vector<Task<T>> aws, std::optional<detail::Clock::time_point> d)
        : tasks(std::move(aws)), nodes(tasks.size()), deadline(d) {
      finished.reserve(tasks.size());
      for (std::size_t i = 0; i < tasks.size(); ++i) {
        tasks[i] = ensure_future(std::move(tasks[i]));
        nodes[i].s = this;
        nodes[i].index = i;
        if (tasks[i].done()) {
          finished.push_back(i);
        } else {
          tasks[i].core().add_watcher(&nodes[i]);
          nodes[i].watching = true;
        }
      }
    }
    ~State() {
      for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (nodes[i].watching) tasks[i].core().remove_watcher(&nodes[i]);
      }
    }
    std::vector<Task<T>> tasks;
    std::vector<Node> nodes;
    std::vector<std::size_t> finished;
    std::size_t taken = 0;
    Awaiter* waiter = nullptr;
    std::optional<detail::Clock::time_point> deadline;
  };

  std::shared_ptr<State> s_;
};

template <class T>
AsCompleted<T> as_completed(std::vector<Task<T>> aws) {
  return AsCompleted<T>(std::move(aws), std::nullopt);
}
template <class T, class Rep, class Period>
AsCompleted<T> as_completed(std::vector<Task<T>> aws, std::chrono::duration<Rep, Period> timeout) {
  return AsCompleted<T>(std::move(aws), detail::deadline_after(timeout));
}

}  // namespace pyconc::asyncio
