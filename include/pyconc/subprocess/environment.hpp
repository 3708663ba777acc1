// pyconc/subprocess/environment.hpp -- Environment, the environment variables a child starts with.
//
// Python: Popen's env= argument -- None (the child inherits the parent's environment) or a
// mapping that becomes the child's whole environment.
//   sp::run({"env"}, {.env = {{"LC_ALL", "C"}, {"HOME", "/tmp"}}});      // exactly these two
//   sp::run({"make"}, {.env = sp::Environment::current().set("CC", "clang")});  // os.environ + CC
//   sp::run({"env"}, {.env = {}});                     // env={}: no variables at all
//   sp::run({"env"}, {});                              // env not given (None): inherit
// An options struct that does not mention env holds `std::nullopt` (inherit, Python's None);
// `.env = std::nullopt` says it explicitly. `.env = {}` -- a default Environment -- is an
// empty environment, as `env={}` is in Python.
// The variables are read when the process is started, not when the Environment is made
// (except for current(), which is a snapshot).
// Thread safety: a plain value; current() reads `environ` and so races with a concurrent
// setenv()/putenv() in another thread, like getenv().
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pyconc::subprocess {

class Environment {
 public:
  using Map = std::map<std::string, std::string>;

  // An empty environment: the child starts with no variables (Python's env={}).
  Environment() : vars_(std::in_place) {}
  // Inherit the parent's environment (Python's env=None); what options hold when env is not given.
  Environment(std::nullopt_t) noexcept {}  // NOLINT: implicit, `.env = std::nullopt`
  // Exactly these variables.
  Environment(std::initializer_list<Map::value_type> vars) : vars_(std::in_place, vars) {}
  Environment(Map vars) : vars_(std::move(vars)) {}  // NOLINT: implicit, like a Python dict

  // A snapshot of this process's environment (Python: dict(os.environ)).
  static Environment current();

  // Whether the child inherits the parent's environment (no variables were given).
  bool inherits() const noexcept { return !vars_.has_value(); }
  // The variables given (empty when inheriting).
  const Map& vars() const noexcept;

  // Sets / removes one variable. On an inheriting Environment these first take a snapshot of
  // the current environment, so `Environment(std::nullopt).set("X", "1")` is "the parent's
  // plus X" (as is `Environment::current().set("X", "1")`); `Environment().set("X", "1")` is
  // "X alone".
  Environment& set(const std::string& name, std::string value);
  Environment& unset(const std::string& name);

  // "NAME=value" strings, the form execve() takes (empty when inheriting).
  std::vector<std::string> to_envp() const;

 private:
  std::optional<Map> vars_;
};

}  // namespace pyconc::subprocess
