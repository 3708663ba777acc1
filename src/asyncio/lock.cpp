// aio::Lock: the waiting side (queueing, hand-over, cancellation, abandoned waiters).
#include "pyconc/asyncio/lock.hpp"

namespace pyconc::detail {
namespace {

// The running task as a lock holder (the thread when no task runs).
LockHolder current_holder() noexcept {
  LoopCore* loop = LoopCore::running();
  TaskCore* task = loop != nullptr ? loop->current_task() : nullptr;
  if (task == nullptr) return {};
  return {task,
          [](const void* t) { return "task '" + static_cast<const TaskCore*>(t)->name() + "'"; }};
}

}  // namespace

void lock_order_check(const asyncio::Lock& lock) {
  lock_order_acquiring(&lock, LockKind::asyncio_lock, current_holder());
}

}  // namespace pyconc::detail

namespace pyconc::asyncio {

void Lock::note_taken() noexcept {
  detail::lock_order_acquired(this, detail::LockKind::asyncio_lock, detail::current_holder());
}

void Lock::wake_first() noexcept {
  // A woken waiter that has not run yet still has the hand-over: waking a second one would let
  // two tasks believe they may take the lock.
  if (!woken_.empty()) return;
  detail::LockWaiter* w = waiting_.pop_front();
  if (w == nullptr) return;
  woken_.push_back(*w);
  w->wake();
}

}  // namespace pyconc::asyncio

namespace pyconc::detail {

void LockWaiter::enqueue(std::coroutine_handle<> h) {
  (void)current_task();  // RuntimeError outside a task, before anything is registered
  lock_->waiting_.push_back(*this);
  park(h);
}

void LockWaiter::take_after_wake() {
  if (orphaned()) throw_orphaned("Lock");
  if (!lock_->woken_.contains(*this)) {
    // Cancelled before the lock was handed over: cancel() already left the queue.
    resume_check();  // throws CancelledError
    throw RuntimeError("asyncio.Lock: a waiter resumed without being handed the lock");
  }
  asyncio::Lock& lock = *lock_;
  lock.woken_.erase(*this);
  try {
    resume_check();
  } catch (...) {
    // Python: "ensure that the task at the head will run" -- the wake-up we were given goes
    // to the next waiter instead of being lost with us.
    if (!lock.locked_) lock.wake_first();
    throw;
  }
  lock.locked_ = true;
  if (lock_order_checking()) [[unlikely]]
    lock.note_taken();
}

LockWaiter::~LockWaiter() {
  // Only a linked node may touch the lock (an unlinked one may outlive it). A node still linked
  // here belongs to a coroutine frame destroyed while it was parked.
  if (!linked()) return;
  asyncio::Lock& lock = *lock_;
  if (lock.woken_.contains(*this)) {
    lock.woken_.erase(*this);
    if (owns_) lock.locked_ = false;
    if (!lock.locked_) lock.wake_first();
  } else {
    unlink();
  }
}

}  // namespace pyconc::detail
