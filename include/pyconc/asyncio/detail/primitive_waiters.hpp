// pyconc/asyncio/detail/primitive_waiters.hpp -- the intrusive FIFO of parked tasks behind every
// asyncio primitive (Lock, Event, Condition, Semaphore, Barrier, Queue). For tasks that wait for
// an event of an I/O object (drained, closed, exited), all woken together: event_waiters.hpp.
//
// The node is the awaiter itself (it lives in the awaiting coroutine's frame), so parking a
// task on a primitive allocates nothing; linking, unlinking from anywhere in the list and
// popping the oldest are O(1). A node knows the list it is in, which lets an awaiter that is
// cancelled or destroyed unregister itself without searching.
//
// Orphans: when a list is destroyed (its primitive went away) while nodes are still linked,
// each node is marked orphaned() and unlinked. An orphaned awaiter never touches its primitive
// again: it stays parked until its task is cancelled, and raises RuntimeError if it was already
// woken. This turns "a task still waits on a queue that main() destroyed" -- harmless in Python,
// where the waiter keeps the queue alive -- into a clean error instead of a use-after-free.
//
// An awaiter with two hooks (Condition's waiter is in the condition's list, then in its lock's)
// derives from WaitHook<Tag> twice with different tags.
//
// Thread safety: loop-thread only, like the primitives.
#pragma once

#include <coroutine>
#include <cstddef>
#include <string>
#include <utility>

#include "pyconc/asyncio/detail/task_core.hpp"
#include "pyconc/asyncio/held.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::detail {

template <class Tag>
class WaitListBase;

template <class Tag = void>
class WaitHook {
 public:
  bool linked() const noexcept { return list_ != nullptr; }
  bool in(const WaitListBase<Tag>& list) const noexcept { return list_ == &list; }
  bool orphaned() const noexcept { return orphaned_; }
  // Removes the node from whatever list holds it (a no-op when unlinked).
  void unlink() noexcept {
    if (list_ != nullptr) list_->erase(*this);
  }

 protected:
  WaitHook() = default;
  ~WaitHook() = default;
  WaitHook(const WaitHook&) = delete;
  WaitHook& operator=(const WaitHook&) = delete;

 private:
  friend class WaitListBase<Tag>;
  WaitHook* prev_ = nullptr;
  WaitHook* next_ = nullptr;
  WaitListBase<Tag>* list_ = nullptr;
  bool orphaned_ = false;
};

template <class Tag>
class WaitListBase {
 public:
  using Hook = WaitHook<Tag>;

  WaitListBase() = default;
  WaitListBase(const WaitListBase&) = delete;
  WaitListBase& operator=(const WaitListBase&) = delete;
  ~WaitListBase() {
    while (head_ != nullptr) pop_hook()->orphaned_ = true;
  }

  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }

  void erase(Hook& h) noexcept {
    if (h.prev_ != nullptr) {
      h.prev_->next_ = h.next_;
    } else {
      head_ = h.next_;
    }
    if (h.next_ != nullptr) {
      h.next_->prev_ = h.prev_;
    } else {
      tail_ = h.prev_;
    }
    h.prev_ = h.next_ = nullptr;
    h.list_ = nullptr;
    --size_;
  }

 protected:
  void push_hook(Hook& h) noexcept {
    h.list_ = this;
    h.next_ = nullptr;
    h.prev_ = tail_;
    if (tail_ != nullptr) {
      tail_->next_ = &h;
    } else {
      head_ = &h;
    }
    tail_ = &h;
    ++size_;
  }
  Hook* pop_hook() noexcept {
    Hook* h = head_;
    if (h != nullptr) erase(*h);
    return h;
  }
  Hook* head() const noexcept { return head_; }

 private:
  Hook* head_ = nullptr;
  Hook* tail_ = nullptr;
  std::size_t size_ = 0;
};

// A FIFO of T, where T derives (publicly, once) from WaitHook<Tag>.
template <class T, class Tag = void>
class WaitList : public WaitListBase<Tag> {
  using Base = WaitListBase<Tag>;
  using Hook = WaitHook<Tag>;

 public:
  void push_back(T& node) noexcept { Base::push_hook(static_cast<Hook&>(node)); }
  T* front() const noexcept { return cast(Base::head()); }
  // The oldest node, unlinked; null when empty.
  T* pop_front() noexcept { return cast(Base::pop_hook()); }
  void erase(T& node) noexcept { Base::erase(static_cast<Hook&>(node)); }
  bool contains(const T& node) const noexcept { return static_cast<const Hook&>(node).in(*this); }

 private:
  static T* cast(Hook* h) noexcept { return h != nullptr ? static_cast<T*>(h) : nullptr; }
};

// The suspension-point half shared by the primitives' awaiters: lets the primitive wake the
// parked task (SuspendPoint::complete is for the awaiter itself).
class PrimitiveWaiter : public SuspendPoint {
 public:
  void wake() noexcept { complete(); }
  bool parked() const noexcept { return task_ != nullptr; }

 protected:
  PrimitiveWaiter() = default;
  ~PrimitiveWaiter() = default;

  // await_resume of an awaiter whose primitive was destroyed while it waited: CancelledError
  // if the task was cancelled meanwhile, else RuntimeError naming the primitive.
  [[noreturn]] void throw_orphaned(const char* primitive) {
    resume_check();
    throw RuntimeError(std::string("asyncio.") + primitive +
                       " was destroyed while a task was waiting on it");
  }
};

// A waiter in one primitive's wait list, cancelled by leaving it (no wake-up to pass on while
// it was not woken). Primitives whose waiters must do more on cancel override cancel().
class ListWaiter : public PrimitiveWaiter, public WaitHook<> {
 public:
  bool cancel() noexcept override {
    if (!cancellable()) return false;  // woken already: resolved when the task resumes
    unlink();                          // a no-op when orphaned
    return cancelled_now();
  }

 protected:
  ListWaiter() = default;
  // Only before the awaiter is used (awaitables may be moved into a combinator).
  ListWaiter(ListWaiter&&) noexcept : PrimitiveWaiter(), WaitHook<>() {}
  ~ListWaiter() = default;
};

// `co_await m.acquire()` / `co_await m.lock()` for a Lock or a Semaphore: Waiter provides
// try_take() (the no-wait path), enqueue(h) and take_after_wake(); the guard flavour returns
// an asyncio::Held<M>.
template <class Waiter, class M, bool Guard>
class [[nodiscard]] AcquireAwaiter final : public Waiter {
 public:
  explicit AcquireAwaiter(M& m) noexcept : Waiter(m), m_(&m) {}
  AcquireAwaiter(AcquireAwaiter&& o) noexcept : Waiter(std::move(o)), m_(o.m_) {}

  bool await_ready() { return this->try_take(); }  // may throw: a Lock's debug-mode check
  void await_suspend(std::coroutine_handle<> h) { this->enqueue(h); }
  auto await_resume() {
    if (this->parked()) this->take_after_wake();
    if constexpr (Guard) return asyncio::Held<M>(*m_);
  }

 private:
  M* m_;
};

}  // namespace pyconc::detail
