// pyconc/multiprocessing/array.hpp -- a fixed-size array in shared memory: Array and RawArray.
//
// Python: multiprocessing.Array(typecode, size_or_initializer, lock=True) / RawArray.
//
//   mp::Array<int> a{1, 2, 3, 4};           // Array('i', [1, 2, 3, 4]): with an RLock
//   mp::Array<double> z(10);                // Array('d', 10): ten zeros
//   a[0] = 5; a.size(); for (int x : a) {}  { std::lock_guard g(a.get_lock()); ... }
//   mp::Array<int> raw(8, {.lock = false}); mp::RawArray<int> r{1, 2};
//
// The object is a handle to the elements in shared memory: copies -- and a forked child's
// copies -- name the same array. Create it before starting the processes that use it. T is
// trivially copyable (Python's ctypes types). operator[] is unchecked, as in C++; at(i) raises
// IndexError like Python's a[i]. As for Value, element access takes no lock: hold get_lock()
// (or lock the Array itself) around compound updates.
// Thread safety: the handle may be used from any thread; the elements are plain shared data.
#pragma once

#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/detail/input_range.hpp"
#include "pyconc/multiprocessing/detail/shared_object.hpp"
#include "pyconc/multiprocessing/value.hpp"

namespace pyconc::multiprocessing {

template <class T>
class RawArray {
  static_assert(std::is_trivially_copyable_v<T>,
                "a shared Array holds a trivially copyable type (Python's ctypes types)");
  static_assert(alignof(T) <= 64, "over-aligned element type");

 public:
  // `size` value-initialised (zero) elements.
  explicit RawArray(std::size_t size) : RawArray(size, nullptr) {
    for (std::size_t i = 0; i < size; ++i) ::new (data() + i) T{};
  }
  RawArray(std::initializer_list<T> values)
      : RawArray(std::span<const T>(values.begin(), values.size())) {}
  template <detail::InputRange R>
  requires std::convertible_to<detail::range_ref_t<R>, T>
  explicit RawArray(const R& values) : RawArray(std::ranges::distance(values), nullptr) {
    std::size_t i = 0;
    for (auto&& v : values) ::new (data() + i++) T(v);
  }

  std::size_t size() const noexcept { return header_->size; }
  T* data() const noexcept { return reinterpret_cast<T*>(detail::trailing_bytes(header_.get())); }
  T& operator[](std::size_t i) const noexcept { return data()[i]; }
  // IndexError("array index out of range") when i >= size().
  T& at(std::size_t i) const {
    if (i >= size()) throw IndexError("array index out of range");
    return data()[i];
  }
  T* begin() const noexcept { return data(); }
  T* end() const noexcept { return data() + size(); }
  std::span<T> span() const noexcept { return {data(), size()}; }
  // Python's a[:]: a private copy of the elements.
  std::vector<T> to_vector() const { return std::vector<T>(begin(), end()); }

 private:
  struct Header {
    explicit Header(std::size_t n) : size(n) {}
    std::size_t size;
  };
  RawArray(std::size_t size, std::nullptr_t)
      : header_(detail::make_shared_object_with_extra<Header>(size * sizeof(T), size)) {}

  std::shared_ptr<Header> header_;
};

template <class T>
class Array : public detail::Synchronized {
 public:
  explicit Array(std::size_t size, ArrayOptions options = {})
      : Synchronized(options.lock), raw_(size) {}
  Array(std::initializer_list<T> values, ArrayOptions options = {})
      : Synchronized(options.lock), raw_(values) {}
  template <detail::InputRange R>
  requires std::convertible_to<detail::range_ref_t<R>, T>
  explicit Array(const R& values, ArrayOptions options = {})
      : Synchronized(options.lock), raw_(values) {}

  std::size_t size() const noexcept { return raw_.size(); }
  T* data() const noexcept { return raw_.data(); }
  T& operator[](std::size_t i) const noexcept { return raw_[i]; }
  T& at(std::size_t i) const { return raw_.at(i); }
  T* begin() const noexcept { return raw_.begin(); }
  T* end() const noexcept { return raw_.end(); }
  std::span<T> span() const noexcept { return raw_.span(); }
  std::vector<T> to_vector() const { return raw_.to_vector(); }
  // Python's get_obj(): the unsynchronized array.
  RawArray<T> get_obj() const { return raw_; }

 private:
  RawArray<T> raw_;
};

}  // namespace pyconc::multiprocessing
