// pyconc/detail/queue_stores.hpp -- the ordering policies of the queues: which item get()
// takes. FifoStore (Queue, SimpleQueue), LifoStore (LifoQueue), PriorityStore (PriorityQueue).
//
// A store is a single-threaded container; BasicQueue calls it only with its lock held, except
// size_hint(). Interface: value_type; push(args...) constructs an item in place;
// pop_into(optional&) moves the next item out; size(); size_hint(), the same count readable
// without the lock (a relaxed atomic, only ever written under the lock); take_all() removes
// every item and returns them in an object the caller destroys later (outside the lock). Each gives
// the strong guarantee for push and pop_into when T's move constructor does not throw: a failed
// call changes nothing.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace pyconc::detail {

// First in, first out (Python: collections.deque, append / popleft). A ring buffer whose
// capacity is a power of two: 32 bytes, so that the queue's lock, counters and this store
// share one cache line -- a hand-off between threads then moves that line and the item's
// slot, nothing else. It grows by doubling when full and halves when a quarter full (above 64
// slots), so a burst does not pin its peak memory for the queue's lifetime.
template <class T>
class FifoStore {
 public:
  using value_type = T;
  using container_type = FifoStore;

  FifoStore() noexcept = default;
  FifoStore(FifoStore&& other) noexcept
      : slots_(std::exchange(other.slots_, nullptr)),
        capacity_(std::exchange(other.capacity_, 0)),
        head_(std::exchange(other.head_, 0)),
        count_(other.count_.exchange(0, std::memory_order_relaxed)) {}
  FifoStore& operator=(FifoStore&& other) noexcept {
    FifoStore(std::move(other)).swap(*this);
    return *this;
  }
  FifoStore(const FifoStore&) = delete;
  FifoStore& operator=(const FifoStore&) = delete;
  ~FifoStore() { release(); }

  template <class... Args>
  void push(Args&&... args) {
    const std::size_t count = size();
    if (count == capacity_) relocate(capacity_ == 0 ? kMinCapacity : capacity_ * 2);
    std::construct_at(slots_ + ((head_ + count) & (capacity_ - 1)), std::forward<Args>(args)...);
    count_.store(count + 1, std::memory_order_relaxed);
  }

  void pop_into(std::optional<T>& out) {
    T* slot = slots_ + head_;
    out.emplace(std::move(*slot));
    std::destroy_at(slot);
    head_ = (head_ + 1) & (capacity_ - 1);
    const std::size_t count = size() - 1;
    count_.store(count, std::memory_order_relaxed);
    if (capacity_ > kShrinkAbove && count <= capacity_ / 4) {
      try {
        relocate(capacity_ / 2);
      } catch (...) {
        // Shrinking is an optimisation: keep the larger buffer if it cannot be done.
      }
    }
  }

  std::size_t size() const noexcept { return count_.load(std::memory_order_relaxed); }
  std::size_t size_hint() const noexcept { return count_.load(std::memory_order_relaxed); }

  container_type take_all() noexcept { return FifoStore(std::move(*this)); }

