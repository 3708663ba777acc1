// pyconc/futures/wait.hpp -- wait() and as_completed() over many futures.
//
// Python: concurrent.futures.wait(fs, timeout, return_when) and as_completed(fs, timeout).
//
//   auto [done, not_done] = cf::wait(fs, cf::FIRST_COMPLETED);
//   auto [done, not_done] = cf::wait(fs, 1s, cf::ALL_COMPLETED);
//   for (auto& f : cf::as_completed(fs, 5s)) f.result();
//
// wait() returns when the condition holds (FIRST_COMPLETED: any done; FIRST_EXCEPTION: any
// finished with an exception -- cancelled ones do not count -- or all done; ALL_COMPLETED: all
// done) or the timeout passes, and never raises on timeout: it splits the futures into done and
// not done (Python's sets: each future once, here in input order). as_completed() yields each
// future once as it completes -- those already done first -- and throws TimeoutError("N (of M)
// futures unfinished") from the iteration when the timeout (counted from the call) passes.
// Futures from any executors (or completed by hand) mix freely. `fs` is any range of futures,
// or of pairs keyed by futures (a std::map / std::unordered_map<Future<T>, X>, Python's
// `{pool.submit(...): url}` idiom).
//
// Thread safety: any thread may call these; nothing blocks a future's completion. An
// as_completed range is used by one thread; destroying it early unregisters it.
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/detail/ranges.hpp"
#include "pyconc/future.hpp"

namespace pyconc::detail {

// A hash map from future states to positions, for wait() and as_completed() (out of line, so
// that this header does not cost its includers <unordered_map>). Thread safety: a plain value.
class StateIndex {
 public:
  StateIndex();
  StateIndex(StateIndex&&) noexcept;
  StateIndex& operator=(StateIndex&&) noexcept;
  ~StateIndex();
  // Adds key -> index; returns false (and changes nothing) if key is already there.
  bool insert(const void* key, std::size_t index);
  // Removes key and returns its index. key must be present.
  std::size_t take(const void* key);
  std::size_t size() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Counts completions of the futures it is registered on; threads block on it until it moves.
class CompletionCounter final : public FutureWaiter {
 public:
  void on_done(FutureStateBase& state) noexcept override;
  std::uint32_t count() const noexcept { return count_.load(std::memory_order_acquire); }
  // Blocks while count() == seen; false when the deadline (null: none) passed.
  bool wait_change(std::uint32_t seen, const Clock::time_point* deadline);
  // Futures reported done, in completion order (capacity reserved up front: on_done must not
  // allocate). Guarded by mu.
  std::mutex mu;
  std::vector<FutureStateBase*> finished;

 private:
  std::atomic<std::uint32_t> count_{0};
};

}  // namespace pyconc::detail

namespace pyconc::futures {

enum ReturnWhen { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };

template <class T>
struct DoneAndNotDone {
  std::vector<Future<T>> done;
  std::vector<Future<T>> not_done;
};

}  // namespace pyconc::futures

namespace pyconc::detail {

template <class X>
struct is_future : std::false_type {};
template <class T>
struct is_future<Future<T>> : std::true_type {};

// A range of futures, or of pairs whose first member is a future: Python's idiom
// `futures = {pool.submit(f, x): x for x in xs}; as_completed(futures)` iterates the keys.
template <class Element>
const auto& as_future(const Element& e) {
  if constexpr (is_future<Element>::value) {
    return e;
  } else {
    return e.first;
  }
}

template <class Range>
using future_type = std::remove_cvref_t<decltype(as_future(
    std::declval<const std::remove_cvref_t<std::ranges::range_value_t<Range>>&>()))>;

template <class T, class Range>
std::vector<Future<T>> unique_futures(const Range& fs) {
  std::vector<Future<T>> out;
  StateIndex seen;
  for (const auto& e : fs) {
    const Future<T>& f = as_future(e);
    if (seen.insert(f.state().get(), 0)) out.push_back(f);
  }
  return out;
}

template <class T>
bool wait_satisfied(const std::vector<Future<T>>& fs, futures::ReturnWhen when) {
  std::size_t done = 0;
  for (const auto& f : fs) {
    if (!f.done()) continue;
    ++done;
    if (when == futures::FIRST_COMPLETED) return true;
    if (when == futures::FIRST_EXCEPTION && f.state()->has_exception()) return true;
  }
  return done == fs.size();
}

template <class T>
futures::DoneAndNotDone<T> wait_impl(std::vector<Future<T>> fs, const Clock::time_point* deadline,
                                     futures::ReturnWhen when) {
  if (!wait_satisfied(fs, when)) {
    CompletionCounter counter;
    std::vector<FutureStateBase*> registered;
    registered.reserve(fs.size());
    counter.finished.reserve(fs.size());
    for (const auto& f : fs) {
      if (f.state()->add_waiter(&counter)) registered.push_back(f.state().get());
    }
    for (;;) {
      const std::uint32_t seen = counter.count();
      if (wait_satisfied(fs, when)) break;
      if (!counter.wait_change(seen, deadline)) break;
    }
    for (auto* s : registered) s->remove_waiter(&counter);
  }
  futures::DoneAndNotDone<T> out;
  for (auto& f : fs) (f.done() ? out.done : out.not_done).push_back(std::move(f));
  return out;
}

}  // namespace pyconc::detail

namespace pyconc::futures {

template <class Range>
requires std::ranges::input_range<const Range&>
auto wait(const Range& fs, ReturnWhen return_when = ALL_COMPLETED) {
  using F = detail::future_type<Range>;
  using T = typename F::value_type;
  return detail::wait_impl<T>(detail::unique_futures<T>(fs), nullptr, return_when);
}

template <class Range, class Rep, class Period>
requires std::ranges::input_range<const Range&>
auto wait(const Range& fs, std::chrono::duration<Rep, Period> timeout,
          ReturnWhen return_when = ALL_COMPLETED) {
  using F = detail::future_type<Range>;
  using T = typename F::value_type;
  const auto deadline = detail::deadline_after(timeout);
  return detail::wait_impl<T>(detail::unique_futures<T>(fs), &deadline, return_when);
}

// The range as_completed() returns. Iterate it once.
template <class T>
class AsCompleted {
 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Future<T>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    Future<T>& operator*() const { return owner_->current_; }
    Future<T>* operator->() const { return &owner_->current_; }
    iterator& operator++() {
      owner_->advance();
      return *this;
    }
    void operator++(int) { owner_->advance(); }
    bool at_end() const noexcept { return owner_->exhausted_; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.at_end(); }

