// pyconc/asyncio/event.hpp -- aio::Event, a flag tasks can wait for.
//
//   aio::Event ev;
//   co_await ev.wait();      // in some tasks
//   ev.set();                // in another: wakes them all
//
// Python: asyncio.Event. set() raises the flag and wakes every waiting task; clear() lowers it;
// wait() returns true at once while the flag is up (without suspending), else waits for set().
// A task woken by set() returns true even if clear() follows before it runs (a set/clear pulse
// is never lost), as in Python. A timed wait is wait_for(ev.wait(), timeout), as in Python.
//
// Cancellation: a waiting task leaves the waiter list and raises CancelledError; nothing else
// is affected (set() wakes everyone, so there is no wake-up to pass on).
// Thread safety: loop-thread only. To set an event from another thread, post the call to the
// loop: loop.call_soon_threadsafe([&] { ev.set(); }).
#pragma once

#include <coroutine>
#include <utility>

#include "pyconc/asyncio/detail/primitive_waiters.hpp"

namespace pyconc::asyncio {
class Event;
}

namespace pyconc::detail {

class [[nodiscard]] EventWait final : public ListWaiter {
 public:
  explicit EventWait(asyncio::Event& ev) noexcept : ev_(&ev) {}
  EventWait(EventWait&& o) noexcept : ListWaiter(std::move(o)), ev_(o.ev_) {}
  ~EventWait() { unlink(); }

  bool await_ready() const noexcept;
  void await_suspend(std::coroutine_handle<> h);
  bool await_resume() {
    if (parked()) resume_check();  // woken by set() (nothing to take), or cancelled
    return true;
  }

 private:
  asyncio::Event* ev_;
};

}  // namespace pyconc::detail

namespace pyconc::asyncio {

class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool is_set() const noexcept { return value_; }
  // Raises the flag and wakes every waiting task (in the order they started waiting).
  void set() noexcept {
    if (value_) return;
    value_ = true;
    while (detail::EventWait* w = waiters_.pop_front()) w->wake();
  }
  // Lowers the flag: later wait() calls suspend until the next set().
  void clear() noexcept { value_ = false; }
  // co_await: true once the flag is set (at once if it is).
  detail::EventWait wait() noexcept { return detail::EventWait(*this); }

 private:
  friend class detail::EventWait;
  detail::WaitList<detail::EventWait> waiters_;
  bool value_ = false;
};

}  // namespace pyconc::asyncio

namespace pyconc::detail {

inline bool EventWait::await_ready() const noexcept {
  return ev_->is_set();
}

inline void EventWait::await_suspend(std::coroutine_handle<> h) {
  (void)current_task();
  ev_->waiters_.push_back(*this);
  park(h);
}

}  // namespace pyconc::detail
