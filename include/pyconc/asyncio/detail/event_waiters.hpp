// pyconc/asyncio/detail/event_waiters.hpp -- tasks parked until an event of an object (a stream
// drained, a connection or server closed, a process exited): an intrusive FIFO of awaiters.
//
// An EventWaiter lives in the awaiting coroutine's frame; parking links it (no allocation),
// wake_all() unlinks and schedules every one, cancel() unlinks only the cancelled one.
//   struct MyAwaiter : EventWaiter {
//     bool await_ready() { return event_happened; }
//     void await_suspend(std::coroutine_handle<> h) { wait_on(list, h); }
//     void await_resume() { resume_check(); }
//   };
// Unlike primitive_waiters.hpp (the primitives' lists: one waiter woken at a time, a node in two
// lists at once, orphaned when its primitive dies), every waiter here wakes together and the
// object outlives its waiters (it is closed before it dies).
// Thread safety: loop-thread only.
#pragma once

#include <coroutine>

#include "pyconc/asyncio/detail/task_core.hpp"

namespace pyconc::detail {

class EventWaitList;

class EventWaiter : public SuspendPoint {
 public:
  bool cancel() noexcept override;

 protected:
  EventWaiter() = default;
  ~EventWaiter();
  // Parks the current task on `list` (RuntimeError outside a task).
  void wait_on(EventWaitList& list, std::coroutine_handle<> h);
  bool parked() const noexcept { return task_ != nullptr; }

 private:
  friend class EventWaitList;
  EventWaitList* list_ = nullptr;
  EventWaiter* next_ = nullptr;
  EventWaiter* prev_ = nullptr;
};

class EventWaitList {
 public:
  EventWaitList() = default;
  EventWaitList(const EventWaitList&) = delete;
  EventWaitList& operator=(const EventWaitList&) = delete;
  ~EventWaitList() { wake_all(); }

  bool empty() const noexcept { return head_ == nullptr; }
  // Schedules every parked task (in parking order) and empties the list.
  void wake_all() noexcept {
    while (head_ != nullptr) {
      EventWaiter* w = head_;
      remove(w);
      w->complete();
    }
  }

 private:
  friend class EventWaiter;
  void push(EventWaiter* w) noexcept {
    w->list_ = this;
    w->next_ = nullptr;
    w->prev_ = tail_;
    if (tail_ != nullptr) {
      tail_->next_ = w;
    } else {
      head_ = w;
    }
    tail_ = w;
  }
  void remove(EventWaiter* w) noexcept {
    if (w->prev_ != nullptr) {
      w->prev_->next_ = w->next_;
    } else {
      head_ = w->next_;
    }
    if (w->next_ != nullptr) {
      w->next_->prev_ = w->prev_;
    } else {
      tail_ = w->prev_;
    }
    w->next_ = w->prev_ = nullptr;
    w->list_ = nullptr;
  }

  EventWaiter* head_ = nullptr;
  EventWaiter* tail_ = nullptr;
};

inline EventWaiter::~EventWaiter() {
  if (list_ != nullptr) list_->remove(this);
}

inline void EventWaiter::wait_on(EventWaitList& list, std::coroutine_handle<> h) {
  park(h);
  list.push(this);
}

inline bool EventWaiter::cancel() noexcept {
  if (!cancellable()) return false;
  if (list_ != nullptr) list_->remove(this);
  return cancelled_now();
}

// Parks the current task until `list` is woken (the caller re-checks its condition).
class EventAwaiter final : public EventWaiter {
 public:
  explicit EventAwaiter(EventWaitList& list) noexcept : target_(&list) {}
  EventAwaiter(EventAwaiter&& o) noexcept : target_(o.target_) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { wait_on(*target_, h); }
  void await_resume() { resume_check(); }

 private:
  EventWaitList* target_;
};

}  // namespace pyconc::detail