   private:
    friend class AsCompleted;
    explicit iterator(AsCompleted* owner) : owner_(owner) {}
    AsCompleted* owner_ = nullptr;
  };

  AsCompleted(std::vector<Future<T>> fs, std::optional<detail::Clock::time_point> deadline)
      : total_(fs.size()), deadline_(deadline), state_(std::make_unique<Shared>()) {
    state_->counter.finished.reserve(fs.size());
    // Already finished futures come first, in input order; the rest as they complete.
    for (auto& f : fs) {
      if (f.done() || !f.state()->add_waiter(&state_->counter)) {
        ready_.push_back(std::move(f));
      } else {
        state_->registered.push_back(f.state().get());
        pending_index_.insert(f.state().get(), pending_.size());
        pending_.push_back(std::move(f));
      }
    }
  }
  AsCompleted(AsCompleted&&) noexcept = default;
  AsCompleted& operator=(AsCompleted&&) = delete;
  ~AsCompleted() {
    if (state_) {
      for (auto* s : state_->registered) s->remove_waiter(&state_->counter);
    }
  }

  iterator begin() {
    if (!started_) {
      started_ = true;
      advance();
    }
    return iterator(this);
  }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  struct Shared {
    detail::CompletionCounter counter;
    std::vector<detail::FutureStateBase*> registered;
  };

  void advance() {
    if (ready_index_ < ready_.size()) {
      current_ = ready_[ready_index_++];
      return;
    }
    if (pending_index_.size() == 0) {
      exhausted_ = true;
      return;
    }
    auto& c = state_->counter;
    for (;;) {
      const std::uint32_t seen = c.count();
      {
        std::lock_guard g(c.mu);
        if (taken_ < c.finished.size()) {
          auto* s = c.finished[taken_++];
          current_ = std::move(pending_[pending_index_.take(s)]);
          return;
        }
      }
      if (!c.wait_change(seen, deadline_ ? &*deadline_ : nullptr)) {
        throw TimeoutError(std::to_string(pending_index_.size()) + " (of " +
                           std::to_string(total_) + ") futures unfinished");
      }
    }
  }

  std::size_t total_;
  std::optional<detail::Clock::time_point> deadline_;
  std::unique_ptr<Shared> state_;  // stable address: it is registered on the futures
  std::vector<Future<T>> ready_;
  std::size_t ready_index_ = 0;
  // Futures not yet done when registered, and where each one's state sits in pending_.
  std::vector<Future<T>> pending_;
  detail::StateIndex pending_index_;
  std::size_t taken_ = 0;
  Future<T> current_;
  bool started_ = false;
  bool exhausted_ = false;
};

template <class Range>
requires std::ranges::input_range<const Range&>
auto as_completed(const Range& fs) {
  using T = typename detail::future_type<Range>::value_type;
  return AsCompleted<T>(detail::unique_futures<T>(fs), std::nullopt);
}

template <class Range, class Rep, class Period>
requires std::ranges::input_range<const Range&>
auto as_completed(const Range& fs, std::chrono::duration<Rep, Period> timeout) {
  using T = typename detail::future_type<Range>::value_type;
  return AsCompleted<T>(detail::unique_futures<T>(fs), detail::deadline_after(timeout));
}

}  // namespace pyconc::futures
