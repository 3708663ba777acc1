// pyconc/multiprocessing/serialize.hpp -- values and exceptions as bytes between processes.
//
// Python: pickle, as multiprocessing uses it (pickle.dumps / pickle.loads). Everything that
// crosses a process boundary in pyconc -- process-pool arguments and results, Pipe and Queue
// items -- goes through dumps() and loads():
//
//   std::string b = mp::dumps(std::map<std::string, int>{{"a", 1}});
//   auto m = mp::loads<std::map<std::string, int>>(b);
//
// Serializable types: arithmetic types (and __int128), enums, std::string, std::vector, std::array,
// std::deque, std::list, std::map, std::unordered_map, std::set, std::unordered_set (and
// their multi- variants), std::pair, std::tuple, std::optional, std::variant, std::monostate,
// std::chrono::duration, nested freely, and user types with a cereal-style member
//
//   struct Point { double x, y; std::string label;
//                  template <class Archive> void serialize(Archive& ar) { ar(x, y, label); } };
//
// (or a cereal-style `save(Archive&) const` + `load(Archive&)` pair; user types must be
// default-constructible; cereal's make_nvp/CEREAL_NVP/base_class work in them where cereal's
// headers are included). The layout is cereal's binary archive (native byte order: both ends
// run on the same machine; cereal was chosen over msgpack-cxx by measurement,
// docs/benchmarks.md), written by our own small archives (detail/archive.hpp) so that this
// header does not pull cereal and every standard container into each file that includes it.
// Differences from pickle: types are static -- loads<T> must name the type that was dumped;
// the bytes start with a fingerprint of T, so loading them as another type is a ValueError,
// as are truncated, trailing or otherwise malformed bytes (never undefined behaviour, never
// an abort: counts are checked against the bytes left before anything is allocated). A
// non-serializable type is a compile-time error (static_assert naming the rules), and
// `mp::Serializable<T>` lets you test it. Pointers, references and callables never cross.
//
// Exceptions cross as "type name + message + pid": dumps_exception() captures them and
// rethrow_exception_bytes() raises the same standard/pyconc type (with a nested RemoteError
// carrying the pid, see std::rethrow_if_nested), or a RemoteError for other types.
//
// Thread safety: all functions are reentrant; they touch only their arguments.
#pragma once

#include <cstdint>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>

#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/detail/archive.hpp"
#include "pyconc/multiprocessing/exceptions.hpp"

namespace pyconc::detail {

template <class T>
struct is_serializable;

}  // namespace pyconc::detail

namespace pyconc::multiprocessing {

// Whether T can cross a process boundary (see the header comment for the list).
template <class T>
concept Serializable = detail::is_serializable<std::remove_cv_t<T>>::value;

}  // namespace pyconc::multiprocessing

namespace pyconc::detail {

template <class... Ts>
inline constexpr bool all_serializable = (multiprocessing::Serializable<Ts> && ...);

template <class T>
inline constexpr bool variant_serializable = false;
template <class... Ts>
inline constexpr bool variant_serializable<std::variant<Ts...>> = all_serializable<Ts...> &&
                                                                  (std::default_initializable<Ts> &&
                                                                   ...);

template <class T>
inline constexpr bool tuple_serializable = false;
template <class... Ts>
inline constexpr bool tuple_serializable<std::tuple<Ts...>> = all_serializable<Ts...>;

// The same cases, in the same order, as save_value() and load_value() (archive.hpp).
template <class T>
constexpr bool serializable_type() {
  if constexpr (std::is_arithmetic_v<T> || is_int128<T> || std::is_enum_v<T> ||
                SelfSerializable<T> || std::is_same_v<T, std::monostate>) {
    return true;
  } else if constexpr (is_std_string<T>) {
    return std::is_arithmetic_v<typename T::value_type>;
  } else if constexpr (is_instance_of<T, std::variant>) {
    return variant_serializable<T>;
  } else if constexpr (is_instance_of<T, std::optional>) {
    return all_serializable<typename T::value_type>;
  } else if constexpr (is_duration<T>) {
    return std::is_arithmetic_v<typename T::rep>;
  } else if constexpr (is_instance_of<T, std::pair>) {
    return all_serializable<typename T::first_type, typename T::second_type>;
  } else if constexpr (is_instance_of<T, std::tuple>) {
    return tuple_serializable<T>;
  } else if constexpr (is_std_array<T> || is_instance_of<T, std::vector>) {
    return all_serializable<typename T::value_type>;
  } else if constexpr (MapContainer<T>) {
    return all_serializable<typename T::key_type, typename T::mapped_type>;
  } else if constexpr (SetContainer<T>) {
    return all_serializable<typename T::key_type>;
  } else if constexpr (SequenceContainer<T>) {
    return all_serializable<typename T::value_type>;
  } else {
    return false;
  }
}

template <class T>
struct is_serializable : std::bool_constant<serializable_type<T>()> {};

template <class T>
inline constexpr bool dependent_false = false;

// A compile-time fingerprint of T (FNV-1a of the compiler's spelling of T): the same in every
// process running the same binary. loads<T> checks it.
template <class T>
constexpr std::uint64_t type_fingerprint() {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char* p = __PRETTY_FUNCTION__; *p != '\0'; ++p) {
    h = (h ^ static_cast<unsigned char>(*p)) * 1099511628211ULL;
  }
  return h;
}

