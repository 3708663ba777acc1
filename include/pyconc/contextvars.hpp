// pyconc/contextvars.hpp -- context variables: values that follow the logical flow of control.
//
// Python: the contextvars module.
//   pyconc::contextvars::ContextVar<std::string> request_id("request_id", "-");
//   auto token = request_id.set("r1");   // in the current context
//   request_id.get();                     // "r1"; without a value: the default, else LookupError
//   request_id.reset(token);              // back to the value before set()
//   auto ctx = pyconc::contextvars::copy_context();
//   ctx.run([&] { request_id.set("r2"); });   // changes ctx only, not the caller's context
// Where contexts are copied (Python's rules): aio::create_task copies the creator's context
// into the task (the task sees the values of its creator at creation time; its own set()s stay
// in the task); aio::to_thread and aio::run_in_executor run the function in a copy of the
// caller's context. A new thread starts with an empty context. (Like Python,
// ThreadPoolExecutor::submit does not copy the context: the function sees its worker's.)
//
// Cost: a context is one pointer to an immutable map shared by its copies (copy-on-write), so
// copying a context -- what every create_task does -- is a null-pointer copy while no variable
// was ever set, and one reference-count increment afterwards. set() builds a new map (O(number
// of variables set in that context), like a small copy of Python's HAMT); get() is a binary
// search.
//
// Thread safety: a Context is entered by one thread at a time (Context::run raises
// RuntimeError on a context already entered); the maps are immutable, so copies of a context
// may be used by different threads at once. ContextVar objects may be shared by every thread
// (they hold only the name and the default); their values live in the contexts.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/errors.hpp"

namespace pyconc::contextvars {

// Python: LookupError -- ContextVar.get() of a variable with neither a value in the current
// context nor a default.
class LookupError : public Error {
 public:
  using Error::Error;
};

class Context;

namespace detail {

// One variable's value in a context, type-erased (the ContextVar<T> knows T).
struct Entry {
  std::uint64_t var;
  std::shared_ptr<const void> value;
};
// The immutable mapping of a context: sorted by variable id, never changed once shared.
struct Map {
  std::vector<Entry> entries;
};

// A unique id per ContextVar (never reused, unlike an address).
std::uint64_t next_var_id() noexcept;
// The context entered in this thread (the thread's own one when nothing was entered).
Context& current() noexcept;
// Makes `c` the current context of this thread; returns the previous one (for restore).
// Tasks use it around every step; no "already entered" check (see Context::run).
Context* swap_current(Context* c) noexcept;

}  // namespace detail

// Python: contextvars.Context -- a mapping of ContextVars to values. copy_context() gives a
// copy of the current one; run(fn, args...) calls fn inside it, so that ContextVar::set within
// changes this context and not the caller's. Copying a Context (Python: ctx.copy()) gives an
// independent context with the same values. Entered by one thread at a time (RuntimeError).
class Context {
 public:
  // An empty context (Python: Context()).
  Context() noexcept = default;
  Context(const Context& other) noexcept : map_(other.map_) {}
  Context& operator=(const Context& other) noexcept {
    map_ = other.map_;
    return *this;
  }
  Context(Context&& other) noexcept : map_(std::move(other.map_)) {}
  Context& operator=(Context&& other) noexcept {
    map_ = std::move(other.map_);
    return *this;
  }
  ~Context() = default;

  // Python: ctx.run(callable, *args). RuntimeError if this context is already entered (by
  // this or another thread). Exceptions of fn propagate; the previous context is restored.
  template <class F, class... Args>
  decltype(auto) run(F&& fn, Args&&... args) {
    Entered guard(*this);
    return std::apply(std::forward<F>(fn), std::forward_as_tuple(std::forward<Args>(args)...));
  }

  // Python: len(ctx).
  std::size_t size() const noexcept { return map_ ? map_->entries.size() : 0; }
  // Python: ctx.copy().
  Context copy() const noexcept { return *this; }

