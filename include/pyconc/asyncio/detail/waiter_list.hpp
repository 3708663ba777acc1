// pyconc/asyncio/detail/waiter_list.hpp -- tasks parked until an event of an object (a stream
// drained, a connection or server closed, a process exited): an intrusive FIFO of awaiters.
//
// A ListedWaiter lives in the awaiting coroutine's frame; parking links it (no allocation),
// wake_all() unlinks and schedules every one, cancel() unlinks only the cancelled one.
//   struct MyAwaiter : ListedWaiter {
//     bool await_ready() { return event_happened; }
//     void await_suspend(std::coroutine_handle<> h) { wait_on(list, h); }
//     void await_resume() { resume_check(); }
//   };
// Thread safety: loop-thread only.
#pragma once

#include <coroutine>

#include "pyconc/asyncio/detail/task_core.hpp"

namespace pyconc::detail {

class WaiterList;

class ListedWaiter : public SuspendPoint {
 public:
  bool cancel() noexcept override;

 protected:
  ListedWaiter() = default;
  ~ListedWaiter();
  // Parks the current task on `list` (RuntimeError outside a task).
  void wait_on(WaiterList& list, std::coroutine_handle<> h);
  bool parked() const noexcept { return task_ != nullptr; }

 private:
  friend class WaiterList;
  WaiterList* list_ = nullptr;
  ListedWaiter* next_ = nullptr;
  ListedWaiter* prev_ = nullptr;
};

class WaiterList {
 public:
  WaiterList() = default;
  WaiterList(const WaiterList&) = delete;
  WaiterList& operator=(const WaiterList&) = delete;
  ~WaiterList() { wake_all(); }

  bool empty() const noexcept { return head_ == nullptr; }
  // Schedules every parked task (in parking order) and empties the list.
  void wake_all() noexcept {
    while (head_ != nullptr) {
      ListedWaiter* w = head_;
      remove(w);
      w->complete();
    }
  }

 private:
  friend class ListedWaiter;
  void push(ListedWaiter* w) noexcept {
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
  void remove(ListedWaiter* w) noexcept {
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

  ListedWaiter* head_ = nullptr;
  ListedWaiter* tail_ = nullptr;
};

inline ListedWaiter::~ListedWaiter() {
  if (list_ != nullptr) list_->remove(this);
}

inline void ListedWaiter::wait_on(WaiterList& list, std::coroutine_handle<> h) {
  park(h);
  list.push(this);
}

inline bool ListedWaiter::cancel() noexcept {
  if (!cancellable()) return false;
  if (list_ != nullptr) list_->remove(this);
  return cancelled_now();
}

// Parks the current task until `list` is woken (the caller re-checks its condition).
class ListAwaiter final : public ListedWaiter {
 public:
  explicit ListAwaiter(WaiterList& list) noexcept : target_(&list) {}
  ListAwaiter(ListAwaiter&& o) noexcept : target_(o.target_) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) { wait_on(*target_, h); }
  void await_resume() { resume_check(); }

 private:
  WaiterList* target_;
};

}  // namespace pyconc::detail
