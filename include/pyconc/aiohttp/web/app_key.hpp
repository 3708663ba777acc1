// pyconc/aiohttp/web/app_key.hpp -- web::AppKey<T>: a typed key for the state an Application
// carries (a database pool, settings, a client session), and AppValue<T>, what app[key] gives.
//
// Python: aiohttp.web.AppKey("name", T), app[key] = value, request.app[key].
//   const web::AppKey<Db> db_key("db");
//   app[db_key] = Db{"postgres://..."};               // stores a T (replacing any earlier one)
//   Db& db = req.app()[db_key];                       // KeyError if it was never set
//   req.app()[db_key]->query("...");  req.app().contains(db_key);  req.app().get(db_key);
// Keys compare by identity, as Python's AppKey objects: two AppKey("db") are two keys; a copy
// of a key is the same key. The stored value lives as long as the Application (or until
// replaced or erased); references from get() stay valid until then.
//
// Thread safety: set the state before serving (or in on_startup with one worker); while
// serving, handlers on any number of loops may read it at once. The T itself is shared: its
// own methods must be safe for the way handlers use it (run_app's workers > 1 runs handlers
// on several threads). Replacing or erasing a value while handlers hold references to it is
// a use-after-free, as in any C++ container.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>

namespace pyconc::aiohttp::web {

// The identity every AppKey<T> shares with its copies.
class AppKeyBase {
 public:
  const std::string& name() const noexcept { return name_; }
  std::uint64_t id() const noexcept { return id_; }

 protected:
  explicit AppKeyBase(std::string name) : name_(std::move(name)), id_(next_id()) {}

 private:
  static std::uint64_t next_id() noexcept {
    static std::atomic<std::uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  std::string name_;
  std::uint64_t id_;
};

// Python: web.AppKey(name, t): the key of a T stored on an Application.
template <class T>
class AppKey : public AppKeyBase {
 public:
  using type = T;
  explicit AppKey(std::string name) : AppKeyBase(std::move(name)) {}
};

}  // namespace pyconc::aiohttp::web
