#include "pyconc/threading/condition.hpp"

namespace pyconc::threading {

bool Condition::wait_until_impl(const detail::Clock::time_point* deadline) {
  if (!is_owned()) throw RuntimeError("cannot wait on un-acquired lock");
  Waiter self;
  // Enqueue while still holding the lock: a notify() issued after our release will see us.
  self.linked = true;
  self.prev = tail_;
  (tail_ ? tail_->next : head_) = &self;
  tail_ = &self;

  unsigned saved = 0;
  if (lock_) {
    lock_->release();
  } else {
    saved = rlock_->release_save();
  }

  // Bounded spin, then park. notify() stores 1 with release order after unlinking us.
  if (deadline == nullptr || detail::Clock::now() < *deadline) {
    spin_.spin([&] { return self.signaled.load(std::memory_order_acquire) != 0; });
  }
  while (self.signaled.load(std::memory_order_acquire) == 0) {
    if (deadline != nullptr && detail::Clock::now() >= *deadline) break;
    detail::futex_wait(self.signaled, 0, deadline);
  }

  if (lock_) {
    lock_->acquire_restore();
  } else {
    rlock_->acquire_restore(saved);
  }
  // With the lock held again nobody can notify us concurrently: if we are still queued we
  // timed out and take ourselves off; if not, a notify() picked us and we report success.
  if (self.linked) {
    unlink(&self);
    return false;
  }
  return true;
}

void Condition::unlink(Waiter* w) noexcept {
  (w->prev ? w->prev->next : head_) = w->next;
  (w->next ? w->next->prev : tail_) = w->prev;
  w->prev = w->next = nullptr;
  w->linked = false;
}

void Condition::notify(int n) {
  if (!is_owned()) throw RuntimeError("cannot notify on un-acquired lock");
  while (n-- > 0 && head_ != nullptr) {
    Waiter* w = head_;
    unlink(w);
    // The waiter cannot return (and destroy its node) before it re-acquires the lock we hold,
    // so touching w after the store is safe.
    w->signaled.store(1, std::memory_order_release);
    detail::futex_wake(w->signaled, 1);
  }
}

}  // namespace pyconc::threading
