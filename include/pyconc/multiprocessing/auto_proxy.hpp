// pyconc/multiprocessing/auto_proxy.hpp -- a user's class served by a manager:
// BaseManager::register_<T>(typeid, {.exposed = ...}), create(typeid, args...) and AutoProxy.
//
// Python: BaseManager.register(typeid, callable, exposed=...) and the AutoProxy it returns.
//
//   struct Counter {
//     explicit Counter(int start = 0) : n(start) {}
//     int increment(int by) { return n += by; }
//     int get() const { return n; }
//     int n;
//   };
//   mp::BaseManager::register_<Counter, int>(                 // T, then its constructor's args
//       "Counter", {.exposed = {mp::exposed<&Counter::increment>("increment"),
//                               mp::exposed<&Counter::get>("get")}});
//   mp::Manager mgr;                                         // register before start()
//   mp::AutoProxy c = mgr.create("Counter", 10);             // Python: mgr.Counter(10)
//   int n = c.callmethod<int>("increment", 5);               // Python: c.increment(5)
//
// The object lives in the server (built there from the arguments' bytes, so the types given
// to create() must be the registered constructor's, e.g. `10` for int, `10L` for long); a
// call names a method, carries dumps() of the arguments and returns loads<R>() of the result
// -- any Serializable types. Only exposed methods can be called (Python's `exposed`); another
// name is a ValueError, and so are arguments or a result of other types than the method's.
// An exception thrown by the method is rethrown in the caller with its type when it is a
// standard or pyconc type (else RemoteError). By default the server runs one method at a time
// per object (C++ objects are rarely thread-safe); `.concurrent = true` lets calls from
// several clients run at once, as Python's server does.
// Differences: register_ is static and process-wide (as Python's class attribute registry);
// a manager started before a registration does not know it; a typed proxy is written by
// wrapping callmethod (Python: a BaseProxy subclass).
// Thread safety: as every proxy -- any thread of any process.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <variant>

#include "pyconc/multiprocessing/detail/manager_client.hpp"
#include "pyconc/multiprocessing/detail/manager_registry.hpp"
#include "pyconc/multiprocessing/serialize.hpp"

namespace pyconc::detail {

template <class M>
struct member_function;
template <class C, class R, class... P>
struct member_function<R (C::*)(P...)> {
  using owner = C;
  using result = R;
  using args = std::tuple<std::decay_t<P>...>;
};
template <class C, class R, class... P>
struct member_function<R (C::*)(P...) const> : member_function<R (C::*)(P...)> {};
template <class C, class R, class... P>
struct member_function<R (C::*)(P...) noexcept> : member_function<R (C::*)(P...)> {};
template <class C, class R, class... P>
struct member_function<R (C::*)(P...) const noexcept> : member_function<R (C::*)(P...)> {};

template <auto Method>
std::string invoke_exposed(void* object, std::string_view args) {
  using MF = member_function<decltype(Method)>;
  using C = typename MF::owner;
  using R = typename MF::result;
  auto a = multiprocessing::loads<typename MF::args>(args);
  auto call = [&](auto&... xs) -> decltype(auto) {
    return (static_cast<C*>(object)->*Method)(xs...);
  };
  if constexpr (std::is_void_v<R>) {
    std::apply(call, a);
    return multiprocessing::dumps(std::monostate{});
  } else {
    return multiprocessing::dumps(std::decay_t<R>(std::apply(call, a)));
  }
}

}  // namespace pyconc::detail

namespace pyconc::multiprocessing {

// One entry of RegisterOptions::exposed: member function `Method` callable as `name`.
// Its parameters (decayed) and result must be Serializable (checked at compile time).
template <auto Method>
pyconc::detail::ManagerMethod exposed(std::string name) {
  static_assert(std::is_member_function_pointer_v<decltype(Method)>,
                "mp::exposed<&T::method>(\"name\"): a pointer to a member function");
  using MF = pyconc::detail::member_function<decltype(Method)>;
  static_assert(Serializable<typename MF::args>,
                "mp::exposed: the method's parameters must be Serializable");
  static_assert(
      std::is_void_v<typename MF::result> || Serializable<std::decay_t<typename MF::result>>,
      "mp::exposed: the method's result must be Serializable (or void)");
  return {std::move(name), &pyconc::detail::invoke_exposed<Method>, &typeid(typename MF::owner)};
}

// register_'s keyword arguments (Python: exposed=...).
struct RegisterOptions {
  std::vector<pyconc::detail::ManagerMethod> exposed{};
  bool concurrent = false;  // let the server run several calls on one object at once
};

// Python: an AutoProxy of a registered type (what mgr.<typeid>() returns).
class AutoProxy : private pyconc::detail::ManagerProxyBase {
 public:
  AutoProxy() = default;
  using ManagerProxyBase::load;
  using ManagerProxyBase::save;

  // Python: proxy._callmethod(name, args) -- the exposed method `name` with `args`, its result
  // as an R (void: ignored). ValueError for a name not exposed or types that do not match.
  template <class R = void, class... Args>
  R callmethod(const std::string& name, const Args&... args) {
    const std::string payload = call(request(pyconc::detail::ManagerOp::call_method)
                                         .blob(name)
                                         .blob(dumps(std::tuple<std::decay_t<Args>...>(args...))));
    if constexpr (!std::is_void_v<R>) {  // void: the result is not read
      return loads<R>(pyconc::detail::ManagerReader(payload).blob());
    }
  }

 private:
  friend class BaseManager;
  using ManagerProxyBase::ManagerProxyBase;
};

}  // namespace pyconc::multiprocessing
