// pyconc/multiprocessing/start_method.hpp -- StartMethod, Context and the module functions
// about start methods, without the headers they do not need (the pools include this one).
// What the methods do, and the examples: context.hpp.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pyconc::multiprocessing {

class Process;

enum class StartMethod : unsigned char { spawn, fork, forkserver };

// Python: a multiprocessing context (what get_context returns).
class Context {
 public:
  explicit Context(StartMethod method) noexcept : method_(method) {}

  StartMethod method() const noexcept { return method_; }
  // "spawn", "fork" or "forkserver".
  std::string get_start_method() const;

  // Python: ctx.Process(target=fn, args=...): an mp::Process (it forks, whatever the method).
  // Needs <pyconc/multiprocessing/context.hpp> (or process.hpp) where it is used.
  template <class... Args, class P = multiprocessing::Process>
  P Process(Args&&... args) const {
    return P(std::forward<Args>(args)...);
  }

  friend bool operator==(const Context&, const Context&) = default;

 private:
  StartMethod method_;
};

// The context of `method` ("fork", "spawn", "forkserver"); empty: the default context (the
// method set by set_start_method, else "spawn"). ValueError("cannot find context for 'x'").
Context get_context(std::string_view method = {});
// Sets the default start method. RuntimeError("context has already been set") if it was set
// before, unless force; ValueError for an unknown method. force with an empty method unsets it.
void set_start_method(std::string_view method, bool force = false);
// The default start method's name; "spawn" when none was set -- or "" (Python: None) when
// allow_none and none was set.
std::string get_start_method(bool allow_none = false);
// {"spawn", "fork", "forkserver"}: the default first, as in Python.
std::vector<std::string> get_all_start_methods();

}  // namespace pyconc::multiprocessing
