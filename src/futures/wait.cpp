#include "pyconc/futures/wait.hpp"

#include <unordered_map>

#include "pyconc/detail/futex.hpp"

namespace pyconc::detail {

struct StateIndex::Impl {
  std::unordered_map<const void*, std::size_t> map;
};

StateIndex::StateIndex() : impl_(std::make_unique<Impl>()) {}
StateIndex::StateIndex(StateIndex&&) noexcept = default;
StateIndex& StateIndex::operator=(StateIndex&&) noexcept = default;
StateIndex::~StateIndex() = default;

bool StateIndex::insert(const void* key, std::size_t index) {
  return impl_->map.emplace(key, index).second;
}

std::size_t StateIndex::take(const void* key) {
  const auto it = impl_->map.find(key);
  const std::size_t index = it->second;
  impl_->map.erase(it);
  return index;
}

std::size_t StateIndex::size() const noexcept {
  return impl_->map.size();
}

void CompletionCounter::on_done(FutureStateBase& state) noexcept {
  {
    std::lock_guard g(mu);
    finished.push_back(&state);  // capacity was reserved for every registered future
  }
  count_.fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(count_);
}

bool CompletionCounter::wait_change(std::uint32_t seen, const Clock::time_point* deadline) {
  while (count_.load(std::memory_order_acquire) == seen) {
    if (deadline != nullptr && Clock::now() >= *deadline) return false;
    futex_wait(count_, seen, deadline);
  }
  return true;
}

}  // namespace pyconc::detail
