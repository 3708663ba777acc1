// Context: the thread's current context, entering and leaving, copy-on-write assignment.
#include <algorithm>
#include <atomic>

#include "pyconc/contextvars.hpp"

namespace pyconc::contextvars {

namespace {
// The context a thread starts with (empty, as Python's new threads) and the one entered now
// (null: the thread's own).
thread_local Context thread_context;
thread_local Context* entered_context = nullptr;
std::atomic<std::uint64_t> var_ids{0};
}  // namespace

namespace detail {

std::uint64_t next_var_id() noexcept {
  return var_ids.fetch_add(1, std::memory_order_relaxed) + 1;
}

Context& current() noexcept {
  return entered_context != nullptr ? *entered_context : thread_context;
}

Context* swap_current(Context* c) noexcept {
  Context* prev = entered_context;
  entered_context = c;
  return prev;
}

}  // namespace detail

void Context::assign(std::uint64_t var, std::shared_ptr<const void> value) {
  auto next = std::make_shared<detail::Map>();
  if (map_) {
    next->entries.reserve(map_->entries.size() + 1);
    next->entries = map_->entries;
  }
  auto& e = next->entries;
  auto it = std::lower_bound(e.begin(), e.end(), var,
                             [](const detail::Entry& x, std::uint64_t v) { return x.var < v; });
  const bool present = it != e.end() && it->var == var;
  if (value) {
    if (present) {
      it->value = std::move(value);
    } else {
      e.insert(it, detail::Entry{var, std::move(value)});
    }
  } else if (present) {
    e.erase(it);
  }
  if (e.empty()) {
    map_.reset();  // back to the allocation-free empty context
  } else {
    map_ = std::move(next);
  }
}

Context::Entered::Entered(Context& c) : self(&c), prev(nullptr) {
  if (c.entered_.exchange(true, std::memory_order_acquire)) {
    throw RuntimeError("cannot enter context: <Context> is already entered");
  }
  prev = detail::swap_current(&c);
}

Context::Entered::~Entered() {
  detail::swap_current(prev);
  self->entered_.store(false, std::memory_order_release);
}

}  // namespace pyconc::contextvars
