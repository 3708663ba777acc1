#include "pyconc/threading/local.hpp"

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace pyconc::detail {

namespace {
struct Slots;
}

// One per local<T> object: owns every thread's value. Threads reach it through weak_ptrs, so
// a thread exiting after the local died finds nothing to do.
struct LocalBase::Control {
  struct Value {
    void* ptr;
    Deleter deleter;
  };
  std::uint64_t id;
  std::mutex mu;
  std::unordered_map<const void*, Value> values;  // key: the owning thread's Slots
};

namespace {

std::atomic<std::uint64_t> next_id{1};  // never reused, so stale slots can never match

// Per thread: id of a local -> this thread's value, plus the owner to notify at thread exit.
struct Slots {
  struct Entry {
    void* ptr;
    std::weak_ptr<LocalBase::Control> owner;
  };
  std::unordered_map<std::uint64_t, Entry> entries;
  std::size_t purge_at = 16;

  ~Slots() {
    for (auto& [id, entry] : entries) {
      if (auto control = entry.owner.lock()) release(*control);
    }
  }

  // Hands this thread's value in `control` back for destruction (at thread exit).
  void release(LocalBase::Control& control) {
    LocalBase::Control::Value v{nullptr, nullptr};
    {
      std::lock_guard g(control.mu);
      auto it = control.values.find(this);
      if (it == control.values.end()) return;  // the local was destroyed meanwhile
      v = it->second;
      control.values.erase(it);
    }
    v.deleter(v.ptr);  // outside the lock: the destructor may use other locals
  }

  // Drops entries of locals that no longer exist, so long-lived threads do not accumulate them.
  void purge() {
    for (auto it = entries.begin(); it != entries.end();) {
      it = it->second.owner.expired() ? entries.erase(it) : std::next(it);
    }
    purge_at = entries.size() * 2 + 16;
  }
};

thread_local Slots slots;

}  // namespace

LocalBase::LocalBase() : control_(std::make_shared<Control>()) {
  control_->id = next_id.fetch_add(1, std::memory_order_relaxed);
}

LocalBase::~LocalBase() {
  std::unordered_map<const void*, Control::Value> doomed;
  {
    std::lock_guard g(control_->mu);
    doomed.swap(control_->values);
  }
  for (auto& [thread, v] : doomed) v.deleter(v.ptr);
}

void* LocalBase::find() const noexcept {
  auto it = slots.entries.find(control_->id);
  return it == slots.entries.end() ? nullptr : it->second.ptr;
}

void* LocalBase::adopt(void* value, Deleter deleter) {
  {
    std::lock_guard g(control_->mu);
    control_->values.emplace(&slots, Control::Value{value, deleter});
  }
  if (slots.entries.size() >= slots.purge_at) slots.purge();
  slots.entries[control_->id] = Slots::Entry{value, control_};
  return value;
}

}  // namespace pyconc::detail