  // --- for ContextVar and the library ---
  const detail::Entry* find(std::uint64_t var) const noexcept {
    if (!map_) return nullptr;
    // Binary search of the entries, sorted by var (no <algorithm> in this header).
    const detail::Entry* lo = map_->entries.data();
    std::size_t n = map_->entries.size();
    while (n > 0) {
      const std::size_t half = n / 2;
      if (lo[half].var < var) {
        lo += half + 1;
        n -= half + 1;
      } else {
        n = half;
      }
    }
    return lo != map_->entries.data() + map_->entries.size() && lo->var == var ? lo : nullptr;
  }
  // Replaces this context's map by one where `var` has `value` (null: removes it).
  void assign(std::uint64_t var, std::shared_ptr<const void> value);
  bool entered() const noexcept { return entered_.load(std::memory_order_relaxed); }

 private:
  struct Entered {
    explicit Entered(Context& c);
    ~Entered();
    Entered(const Entered&) = delete;
    Entered& operator=(const Entered&) = delete;
    Context* self;
    Context* prev;
  };

  std::shared_ptr<const detail::Map> map_;
  std::atomic<bool> entered_{false};
};

// Python: contextvars.copy_context() -- a copy of the current context.
inline Context copy_context() noexcept {
  return detail::current();
}

template <class T>
class ContextVar;

// Python: contextvars.Token -- what ContextVar::set returns, to restore the previous value
// with reset(). Usable once, in the context where it was made, with the variable that made it
// (ValueError otherwise; RuntimeError the second time).
template <class T>
class Token {
 public:
  // Python: token.var.
  const ContextVar<T>& var() const noexcept { return *var_; }
  // Python: token.old_value (nullopt where Python has Token.MISSING).
  std::optional<T> old_value() const {
    if (!old_) return std::nullopt;
    return *static_cast<const T*>(old_.get());
  }
  bool used() const noexcept { return used_; }

 private:
  friend class ContextVar<T>;
  Token(const ContextVar<T>* var, const Context* ctx, std::shared_ptr<const void> old) noexcept
      : var_(var), ctx_(ctx), old_(std::move(old)) {}
  const ContextVar<T>* var_;
  const Context* ctx_;
  std::shared_ptr<const void> old_;
  mutable bool used_ = false;
};

// Python: contextvars.ContextVar(name, default=...) -- a variable whose value is looked up in
// the current context. T must be copyable (get() returns a copy, as each task may see another
// value). Declare it once (globally, or as a long-lived member), as Python advises.
template <class T>
class ContextVar {
 public:
  explicit ContextVar(std::string name) : name_(std::move(name)), id_(detail::next_var_id()) {}
  ContextVar(std::string name, T default_value)
      : name_(std::move(name)),
        default_(std::make_shared<const T>(std::move(default_value))),
        id_(detail::next_var_id()) {}
  ContextVar(const ContextVar&) = delete;
  ContextVar& operator=(const ContextVar&) = delete;

  const std::string& name() const noexcept { return name_; }

  // Python: var.get(): the value in the current context, else the default, else LookupError.
  T get() const {
    if (const detail::Entry* e = detail::current().find(id_)) return value_of(e->value);
    if (default_) return *default_;
    throw LookupError("<ContextVar name='" + name_ + "'> has no value and no default");
  }
  // Python: var.get(default): `default_value` when the current context has no value.
  T get(T default_value) const {
    if (const detail::Entry* e = detail::current().find(id_)) return value_of(e->value);
    return default_value;
  }
  // Python: var.set(value) -> Token, in the current context.
  Token<T> set(T value) {
    Context& ctx = detail::current();
    const detail::Entry* e = ctx.find(id_);
    Token<T> token(this, &ctx, e != nullptr ? e->value : nullptr);
    ctx.assign(id_, std::make_shared<const T>(std::move(value)));
    return token;
  }
  // Python: var.reset(token): restores the value the variable had before token's set().
  void reset(const Token<T>& token) {
    if (token.used_) throw RuntimeError("<Token var=" + repr() + "> has already been used once");
    if (token.var_ != this) {
      throw ValueError("<Token> was created by a different ContextVar (not " + repr() + ")");
    }
    Context& ctx = detail::current();
    if (token.ctx_ != &ctx) {
      throw ValueError("<Token var=" + repr() + "> was created in a different Context");
    }
    ctx.assign(id_, token.old_);
    token.used_ = true;
  }

 private:
  static T value_of(const std::shared_ptr<const void>& v) {
    return *static_cast<const T*>(v.get());
  }
  std::string repr() const { return "<ContextVar name='" + name_ + "'>"; }

  std::string name_;
  std::shared_ptr<const T> default_;
  std::uint64_t id_;
};

}  // namespace pyconc::contextvars