inline constexpr unsigned char kSerialMagic = 0xC5;  // first byte of every dumps() result
inline constexpr std::size_t kSerialHeader = 1 + sizeof(std::uint64_t);

[[noreturn]] void throw_bad_header(std::string_view bytes, const char* type_name);
[[noreturn]] void throw_trailing(std::size_t extra, std::size_t total, const char* type_name);
[[noreturn]] void throw_load_failure(const std::exception& e, const char* type_name);

// Appends dumps(value) to `out` (no allocation beyond out's growth).
template <class T>
void dump_into(std::string& out, const T& value) {
  static constexpr std::uint64_t fp = type_fingerprint<T>();
  out.push_back(static_cast<char>(kSerialMagic));
  out.append(reinterpret_cast<const char*>(&fp), sizeof fp);
  SerialWriter ar(out);
  ar(value);
}

// loads<T> into an existing object.
template <class T>
void load_into(std::string_view bytes, T& value) {
  static constexpr std::uint64_t fp = type_fingerprint<T>();
  if (bytes.size() < kSerialHeader || static_cast<unsigned char>(bytes[0]) != kSerialMagic ||
      std::memcmp(bytes.data() + 1, &fp, sizeof fp) != 0) {
    throw_bad_header(bytes, typeid(T).name());
  }
  SerialReader ar(bytes.substr(kSerialHeader));
  try {
    ar(value);
  } catch (const std::length_error& e) {
    throw_load_failure(e, typeid(T).name());
  }
  if (ar.remaining() != 0) throw_trailing(ar.remaining(), bytes.size(), typeid(T).name());
}

}  // namespace pyconc::detail

namespace pyconc::multiprocessing {

// The bytes of `value` (Python: pickle.dumps). Compile-time error if T is not Serializable.
template <class T>
std::string dumps(const T& value) {
  if constexpr (!Serializable<T>) {
    static_assert(detail::dependent_false<T>,
                  "pyconc::multiprocessing::dumps: this type is not Serializable. Use arithmetic "
                  "types, enums, std::string, standard containers, pair/tuple/optional/variant, "
                  "chrono durations, or give your type a member "
                  "`template <class Archive> void serialize(Archive& ar) { ar(fields...); }`.");
    return {};
  } else {
    std::string out;
    detail::dump_into(out, value);
    return out;
  }
}

// The T whose bytes `bytes` are (Python: pickle.loads). ValueError, naming what is wrong, if
// the bytes are truncated, have trailing data, are malformed or were dumped from another type.
template <class T>
T loads(std::string_view bytes) {
  if constexpr (!Serializable<T>) {
    static_assert(detail::dependent_false<T>,
                  "pyconc::multiprocessing::loads<T>: T is not Serializable (see serialize.hpp).");
  } else {
    T value{};
    detail::load_into(bytes, value);
    return value;
  }
}

// The exception `e` (not null) as bytes: its demangled dynamic type name, its what() and the
// pid of this process (for a RemoteError: the original type, message and pid).
std::string dumps_exception(std::exception_ptr e);

// Throws the exception described by dumps_exception() bytes: the same type when it is a
// standard exception (std::runtime_error, std::out_of_range, std::bad_alloc, ...) or a pyconc
// one (pyconc::ValueError, queue::Empty, futures::BrokenProcessPool, ...), with what()
// unchanged and a nested RemoteError carrying the pid; else a RemoteError. ValueError if the
// bytes are malformed.
[[noreturn]] void rethrow_exception_bytes(std::string_view bytes);

}  // namespace pyconc::multiprocessing

namespace pyconc::detail {
// rethrow_exception_bytes() as an exception_ptr, for completing futures.
std::exception_ptr exception_from_bytes(std::string_view bytes) noexcept;
}  // namespace pyconc::detail
