#include "pyconc/future.hpp"

#include <algorithm>
#include <cstdio>

#include "pyconc/detail/exception_info.hpp"
#include "pyconc/detail/futex.hpp"

namespace pyconc::detail {

// State transitions. pending -> running is a lone CAS (no lock: it is on every task's path);
// every transition to a done state happens under mu_, so that callbacks and waiters registered
// under mu_ are never missed. The only transition that can race with one made under mu_ is
// pending -> running, which is why those use CAS too.

bool FutureStateBase::cancel() {
  std::unique_lock lock(mu_);
  auto expected = static_cast<std::uint32_t>(FutureStatus::pending);
  if (!status_.compare_exchange_strong(expected,
                                       static_cast<std::uint32_t>(FutureStatus::cancelled),
                                       std::memory_order_seq_cst)) {
    return expected == static_cast<std::uint32_t>(FutureStatus::cancelled);
  }
  notify_done(lock);
  return true;
}

bool FutureStateBase::set_running_or_notify_cancel() {
  const FutureStatus s = try_set_running();
  if (s == FutureStatus::cancelled) return false;
  if (s != FutureStatus::pending) throw RuntimeError("Future in unexpected state");
  return true;
}

FutureStatus FutureStateBase::try_set_running() noexcept {
  auto expected = static_cast<std::uint32_t>(FutureStatus::pending);
  status_.compare_exchange_strong(expected, static_cast<std::uint32_t>(FutureStatus::running),
                                  std::memory_order_acq_rel, std::memory_order_acquire);
  return static_cast<FutureStatus>(expected);
}

void FutureStateBase::set_exception(std::exception_ptr e) {
  if (!e) throw ValueError("set_exception() needs an exception, not a null exception_ptr");
  std::unique_lock lock(mu_);
  check_can_finish_locked();
  exception_ = std::move(e);
  finish(lock, FutureStatus::finished);
}

void FutureStateBase::check_can_finish_locked() const {
  const auto s = status();
  if (s == FutureStatus::finished)
    throw InvalidStateError("invalid state: future is already finished");
  if (s == FutureStatus::cancelled) throw InvalidStateError("invalid state: future is cancelled");
}

void FutureStateBase::finish(std::unique_lock<std::mutex>& lock, FutureStatus s) {
  // From pending or running; only pending -> running can happen concurrently (lock-free).
  std::uint32_t cur = status_.load(std::memory_order_relaxed);
  while (!status_.compare_exchange_weak(cur, static_cast<std::uint32_t>(s),
                                        std::memory_order_seq_cst, std::memory_order_relaxed)) {
  }
  notify_done(lock);
}

void FutureStateBase::notify_done(std::unique_lock<std::mutex>& lock) {
  // Waiters are told under the lock: remove_waiter() takes it too, so a waiter object is
  // never notified after it was removed (and possibly destroyed).
  for (FutureWaiter* w : waiters_) w->on_done(*this);
  waiters_.clear();
  std::vector<Callback> callbacks;
  callbacks.swap(callbacks_);
  lock.unlock();
  // The seq_cst store above and this seq_cst load pair with the sleeper's seq_cst increment and
  // re-read in wait(): either we see the sleeper, or it sees the new status and does not sleep.
  if (sleepers_.load(std::memory_order_seq_cst) != 0) futex_wake_all(status_);
  for (auto& cb : callbacks) dispatch_callback(cb.fn);
}

bool FutureStateBase::wait(const Clock::time_point* deadline) const {
  if (done()) return true;
  help_while_waiting();
  // A task that is about to finish usually does so within microseconds; parking and being
  // woken costs about as much again, so poll for a short while first.
  if (spin_until([this] { return done(); }, std::chrono::microseconds(20))) return true;
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  bool ok = true;
  for (;;) {
    const std::uint32_t s = status_.load(std::memory_order_seq_cst);
    if (s >= static_cast<std::uint32_t>(FutureStatus::cancelled)) break;
    if (deadline != nullptr && Clock::now() >= *deadline) {
      ok = false;
      break;
    }
    futex_wait(const_cast<std::atomic<std::uint32_t>&>(status_), s, deadline);
  }
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
  return ok;
}

std::exception_ptr FutureStateBase::wait_exception(const Clock::time_point* deadline) const {
  if (!wait(deadline)) throw TimeoutError("future did not finish in time");
  if (status() == FutureStatus::cancelled) throw CancelledError("future was cancelled");
  return exception_;  // written before the release store of `finished`, read after acquire
}

std::uint64_t FutureStateBase::add_callback(unique_function<void()> fn, CallbackKey key) {
  {
    std::lock_guard lock(mu_);
    if (!done()) {
      const std::uint64_t token = next_token_++;
      callbacks_.push_back(Callback{token, std::move(fn), key});
      return token;
    }
  }
  dispatch_callback(fn);
  return 0;
}

std::size_t FutureStateBase::remove_callbacks(CallbackKey key) {
  if (key == nullptr) return 0;
  std::lock_guard lock(mu_);
  return std::erase_if(callbacks_, [&](const Callback& c) { return c.key == key; });
}

void FutureStateBase::dispatch_callback(unique_function<void()>& fn) noexcept {
  run_callback(fn);
}

bool FutureStateBase::remove_callback(std::uint64_t token) {
  std::lock_guard lock(mu_);
  const auto it = std::find_if(callbacks_.begin(), callbacks_.end(),
                               [&](const Callback& c) { return c.token == token; });
  if (it == callbacks_.end()) return false;
  callbacks_.erase(it);
  return true;
}

bool FutureStateBase::add_waiter(FutureWaiter* w) {
  std::lock_guard lock(mu_);
  if (done()) return false;
  waiters_.push_back(w);
  return true;
}

void FutureStateBase::remove_waiter(FutureWaiter* w) {
  std::lock_guard lock(mu_);
  std::erase(waiters_, w);
}

void run_callback(unique_function<void()>& fn) noexcept {
  try {
    fn();
  } catch (...) {
    const auto info = describe_exception(std::current_exception());
    std::fprintf(stderr, "exception calling callback for future:\n%s: %s\n", info.type.c_str(),
                 info.message.c_str());
  }
}

}  // namespace pyconc::detail
