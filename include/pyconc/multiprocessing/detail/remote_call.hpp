// pyconc/multiprocessing/detail/remote_call.hpp -- a call that runs in another process.
//
// ARCHITECTURE.md decision 4: a task sent to a process pool is a function pointer (or a
// capture-less lambda / empty function object) plus serialized arguments. Code is named by
// its offset inside its loaded object (dladdr), which is the same in every process running
// the same binary; intern_code() gives each such location a small id, sent to a worker once
// (a DEFINE message) and then used by every task message.
//
// A task message names two pieces of code: the *invoker*, an instantiation of
// invoke_call<F, A...> or invoke_chunk<F, A...> made in the submitting translation unit, which
// knows the types -- it loads the argument tuple, calls the function and dumps the result --
// and the *target*, the user's function pointer (id 0 for an empty callable type, which the
// invoker default-constructs).
//
// Wire format (native byte order, both ends on one machine), every message:
//   u32 body_length | u8 kind | body
//   task / init:    u64 seq | u32 epoch | u32 invoker id | u32 target id | argument bytes
//                   (seq counts the tasks sent to one worker, from 1; epoch: see claim words)
//   define:         u32 id | u64 offset | object name
//   result_ok:      u64 seq | u64 run time (ns) | result bytes
//   result_error:   u64 seq | u64 run time (ns) | dumps_exception bytes
//   init_failed:    dumps_exception bytes;  retiring, exit: empty
// Thread safety: intern_code and code_location may be called from any thread.
#pragma once

#include <concepts>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "pyconc/multiprocessing/serialize.hpp"

