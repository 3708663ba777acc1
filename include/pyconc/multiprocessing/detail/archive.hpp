// pyconc/multiprocessing/detail/archive.hpp -- the archives behind dumps()/loads().
//
// Two archives that read and write a flat byte string in cereal's binary layout (native byte
// order; both ends run on the same machine): SerialWriter appends to a std::string,
// SerialReader reads a std::string_view and never trusts it:
// - every read is bounds-checked (ValueError "truncated" instead of reading past the end);
// - an element count is checked against the bytes left before a container is resized, so
//   garbage cannot make it allocate more than about sizeof(element) x input size;
// - bool, std::monostate and variant indices are validated (no invalid bool representation).
//
// The layout, type by type (what cereal's BinaryArchive and cereal/types/*.hpp write, so bytes
// are the same as when cereal itself was the engine): arithmetic types and 128-bit integers
// as their bytes; enums as their underlying type; strings as a u64 count and the characters;
// vector, deque, list, set, map and their multi-/unordered variants as a u64 count and the
// elements (a map's as key, value); std::array as its elements; pair and tuple as their
// elements in order; optional as a bool "empty" byte then the value if any; a duration as its
// count; std::monostate as one 0 byte and std::variant as a u32 index and the alternative
// (these two are ours: cereal/types/variant.hpp is not used). User types call their own
// cereal-style member `serialize(Archive&)` (or `save(Archive&) const` + `load(Archive&)`)
// with these archives, which take any number of values: `ar(x, y, label)`.
//
// Only the standard headers the floor of the library already needs are included: the
// containers above that are not included here (deque, list, map, set, unordered_*) are
// recognised by their interface (a count, iteration, and resize / emplace_hint / emplace), so
// any container with the same interface serializes the same way.
//
// Thread safety: an archive is used by one thread; distinct archives are independent.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>
#include "pyconc/detail/chrono.hpp"

#include "pyconc/errors.hpp"

// cereal's wrappers, for user types whose serialize() uses them (cereal::make_nvp, CEREAL_NVP,
// cereal::base_class, cereal::make_size_tag, cereal::binary_data): declared here, complete
// only where the user included cereal's headers, which is where they are used.
namespace cereal {
template <class T>
class NameValuePair;
template <class T>
class SizeTag;
template <class T>
struct BinaryData;
template <class Base>
struct base_class;
}  // namespace cereal

namespace pyconc::detail {

__extension__ using int128 = __int128;
__extension__ using uint128 = unsigned __int128;
template <class T>
inline constexpr bool is_int128 = std::is_same_v<T, int128> || std::is_same_v<T, uint128>;

class SerialWriter;
class SerialReader;

template <class T>
void save_value(SerialWriter& ar, const T& v);
template <class T>
void load_value(SerialReader& ar, T& v);

class SerialWriter {
 public:
  explicit SerialWriter(std::string& out) : out_(out) {}
  void write(const void* data, std::size_t size) {
    out_.append(static_cast<const char*>(data), size);
  }
  // Writes each value in turn (what a user type's serialize(ar) calls).
  template <class... Ts>
  SerialWriter& operator()(const Ts&... values) {
    (save_value(*this, values), ...);
    return *this;
  }

 private:
  std::string& out_;
};

class SerialReader {
 public:
  // Containers may claim this many elements even when fewer bytes remain (elements of a type
  // that serializes to nothing); above it, a count must be backed by as many bytes.
  static constexpr std::uint64_t kUnbackedCount = 4096;

  explicit SerialReader(std::string_view in)
      : begin_(in.data()), pos_(in.data()), end_(in.data() + in.size()) {}

  // Reads each value in turn (what a user type's serialize(ar) calls).
  template <class... Ts>
  SerialReader& operator()(Ts&&... values) {
    (load_value(*this, values), ...);
    return *this;
  }

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
  // A container's element count (cereal's size tag), checked against the bytes left.
  std::uint64_t read_count() {
    std::uint64_t n = 0;
    read(&n, sizeof n);
    check_count(n);
    return n;
  }
  [[noreturn]] void fail(const char* what) const;

