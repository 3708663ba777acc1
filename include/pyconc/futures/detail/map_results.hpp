// pyconc/futures/detail/map_results.hpp -- the result ranges of map(), shared by the executors
// (futures/executor.hpp) and the process pools (multiprocessing/pool.hpp,
// multiprocessing/process_pool_executor.hpp), which include this header alone instead of the
// whole Executor interface.
//
// - MapOptions: map()'s keyword arguments (timeout, chunksize).
// - MapSlot: one result of a chunk.
// - MapResult<R>: the results of map() in input order, with map()'s timeout; the range behind
//   Executor::map, ProcessPoolExecutor::map and Pool::imap (multiprocessing::IMapIterator).
// - detail::ResultIterator: the input iterator of a result range that hands out position i
//   through its owner's get(i) (MapResult, and Pool::imap_unordered's range).
//
// Thread safety: a range is iterated by one thread; its futures may complete on any thread.
#pragma once

#include <cstddef>
#include <iterator>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "pyconc/detail/deadline.hpp"
#include "pyconc/future.hpp"

namespace pyconc::detail {

// The iterator of a result range: position `index` of `Owner`, read with owner->get(index). The
// end iterator's position is owner->end_position() when compared, so a range whose length
// shrinks while it is iterated (imap_unordered: a failed chunk takes one position) still ends.
template <class Owner, class Stored>
class ResultIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Stored;
  using difference_type = std::ptrdiff_t;
  using reference = Stored&;
  ResultIterator() = default;
  ResultIterator(Owner* owner, std::size_t index, bool end)
      : owner_(owner), index_(index), end_(end) {}
  Stored& operator*() const { return owner_->get(index_); }
  ResultIterator& operator++() {
    ++index_;
    return *this;
  }
  void operator++(int) { ++index_; }
  friend bool operator==(const ResultIterator& a, const ResultIterator& b) {
    return position(a, b) == position(b, a);
  }

 private:
  static std::size_t position(const ResultIterator& it, const ResultIterator& other) {
    if (!it.end_) return it.index_;
    const Owner* o = it.owner_ != nullptr ? it.owner_ : other.owner_;
    return o != nullptr ? o->end_position() : 0;
  }
  Owner* owner_ = nullptr;
  std::size_t index_ = 0;
  bool end_ = false;
};

}  // namespace pyconc::detail

namespace pyconc::futures {

// map()'s keyword arguments.
struct MapOptions {
  std::optional<detail::Clock::duration> timeout{};  // counted from the map() call
  std::size_t chunksize = 1;                         // items per task; ValueError if 0
};

// One result of a map() chunk (a struct, so that a chunk of bools is not a std::vector<bool>).
template <class Stored>
struct MapSlot {
  Stored value;
};

// The range map() returns: yields each result in input order, as a reference to the value
// held by the range (`auto&`, `const auto&` and `auto` all work; std::move it out if you like).
// Iterate it once. Destroying it after iteration began but before it ended cancels the items
// not yet started, like closing Python's map generator; a range never iterated cancels nothing.
template <class R>
class MapResult {
 public:
  using Stored = std::conditional_t<std::is_void_v<R>, std::monostate, R>;
  using Chunk = std::vector<MapSlot<Stored>>;
  using value_type = Stored;
  using iterator = detail::ResultIterator<MapResult, Stored>;

  // chunksize > 1: one future per chunk of results.
  MapResult(std::vector<Future<Chunk>> chunks, std::size_t size, std::size_t chunksize,
            std::optional<detail::Clock::time_point> deadline)
      : chunks_(std::move(chunks)), size_(size), chunksize_(chunksize), deadline_(deadline) {}
  // chunksize == 1: one future per item (no per-item vector).
  MapResult(std::vector<Future<MapSlot<Stored>>> singles,
            std::optional<detail::Clock::time_point> deadline)
      : singles_(std::move(singles)), size_(singles_.size()), deadline_(deadline) {}
  // An empty range, to be assigned later (Python: `results = executor.map(...)` in a block).
  MapResult() = default;
  MapResult(MapResult&& other) noexcept { *this = std::move(other); }
  MapResult& operator=(MapResult&& other) noexcept {
    if (this != &other) {
      cancel_unstarted();
      chunks_ = std::move(other.chunks_);
      singles_ = std::move(other.singles_);
      size_ = std::exchange(other.size_, 0);
      chunksize_ = other.chunksize_;
      deadline_ = other.deadline_;
      started_ = std::exchange(other.started_, false);
      consumed_ = std::exchange(other.consumed_, 0);
    }
    return *this;
  }
  MapResult(const MapResult&) = delete;
  MapResult& operator=(const MapResult&) = delete;
  ~MapResult() { cancel_unstarted(); }

  iterator begin() {
    started_ = true;
    return iterator(this, 0, false);
  }
  iterator end() { return iterator(this, size_, true); }
  std::size_t size() const noexcept { return size_; }

  // All results as a vector (Python: list(executor.map(...))).
  std::vector<Stored> to_vector() {
    std::vector<Stored> out;
    out.reserve(size_);
    for (auto&& v : *this) out.push_back(std::move(v));
    return out;
  }

 private:
  friend iterator;

  std::size_t end_position() const noexcept { return size_; }

  Stored& get(std::size_t i) {
    if (consumed_ < i + 1) consumed_ = i + 1;
    if (!singles_.empty()) {
      auto& f = singles_[i];
      return (deadline_ ? f.result(detail::remaining(*deadline_)) : f.result()).value;
    }
    auto& chunk = chunks_[i / chunksize_];
    Chunk& values = deadline_ ? chunk.result(detail::remaining(*deadline_)) : chunk.result();
    return values[i % chunksize_].value;
  }

  void cancel_unstarted() noexcept {
    if (!started_ || consumed_ >= size_) return;
    for (auto& c : chunks_) c.cancel();
    for (auto& f : singles_) f.cancel();
  }

  std::vector<Future<Chunk>> chunks_;
  std::vector<Future<MapSlot<Stored>>> singles_;
  std::size_t size_ = 0;
  std::size_t chunksize_ = 1;
  std::optional<detail::Clock::time_point> deadline_;
  bool started_ = false;
  std::size_t consumed_ = 0;  // items reached by the iteration
};

}  // namespace pyconc::futures
