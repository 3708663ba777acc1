// pyconc/multiprocessing/detail/archive.hpp -- the cereal archives behind dumps()/loads().
//
// Two cereal archives that read and write a flat little-endian byte string (the layout of
// cereal's BinaryArchive, minus the std::stream): SerialWriter appends to a std::string,
// SerialReader reads a std::string_view and never trusts it:
// - every read is bounds-checked (ValueError "truncated" instead of reading past the end);
// - an element count is checked against the bytes left before a container is resized, so
//   garbage cannot make it allocate more than about sizeof(element) x input size;
// - bool, std::monostate and variant indices are validated (no invalid bool representation).
// std::variant and std::monostate are serialized here (not by cereal/types/variant.hpp) so
// that monostate takes one byte and a variant's index is checked before use.
// Thread safety: an archive is used by one thread; distinct archives are independent.
#pragma once

#include <cereal/cereal.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/chrono.hpp>
#include <cereal/types/deque.hpp>
#include <cereal/types/list.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/unordered_set.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "pyconc/errors.hpp"

namespace pyconc::detail {

class SerialWriter : public cereal::OutputArchive<SerialWriter, cereal::AllowEmptyClassElision> {
 public:
  explicit SerialWriter(std::string& out)
      : cereal::OutputArchive<SerialWriter, cereal::AllowEmptyClassElision>(this), out_(out) {}
  void write(const void* data, std::size_t size) {
    out_.append(static_cast<const char*>(data), size);
  }

 private:
  std::string& out_;
};

class SerialReader : public cereal::InputArchive<SerialReader, cereal::AllowEmptyClassElision> {
 public:
  // Containers may claim this many elements even when fewer bytes remain (elements of a type
  // that serializes to nothing); above it, a count must be backed by as many bytes.
  static constexpr std::uint64_t kUnbackedCount = 4096;

  explicit SerialReader(std::string_view in)
      : cereal::InputArchive<SerialReader, cereal::AllowEmptyClassElision>(this),
        begin_(in.data()),
        pos_(in.data()),
        end_(in.data() + in.size()) {}

  void read(void* data, std::size_t size) {
    if (size > remaining()) fail_truncated(size);
    if (size != 0) std::memcpy(data, pos_, size);
    pos_ += size;
  }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - pos_); }
  std::size_t offset() const noexcept { return static_cast<std::size_t>(pos_ - begin_); }
  void check_count(std::uint64_t n) const {
    if (n > remaining() && n > kUnbackedCount) fail_count(n);
  }
  [[noreturn]] void fail(const char* what) const;

 private:
  [[noreturn]] void fail_truncated(std::size_t wanted) const;
  [[noreturn]] void fail_count(std::uint64_t n) const;

  const char* begin_;
  const char* pos_;
  const char* end_;
};

// --- primitives ---------------------------------------------------------------------------
__extension__ using int128 = __int128;
__extension__ using uint128 = unsigned __int128;
template <class T>
inline constexpr bool is_int128 = std::is_same_v<T, int128> || std::is_same_v<T, uint128>;

template <class T>
requires(std::is_arithmetic_v<T> && !is_int128<T>) void save(SerialWriter& ar, const T& v) {
  ar.write(&v, sizeof v);
}

template <class T>
requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool> &&
         !is_int128<T>) void load(SerialReader& ar, T& v) {
  ar.read(&v, sizeof v);
}

inline void load(SerialReader& ar, bool& v) {
  unsigned char byte = 0;
  ar.read(&byte, 1);
  if (byte > 1) ar.fail("a bool byte is neither 0 nor 1");
  v = byte != 0;
}

// GCC/Clang's 128-bit integers (Python ints beyond 64 bits). Not std::is_arithmetic in strict
// ISO mode, so cereal does not know them: raw bytes, like the other integers.
inline void save(SerialWriter& ar, const int128& v) {
  ar.write(&v, sizeof v);
}
inline void save(SerialWriter& ar, const uint128& v) {
  ar.write(&v, sizeof v);
}
inline void load(SerialReader& ar, int128& v) {
  ar.read(&v, sizeof v);
}
inline void load(SerialReader& ar, uint128& v) {
  ar.read(&v, sizeof v);
}

// --- cereal's wrappers ----------------------------------------------------------------------
template <class T>
void save(SerialWriter& ar, const cereal::NameValuePair<T>& t) {
  ar(t.value);
}
template <class T>
void load(SerialReader& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}

template <class T>
void save(SerialWriter& ar, const cereal::SizeTag<T>& t) {
  const auto n = static_cast<std::uint64_t>(t.size);
  ar.write(&n, sizeof n);
}
template <class T>
void load(SerialReader& ar, cereal::SizeTag<T>& t) {
  std::uint64_t n = 0;
  ar.read(&n, sizeof n);
  ar.check_count(n);
  t.size = static_cast<std::remove_reference_t<T>>(n);
}

template <class T>
void save(SerialWriter& ar, const cereal::BinaryData<T>& bd) {
  ar.write(bd.data, static_cast<std::size_t>(bd.size));
}
template <class T>
void load(SerialReader& ar, cereal::BinaryData<T>& bd) {
  ar.read(bd.data, static_cast<std::size_t>(bd.size));
}

// --- std::monostate and std::variant --------------------------------------------------------
inline void save(SerialWriter& ar, const std::monostate&) {
  const unsigned char zero = 0;
  ar.write(&zero, 1);
}
inline void load(SerialReader& ar, std::monostate&) {
  unsigned char byte = 0;
  ar.read(&byte, 1);
  if (byte != 0) ar.fail("a std::monostate byte is not 0");
}

template <class... Ts>
void save(SerialWriter& ar, const std::variant<Ts...>& v) {
  if (v.valueless_by_exception()) throw ValueError("cannot serialize a valueless std::variant");
  const auto index = static_cast<std::uint32_t>(v.index());
  ar.write(&index, sizeof index);
  std::visit([&ar](const auto& alt) { ar(alt); }, v);
}

template <class... Ts>
void load(SerialReader& ar, std::variant<Ts...>& v) {
  std::uint32_t index = 0;
  ar.read(&index, sizeof index);
  if (index >= sizeof...(Ts)) ar.fail("a std::variant index is out of range");
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((I == index ? (ar(v.template emplace<I>()), true) : false) || ...);
  }
  (std::index_sequence_for<Ts...>());
}

// --- std::multimap: cereal's load inserts equal keys in reverse order; keep their order ----
template <class K, class V, class C, class A>
void load(SerialReader& ar, std::multimap<K, V, C, A>& m) {
  cereal::size_type n = 0;
  ar(cereal::make_size_tag(n));
  m.clear();
  for (cereal::size_type i = 0; i < n; ++i) {
    K key{};
    V value{};
    ar(cereal::make_map_item(key, value));
    m.emplace_hint(m.end(), std::move(key), std::move(value));
  }
}

}  // namespace pyconc::detail

CEREAL_REGISTER_ARCHIVE(pyconc::detail::SerialWriter)
CEREAL_REGISTER_ARCHIVE(pyconc::detail::SerialReader)
CEREAL_SETUP_ARCHIVE_TRAITS(pyconc::detail::SerialReader, pyconc::detail::SerialWriter)