  void swap(FifoStore& other) noexcept {
    std::swap(slots_, other.slots_);
    std::swap(capacity_, other.capacity_);
    std::swap(head_, other.head_);
    const std::size_t count = count_.load(std::memory_order_relaxed);
    count_.store(other.count_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    other.count_.store(count, std::memory_order_relaxed);
  }

 private:
  static constexpr std::size_t kMinCapacity = 8;
  static constexpr std::size_t kShrinkAbove = 64;

  // Moves the items, oldest first, into a new buffer of `capacity` (>= count_) slots. On an
  // exception the store is unchanged (if T's move may throw and T is copyable, items are
  // copied, as std::vector does).
  void relocate(std::size_t capacity) {
    std::allocator<T> alloc;
    T* fresh = alloc.allocate(capacity);
    const std::size_t count = size();
    std::size_t done = 0;
    try {
      for (; done < count; ++done) {
        std::construct_at(fresh + done,
                          std::move_if_noexcept(slots_[(head_ + done) & (capacity_ - 1)]));
      }
    } catch (...) {
      std::destroy_n(fresh, done);
      alloc.deallocate(fresh, capacity);
      throw;
    }
    release();
    slots_ = fresh;
    capacity_ = capacity;
    count_.store(count, std::memory_order_relaxed);
  }

  // Destroys every item and frees the buffer.
  void release() noexcept {
    const std::size_t count = size();
    for (std::size_t i = 0; i < count; ++i) {
      std::destroy_at(slots_ + ((head_ + i) & (capacity_ - 1)));
    }
    if (slots_ != nullptr) std::allocator<T>().deallocate(slots_, capacity_);
    slots_ = nullptr;
    capacity_ = 0;
    head_ = 0;
    count_.store(0, std::memory_order_relaxed);
  }

  T* slots_ = nullptr;
  std::size_t capacity_ = 0;  // 0 or a power of two
  std::size_t head_ = 0;      // slot of the oldest item
  std::atomic<std::size_t> count_{0};
};

// Last in, first out (Python: list, append / pop).
template <class T>
class LifoStore {
 public:
  using value_type = T;
  using container_type = std::vector<T>;

  template <class... Args>
  void push(Args&&... args) {
    items_.emplace_back(std::forward<Args>(args)...);
    count_.store(items_.size(), std::memory_order_relaxed);
  }
  void pop_into(std::optional<T>& out) {
    out.emplace(std::move(items_.back()));
    items_.pop_back();
    count_.store(items_.size(), std::memory_order_relaxed);
  }
  std::size_t size() const noexcept { return items_.size(); }
  std::size_t size_hint() const noexcept { return count_.load(std::memory_order_relaxed); }
  container_type take_all() noexcept {
    count_.store(0, std::memory_order_relaxed);
    return std::exchange(items_, container_type());
  }

 private:
  container_type items_;
  std::atomic<std::size_t> count_{0};
};

// Smallest first according to Compare (Python: heapq.heappush / heappop on a list): a binary
// min-heap in a vector, sifted by hand (heapq's algorithm; std::push_heap would cost every
// includer <algorithm>). Items that compare equal come out in no particular order, as in
// Python. The comparator must not throw, or the heap may be left unordered.
template <class T, class Compare>
class PriorityStore {
 public:
  using value_type = T;
  using container_type = std::vector<T>;

  PriorityStore() = default;
  explicit PriorityStore(Compare compare) : compare_(std::move(compare)) {}

  template <class... Args>
  void push(Args&&... args) {
    items_.emplace_back(std::forward<Args>(args)...);
    sift_up(items_.size() - 1);
    count_.store(items_.size(), std::memory_order_relaxed);
  }
  void pop_into(std::optional<T>& out) {
    out.emplace(std::move(items_.front()));
    if (items_.size() > 1) items_.front() = std::move(items_.back());
    items_.pop_back();
    sift_down(0);
    count_.store(items_.size(), std::memory_order_relaxed);
  }
  std::size_t size() const noexcept { return items_.size(); }
  std::size_t size_hint() const noexcept { return count_.load(std::memory_order_relaxed); }
  // Hands over the items only: the comparator stays.
  container_type take_all() noexcept {
    count_.store(0, std::memory_order_relaxed);
    return std::exchange(items_, container_type());
  }

 private:
  // Moves items_[i] up while it is smaller than its parent.
  void sift_up(std::size_t i) {
    using std::swap;
    while (i > 0) {
      const std::size_t parent = (i - 1) / 2;
      if (!compare_(items_[i], items_[parent])) break;
      swap(items_[i], items_[parent]);
      i = parent;
    }
  }
  // Moves items_[i] down while a child is smaller than it.
  void sift_down(std::size_t i) {
    using std::swap;
    const std::size_t n = items_.size();
    for (;;) {
      std::size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && compare_(items_[child + 1], items_[child])) ++child;
      if (!compare_(items_[child], items_[i])) break;
      swap(items_[i], items_[child]);
      i = child;
    }
  }

  container_type items_;
  std::atomic<std::size_t> count_{0};
  [[no_unique_address]] Compare compare_{};
};

}  // namespace pyconc::detail