namespace pyconc::detail {

// --- naming code ----------------------------------------------------------------------------
struct CodeLocation {
  std::string object;  // the loaded object's path as the dynamic linker knows it ("" = program)
  std::uint64_t offset = 0;
};

// The id of the code at `address` (>= 1; the same id for the same address). ValueError if the
// address is not inside any loaded object.
std::uint32_t intern_code(const void* address);
// How many ids exist, and where id `id` lives.
std::uint32_t code_count();
CodeLocation code_location(std::uint32_t id);
// Worker side: the address of `loc` in this process (loading the object if needed), or null
// with `error` set.
const void* resolve_code(const CodeLocation& loc, std::string& error);

template <class F>
const void* code_address(F fn) noexcept {
  return reinterpret_cast<const void*>(fn);
}

// --- what can cross ---------------------------------------------------------------------------
// A function pointer, or an empty default-constructible callable type (capture-less lambda,
// std::plus<>): state cannot cross processes, arguments can.
template <class F>
concept RemoteCallable = (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>) ||
                         (std::is_class_v<F> && std::is_empty_v<F> &&
                          std::default_initializable<F> && std::is_trivially_copyable_v<F>);

// The type an argument crosses as: C strings become std::string (the function may take
// std::string, const std::string& or std::string_view).
template <class A>
using wire_arg_t = std::conditional_t<std::is_same_v<std::decay_t<A>, const char*> ||
                                          std::is_same_v<std::decay_t<A>, char*>,
                                      std::string, std::decay_t<A>>;

// What a call of F with wire arguments A... returns, as stored in a future.
template <class F, class... A>
using remote_result_t = std::invoke_result_t<F&, A...>;
template <class R>
using stored_t = std::conditional_t<std::is_void_v<R>, std::monostate, std::decay_t<R>>;

// (A concept, so that the result type is only looked at once the call is known valid.)
template <class F, class... A>
concept RemoteCallOk = RemoteCallable<F> && std::invocable<F&, A...> &&
                       (multiprocessing::Serializable<A>&&...) &&
                       multiprocessing::Serializable<stored_t<std::invoke_result_t<F&, A...>>>;
template <class F, class... A>
inline constexpr bool remote_call_ok = RemoteCallOk<F, A...>;

// Compile-time diagnostics for a call that cannot cross, one readable message per rule.
template <class F, class... A>
constexpr bool check_remote_call() {
  static_assert(RemoteCallable<F>,
                "pyconc process pools run a function pointer or a capture-less lambda: a "
                "capturing lambda or a std::function carries state that cannot cross to another "
                "process -- pass that state as arguments instead");
  static_assert((multiprocessing::Serializable<A> && ...),
                "pyconc process pools: every argument must be Serializable (see "
                "pyconc/multiprocessing/serialize.hpp): no pointers, references to local "
                "objects or handles");
  if constexpr (RemoteCallable<F> && (multiprocessing::Serializable<A> && ...)) {
    static_assert(std::invocable<F&, A...>,
                  "pyconc process pools: the function cannot be called with these arguments "
                  "(arguments are passed as decayed values; C strings as std::string)");
    if constexpr (std::invocable<F&, A...>) {
      static_assert(multiprocessing::Serializable<stored_t<std::invoke_result_t<F&, A...>>>,
                    "pyconc process pools: the function's result type must be Serializable (see "
                    "pyconc/multiprocessing/serialize.hpp) or void");
    }
  }
  return true;
}

// --- the wire ---------------------------------------------------------------------------------
enum class WireKind : std::uint8_t {
  define = 1,
  task = 2,
  init = 3,
  exit = 4,
  result_ok = 10,
  result_error = 11,
  init_failed = 12,
  retiring = 13,
};
inline constexpr std::size_t kWirePrefix = 4 + 1;                 // length + kind
inline constexpr std::size_t kTaskSeqOffset = kWirePrefix;        // u64 seq of a task message
inline constexpr std::size_t kTaskEpochOffset = kWirePrefix + 8;  // u32 epoch of a task message
inline constexpr std::size_t kTaskHeader = kWirePrefix + 8 + 4 + 4 + 4;

// The claim word a pool shares with each worker (shared memory): the worker atomically
// claims each task before running it, the pool revokes the tasks not yet claimed (to give
// them to an idle worker) by moving to a new epoch. Packs the epoch (high 24 bits) and the
// seq of the last task the worker claimed (low 40 bits).
inline constexpr int kClaimSeqBits = 40;
inline constexpr std::uint64_t kClaimSeqMask = (std::uint64_t{1} << kClaimSeqBits) - 1;
inline constexpr std::uint64_t claim_word(std::uint32_t epoch, std::uint64_t seq) {
  return (static_cast<std::uint64_t>(epoch) << kClaimSeqBits) | (seq & kClaimSeqMask);
}
inline constexpr std::uint32_t claim_epoch(std::uint64_t w) {
  return static_cast<std::uint32_t>(w >> kClaimSeqBits);
}
inline constexpr std::uint64_t claim_seq(std::uint64_t w) {
  return w & kClaimSeqMask;
}
inline constexpr std::uint32_t kEpochMask = (1U << (64 - kClaimSeqBits)) - 1;

template <class T>
void put_raw(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
T get_raw(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Starts a task/init message in `out`; finish_message() fills in the length.
inline std::size_t begin_call_message(std::string& out, WireKind kind, std::uint32_t invoker,
                                      std::uint32_t target) {
  const std::size_t start = out.size();
  put_raw(out, std::uint32_t{0});
  out.push_back(static_cast<char>(kind));
  put_raw(out, std::uint64_t{0});  // seq
  put_raw(out, std::uint32_t{0});  // epoch
  put_raw(out, invoker);
  put_raw(out, target);
  return start;
}
inline void finish_message(std::string& out, std::size_t start) {
  const auto body = static_cast<std::uint32_t>(out.size() - start - 4);
  std::memcpy(out.data() + start, &body, sizeof body);
}

// The argument tuple of one call, dumped as std::tuple<A...> (the bytes cereal writes for a
// tuple are its elements in order, so the elements are written directly: no tuple copy).
template <class... A, class... Args>
void dump_args_into(std::string& out, const Args&... args) {
  static constexpr std::uint64_t fp = type_fingerprint<std::tuple<A...>>();
  out.push_back(static_cast<char>(kSerialMagic));
  put_raw(out, fp);
  SerialWriter ar(out);
  [[maybe_unused]] auto one = [&ar]<class W>(const auto& arg) {
    if constexpr (std::is_same_v<W, std::string> &&
                  !std::is_same_v<std::decay_t<decltype(arg)>, std::string>) {
      ar(std::string(arg));
    } else {
      ar(static_cast<const W&>(arg));
    }
  };
  (one.template operator()<A>(args), ...);
}

// Chunks: a std::vector<std::tuple<A...>>, written item by item.
template <class... A>
class ChunkWriter {
 public:
  explicit ChunkWriter(std::string& out) : out_(out), ar_(out) {
    static constexpr std::uint64_t fp = type_fingerprint<std::vector<std::tuple<A...>>>();
    out_.push_back(static_cast<char>(kSerialMagic));
    put_raw(out_, fp);
    count_at_ = out_.size();
    put_raw(out_, std::uint64_t{0});
  }
  template <class... Args>
  void add(const Args&... args) {
    [[maybe_unused]] auto one = [this]<class W>(const auto& arg) {
      if constexpr (std::is_same_v<W, std::string> &&
                    !std::is_same_v<std::decay_t<decltype(arg)>, std::string>) {
        ar_(std::string(arg));
      } else {
        ar_(static_cast<const W&>(arg));
      }
    };
    (one.template operator()<A>(args), ...);
    ++count_;
  }
  std::uint64_t count() const noexcept { return count_; }
  void finish() { std::memcpy(out_.data() + count_at_, &count_, sizeof count_); }

 private:
  std::string& out_;
  SerialWriter ar_;
  std::size_t count_at_ = 0;
  std::uint64_t count_ = 0;
};

// --- the worker side of a call (instantiated by the submitter, run by the worker) -------------
using RemoteInvoker = void (*)(const void* target, std::string_view args, std::string& out);

// A result that cannot be serialized fails its task with MaybeEncodingError.
[[noreturn]] void throw_result_encoding(const std::exception_ptr& cause, const char* type_name);

template <class T>
void dump_result(std::string& out, const T& value) {
  const std::size_t mark = out.size();
  try {
    dump_into(out, value);
  } catch (...) {
    out.resize(mark);
    throw_result_encoding(std::current_exception(), typeid(T).name());
  }
}

template <class F>
F remote_target(const void* target) {
  if constexpr (std::is_pointer_v<F>) {
    return reinterpret_cast<F>(const_cast<void*>(target));
  } else {
    return F{};
  }
}

template <class F, class... A>
decltype(auto) apply_remote(F& f, std::tuple<A...>& args) {
  return std::apply([&f](A&... a) -> decltype(auto) { return f(std::move(a)...); }, args);
}

template <class F, class... A>
void invoke_call(const void* target, std::string_view args, std::string& out) {
  std::tuple<A...> tup;
  load_into(args, tup);
  F f = remote_target<F>(target);
  using R = remote_result_t<F, A...>;
  if constexpr (std::is_void_v<R>) {
    apply_remote(f, tup);
    dump_result(out, std::monostate{});
  } else {
    auto&& r = apply_remote(f, tup);
    dump_result(out, static_cast<const std::decay_t<R>&>(r));
  }
}

template <class F, class... A>
void invoke_chunk(const void* target, std::string_view args, std::string& out) {
  using Stored = stored_t<remote_result_t<F, A...>>;
  std::vector<std::tuple<A...>> items;
  load_into(args, items);
  F f = remote_target<F>(target);
  std::vector<Stored> results;
  results.reserve(items.size());
  for (auto& t : items) {
    if constexpr (std::is_void_v<remote_result_t<F, A...>>) {
      apply_remote(f, t);
      results.emplace_back();
    } else {
      results.emplace_back(apply_remote(f, t));
    }
  }
  dump_result(out, results);
}

// The ids of an invoker instantiation (interned once per instantiation) and of a target.
template <auto Invoker>
std::uint32_t invoker_id() {
  static const std::uint32_t id = intern_code(code_address(Invoker));
  return id;
}
template <class F>
std::uint32_t target_id(F fn) {
  if constexpr (std::is_pointer_v<F>) {
    return intern_code(code_address(fn));
  } else {
    return 0;
  }
}

}  // namespace pyconc::detail
