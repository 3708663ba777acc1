// pyconc/multiprocessing/shareable_list.hpp -- ShareableList: a fixed-length list in a named
// shared memory block.
//
// Python: multiprocessing.shared_memory.ShareableList.
//   namespace shm = pyconc::multiprocessing::shared_memory;
//   shm::ShareableList a({1, 2.5, "hello", true, nullptr});   // ShareableList([1, 2.5, "hello", True, None])
//   shm::ShareableList b(a.shm().name());                     // attach by name (any process)
//   b.set(0, 42); std::get<std::int64_t>(a[0]);               // 42
//   a.size(); a.count(42); a.index("hello"); a.format();      // "q d 8s ? x" (Python's letters)
//   a.shm().close(); a.shm().unlink();
//
// Items are Python's: None (nullptr_t / std::monostate), int (std::int64_t), float (double),
// bool and str/bytes (std::string). The length is fixed at creation; each slot keeps its size:
// a number or bool takes 8 bytes, a string the multiple of 8 at or above its length at
// creation. set(i, v) may change an item's type (as Python) if the new value fits the slot:
// a longer string is a ValueError ("exceeds available storage"), as is an index out of range
// (IndexError). The layout (an item count, per-item kind, length and offset, then the slots)
// is pyconc's own: it is not Python's byte format, so a CPython process cannot attach.
//
// Thread safety: none, as in Python -- the bytes are shared memory that any attached process
// may change at any time: synchronise with an mp::Lock. The block belongs to its creator
// (tracked by the resource tracker; unlink() when done).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pyconc/multiprocessing/shared_memory.hpp"

namespace pyconc::multiprocessing::shared_memory {

// One item: None, int, float, bool or str/bytes.
using ShareableItem = std::variant<std::monostate, std::int64_t, double, bool, std::string>;

// Builds items from C++ values: nullptr -> None, integers -> int, floating -> float,
// bool -> bool, strings -> str.
struct ShareableValue {
  ShareableItem item;
  ShareableValue(std::nullptr_t) : item(std::monostate{}) {}    // NOLINT: implicit, as a literal
  ShareableValue(bool b) : item(b) {}                           // NOLINT
  ShareableValue(int v) : item(std::int64_t{v}) {}              // NOLINT
  ShareableValue(long v) : item(std::int64_t{v}) {}             // NOLINT
  ShareableValue(long long v) : item(std::int64_t{v}) {}        // NOLINT
  ShareableValue(double v) : item(v) {}                         // NOLINT
  ShareableValue(const char* s) : item(std::string(s)) {}       // NOLINT
  ShareableValue(std::string s) : item(std::move(s)) {}         // NOLINT
  ShareableValue(std::string_view s) : item(std::string(s)) {}  // NOLINT
  ShareableValue(ShareableItem i) : item(std::move(i)) {}       // NOLINT
};

class ShareableList {
 public:
  // Creates a block holding `items` (name: a fresh random one, or `name`).
  ShareableList(std::initializer_list<ShareableValue> items, std::string name = {});
  explicit ShareableList(const std::vector<ShareableValue>& items, std::string name = {});
  // Attaches to the list in block `name`. ValueError if the block does not hold one.
  explicit ShareableList(std::string_view name);

  std::size_t size() const noexcept { return count_; }
  // The item at i (IndexError out of range; negative i counts from the end, as Python).
  ShareableItem operator[](std::ptrdiff_t i) const;
  // Replaces item i (IndexError; ValueError if a string does not fit its slot).
  void set(std::ptrdiff_t i, ShareableValue value);
  // Python: count(value), index(value) (ValueError if absent).
  std::size_t count(const ShareableValue& value) const;
  std::size_t index(const ShareableValue& value) const;
  // Python's struct letters of the current items, space-separated ("q d 8s ? x").
  std::string format() const;
  std::vector<ShareableItem> to_vector() const;

  SharedMemory& shm() noexcept { return shm_; }
  const SharedMemory& shm() const noexcept { return shm_; }

 private:
  std::size_t slot(std::ptrdiff_t i) const;
  SharedMemory shm_;
  std::size_t count_ = 0;
};

}  // namespace pyconc::multiprocessing::shared_memory
