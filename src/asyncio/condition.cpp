// aio::Condition: wait (release, wait for a notify, re-acquire), notify, cancellation.
#include "pyconc/asyncio/condition.hpp"

namespace pyconc::asyncio {

void Condition::notify(int n) {
  if (!locked()) throw RuntimeError("cannot notify on un-acquired lock");
  if (n > 0) wake(static_cast<std::size_t>(n));
}

void Condition::notify_all() {
  if (!locked()) throw RuntimeError("cannot notify on un-acquired lock");
  wake(waiting_.size());
}

void Condition::wake(std::size_t n) noexcept {
  for (; n > 0; --n) {
    detail::CondWaiter* w = waiting_.pop_front();
    if (w == nullptr) return;
    w->notified_ = true;
    w->to_lock();
  }
}

}  // namespace pyconc::asyncio

namespace pyconc::detail {

using CondHook = WaitHook<CondTag>;
using LockHook = WaitHook<>;

CondWaiter::CondWaiter(asyncio::Condition& c) noexcept : LockWaiter(*c.lock_), cond_(&c) {}

CondWaiter::CondWaiter(CondWaiter&& o) noexcept
    : LockWaiter(std::move(o)), CondHook(), cond_(o.cond_) {}

bool CondWaiter::await_ready() {
  if (!cond_->locked()) throw RuntimeError("cannot wait on un-acquired lock");
  return false;
}

void CondWaiter::await_suspend(std::coroutine_handle<> h) {
  (void)current_task();
  cond_->lock_->release();
  cond_->waiting_.push_back(*this);
  park(h);
}

void CondWaiter::to_lock() noexcept {
  CondHook::unlink();
  cond_->relocking_.push_back(*this);
  relocking_ = true;
  asyncio::Lock& lock = *lock_;
  if (lock.free_for_newcomer()) {
    // Take it on the task's behalf; the node sits in woken_ as the owner until the task runs.
    lock.locked_ = true;
    owns_ = true;
    lock.woken_.push_back(*this);
    wake();
  } else {
    lock.waiting_.push_back(*this);
  }
}

bool CondWaiter::cancel() noexcept {
  if (!cancellable()) return false;  // holds the lock already: CancelledError at resume
  if (relocking_) return false;      // Python re-acquires the lock before raising
  if (CondHook::orphaned()) return cancelled_now();
  cancelled_ = true;  // raised once the lock is ours again
  to_lock();
  return true;
}

bool CondWaiter::await_resume() {
  if (LockHook::orphaned()) throw_orphaned("Lock");
  asyncio::Lock& lock = *lock_;
  // Resumed without the lock only when the condition was destroyed while we waited for a
  // notify and then the task was cancelled.
  if (!lock.woken_.contains(*this)) throw_orphaned("Condition");
  lock.woken_.erase(*this);
  lock.locked_ = true;
  if (lock_order_checking()) [[unlikely]]
    lock.note_taken();  // re-acquired: held again
  owns_ = false;
  const bool cond_alive = CondHook::linked();  // in relocking_ (else the condition is gone)
  CondHook::unlink();
  try {
    resume_check();
  } catch (...) {
    // Python 3.13: a waiter that was notified but raises instead of returning hands the
    // notification to another waiter, so it is not lost.
    if (notified_ && cond_alive) cond_->wake(1);
    throw;
  }
  return true;
}

CondWaiter::~CondWaiter() {
  // A frame destroyed while parked: pass a notification on (the lock side is ~LockWaiter's).
  const bool cond_alive = CondHook::linked();
  CondHook::unlink();
  if (notified_ && cond_alive) cond_->wake(1);
}

}  // namespace pyconc::detail