 private:
  [[noreturn]] void fail_truncated(std::size_t wanted) const;
  [[noreturn]] void fail_count(std::uint64_t n) const;

  const char* begin_;
  const char* pos_;
  const char* end_;
};

// --- what a type is ---------------------------------------------------------------------------
template <class T, template <class...> class Tmpl>
inline constexpr bool is_instance_of = false;
template <template <class...> class Tmpl, class... Args>
inline constexpr bool is_instance_of<Tmpl<Args...>, Tmpl> = true;

template <class T>
inline constexpr bool is_std_array = false;
template <class T, std::size_t N>
inline constexpr bool is_std_array<std::array<T, N>> = true;

template <class T>
inline constexpr bool is_std_string = false;
template <class C, class Tr, class A>
inline constexpr bool is_std_string<std::basic_string<C, Tr, A>> = true;

template <class T>
inline constexpr bool is_duration = false;
template <class R, class P>
inline constexpr bool is_duration<std::chrono::duration<R, P>> = true;

// A user type that serializes itself, cereal style (the member is called with our archives).
template <class T>
concept SelfSerializable = std::default_initializable<T> &&(
    requires(T& t, SerialWriter& w, SerialReader& r) {
      t.serialize(w);
      t.serialize(r);
    } ||
    requires(const T& c, T& t, SerialWriter& w, SerialReader& r) {
      c.save(w);
      t.load(r);
    });

// Containers recognised by their interface (deque, list, and the associative containers).
template <class C>
concept CountedRange = requires(const C& c) {
  typename C::value_type;
  c.size();
  c.begin();
  c.end();
};
template <class C>
concept SequenceContainer = CountedRange<C> && !requires {
  typename C::key_type;
}
&&requires(C& c, std::size_t n) {
  c.resize(n);
  c.clear();
};
template <class C>
concept MapContainer = CountedRange<C> &&
    requires(C& c, typename C::key_type k, typename C::mapped_type v) {
  c.clear();
  c.emplace_hint(c.begin(), std::move(k), std::move(v));
};
template <class C>
concept SetContainer = CountedRange<C> && !requires {
  typename C::mapped_type;
}
&&std::same_as<typename C::key_type, typename C::value_type>&& requires(C& c,
                                                                        typename C::key_type k) {
  c.clear();
  c.emplace_hint(c.begin(), std::move(k));
};
template <class C>
concept HashedContainer = requires {
  typename C::hasher;
};
// emplace() of a multi- container returns an iterator, of a unique one a pair.
template <class C>
concept MultiMapContainer = MapContainer<C> && !HashedContainer<C> &&
                            requires(C & c, typename C::key_type k, typename C::mapped_type v) {
  { c.emplace(std::move(k), std::move(v)) } -> std::same_as<typename C::iterator>;
};

// --- writing ------------------------------------------------------------------------------------
inline void write_count(SerialWriter& ar, std::size_t n) {
  const auto count = static_cast<std::uint64_t>(n);
  ar.write(&count, sizeof count);
}

template <class T>
void save_value(SerialWriter& ar, const T& v) {
  if constexpr (std::is_arithmetic_v<T> || is_int128<T>) {
    ar.write(&v, sizeof v);
  } else if constexpr (std::is_enum_v<T>) {
    save_value(ar, static_cast<std::underlying_type_t<T>>(v));
  } else if constexpr (is_instance_of<T, cereal::NameValuePair>) {
    save_value(ar, v.value);
  } else if constexpr (is_instance_of<T, cereal::base_class>) {
    save_value(ar, *v.base_ptr);
  } else if constexpr (is_instance_of<T, cereal::SizeTag>) {
    write_count(ar, static_cast<std::size_t>(v.size));
  } else if constexpr (is_instance_of<T, cereal::BinaryData>) {
    ar.write(v.data, static_cast<std::size_t>(v.size));
  } else if constexpr (SelfSerializable<T>) {
    if constexpr (requires(T & t) { t.serialize(ar); }) {
      const_cast<T&>(v).serialize(ar);  // cereal's contract: serialize() does not modify
    } else {
      v.save(ar);
    }
  } else if constexpr (is_std_string<T>) {
    write_count(ar, v.size());
    ar.write(v.data(), v.size() * sizeof(typename T::value_type));
  } else if constexpr (std::is_same_v<T, std::monostate>) {
    const unsigned char zero = 0;
    ar.write(&zero, 1);
  } else if constexpr (is_instance_of<T, std::variant>) {
    if (v.valueless_by_exception()) throw ValueError("cannot serialize a valueless std::variant");
    const auto index = static_cast<std::uint32_t>(v.index());
    ar.write(&index, sizeof index);
    std::visit([&ar](const auto& alt) { save_value(ar, alt); }, v);
  } else if constexpr (is_instance_of<T, std::optional>) {
    save_value(ar, !v.has_value());  // cereal's "nullopt" flag
    if (v) save_value(ar, *v);
  } else if constexpr (is_duration<T>) {
    save_value(ar, v.count());
  } else if constexpr (is_instance_of<T, std::pair>) {
    save_value(ar, v.first);
    save_value(ar, v.second);
  } else if constexpr (is_instance_of<T, std::tuple>) {
    std::apply([&ar](const auto&... e) { (save_value(ar, e), ...); }, v);
  } else if constexpr (is_std_array<T>) {
    using E = typename T::value_type;
    if constexpr (std::is_arithmetic_v<E>) {
      ar.write(v.data(), sizeof v);
    } else {
      for (const auto& e : v) save_value(ar, e);
    }
  } else if constexpr (is_instance_of<T, std::vector>) {
    using E = typename T::value_type;
    write_count(ar, v.size());
    if constexpr (std::is_arithmetic_v<E> && !std::is_same_v<E, bool>) {
      ar.write(v.data(), v.size() * sizeof(E));
    } else {
      for (const auto& e : v) save_value(ar, static_cast<const E&>(e));
    }
  } else if constexpr (MapContainer<T>) {
    write_count(ar, v.size());
    for (const auto& [key, value] : v) {
      save_value(ar, key);
      save_value(ar, value);
    }
  } else {  // SequenceContainer or SetContainer (is_serializable checked it)
    write_count(ar, v.size());
    for (const auto& e : v) save_value(ar, e);
  }
}

// --- reading ------------------------------------------------------------------------------------
template <class T>
void load_value(SerialReader& ar, T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    unsigned char byte = 0;
    ar.read(&byte, 1);
    if (byte > 1) ar.fail("a bool byte is neither 0 nor 1");
    v = byte != 0;
  } else if constexpr (std::is_arithmetic_v<T> || is_int128<T>) {
    ar.read(&v, sizeof v);
  } else if constexpr (std::is_enum_v<T>) {
    std::underlying_type_t<T> u{};
    load_value(ar, u);
    v = static_cast<T>(u);
  } else if constexpr (is_instance_of<T, cereal::NameValuePair>) {
    load_value(ar, v.value);
  } else if constexpr (is_instance_of<T, cereal::base_class>) {
    load_value(ar, *v.base_ptr);
  } else if constexpr (is_instance_of<T, cereal::SizeTag>) {
    v.size = static_cast<std::remove_cvref_t<decltype(v.size)>>(ar.read_count());
  } else if constexpr (is_instance_of<T, cereal::BinaryData>) {
    ar.read(const_cast<void*>(static_cast<const void*>(v.data)), static_cast<std::size_t>(v.size));
  } else if constexpr (SelfSerializable<T>) {
    if constexpr (requires(T & t) { t.serialize(ar); }) {
      v.serialize(ar);
    } else {
      v.load(ar);
    }
  } else if constexpr (is_std_string<T>) {
    const auto n = static_cast<std::size_t>(ar.read_count());
    v.resize(n);
    ar.read(v.data(), n * sizeof(typename T::value_type));
  } else if constexpr (std::is_same_v<T, std::monostate>) {
    unsigned char byte = 0;
    ar.read(&byte, 1);
    if (byte != 0) ar.fail("a std::monostate byte is not 0");
  } else if constexpr (is_instance_of<T, std::variant>) {
    std::uint32_t index = 0;
    ar.read(&index, sizeof index);
    if (index >= std::variant_size_v<T>) ar.fail("a std::variant index is out of range");
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((I == index ? (load_value(ar, v.template emplace<I>()), true) : false) || ...);
    }
    (std::make_index_sequence<std::variant_size_v<T>>());
  } else if constexpr (is_instance_of<T, std::optional>) {
    bool empty = true;
    load_value(ar, empty);
    if (empty) {
      v.reset();
    } else {
      v.emplace();
      load_value(ar, *v);
    }
  } else if constexpr (is_duration<T>) {
    typename T::rep count{};
    load_value(ar, count);
    v = T(count);
  } else if constexpr (is_instance_of<T, std::pair>) {
    load_value(ar, v.first);
    load_value(ar, v.second);
  } else if constexpr (is_instance_of<T, std::tuple>) {
    std::apply([&ar](auto&... e) { (load_value(ar, e), ...); }, v);
  } else if constexpr (is_std_array<T>) {
    using E = typename T::value_type;
    if constexpr (std::is_arithmetic_v<E> && !std::is_same_v<E, bool>) {
      ar.read(v.data(), sizeof v);
    } else {
      for (auto& e : v) load_value(ar, e);
    }
  } else if constexpr (is_instance_of<T, std::vector>) {
    using E = typename T::value_type;
    const auto n = static_cast<std::size_t>(ar.read_count());
    v.resize(n);
    if constexpr (std::is_arithmetic_v<E> && !std::is_same_v<E, bool>) {
      ar.read(v.data(), n * sizeof(E));
    } else if constexpr (std::is_same_v<E, bool>) {
      for (std::size_t i = 0; i < n; ++i) {
        bool b = false;
        load_value(ar, b);
        v[i] = b;
      }
    } else {
      for (auto& e : v) load_value(ar, e);
    }
  } else if constexpr (MapContainer<T>) {
    const std::uint64_t n = ar.read_count();
    v.clear();
    auto hint = v.begin();
    for (std::uint64_t i = 0; i < n; ++i) {
      typename T::key_type key{};
      typename T::mapped_type value{};
      load_value(ar, key);
      load_value(ar, value);
      if constexpr (MultiMapContainer<T>) {  // keep equal keys in their order
        v.emplace_hint(v.end(), std::move(key), std::move(value));
      } else {
        hint = v.emplace_hint(hint, std::move(key), std::move(value));
      }
    }
  } else if constexpr (SetContainer<T>) {
    const std::uint64_t n = ar.read_count();
    v.clear();
    if constexpr (HashedContainer<T>) {
      v.reserve(static_cast<std::size_t>(n));
      for (std::uint64_t i = 0; i < n; ++i) {
        typename T::key_type key{};
        load_value(ar, key);
        v.emplace(std::move(key));
      }
    } else {
      auto hint = v.begin();
      for (std::uint64_t i = 0; i < n; ++i) {
        typename T::key_type key{};
        load_value(ar, key);
        hint = v.emplace_hint(hint, std::move(key));
      }
    }
  } else {  // SequenceContainer
    const auto n = static_cast<std::size_t>(ar.read_count());
    v.resize(n);
    for (auto& e : v) load_value(ar, e);
  }
}

}  // namespace pyconc::detail
