// pyconc/multiprocessing/manager_proxies.hpp -- proxies of the containers a Manager holds:
// DictProxy, ListProxy, NamespaceProxy, ValueProxy, ArrayProxy.
//
// Python: the proxies returned by SyncManager.dict(), list(), Namespace(), Value(), Array().
//
//   auto d = mgr.dict<std::string, int>(); d.set("a", 1); d["b"] = 2; d.get("a");
//   auto lst = mgr.list<std::string>(); lst.append("x"); lst[0]; lst.to_vector();
//   auto ns = mgr.Namespace(); ns.set("x", 10); ns.get<int>("x");
//   auto v = mgr.Value<int>(0); v.set(v.get() + 1);         // v.value += 1 (not atomic: lock it)
//   auto arr = mgr.Array<double>(8); arr.set(0, 1.5); arr[1] = 2.5; arr.to_vector();
//
// Each call is one round trip to the server and is atomic there; a sequence of calls is not
// (guard it with a mgr.Lock(), as in Python). Keys and values cross as dumps() bytes and are
// compared by those bytes. Every proxy is Serializable (serialize.hpp): pass it to
// Pool.apply_async, ProcessPoolExecutor.submit, a Process, a Queue...; the copy rebuilt in
// another process connects to the server by address + authkey (detail/manager_client.hpp).
// Errors: KeyError (dict, with the key when it prints), IndexError (list, array), ValueError
// (list.remove/index of a missing value; a value of another type; a default-constructed
// proxy), AttributeError (Namespace); EOFError/BrokenPipeError/ConnectionRefusedError when the
// server is gone -- never a hang.
// Thread safety: any thread of any process may use any proxy at once; each thread has its own
// connection to the server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/detail/manager_client.hpp"
#include "pyconc/multiprocessing/serialize.hpp"

namespace pyconc::multiprocessing {

// Python: a DictProxy (mgr.dict()).
template <class K, class V>
class DictProxy : private pyconc::detail::ManagerProxyBase {
  using Op = pyconc::detail::ManagerOp;

 public:
  // An unbound proxy (its calls raise ValueError): a target for loads() / assignment.
  DictProxy() = default;
  using ManagerProxyBase::load;
  using ManagerProxyBase::save;

  // d[k] = v
  void set(const K& k, const V& v) { call(request(Op::d_set).blob(dumps(k)).blob(dumps(v))); }
  // d[k]: KeyError if missing.
  V get(const K& k) const {
    if (auto v = find(k)) return std::move(*v);
    throw KeyError(pyconc::detail::describe_key(k));
  }
  // d.get(k, default)
  V get(const K& k, const V& default_value) const {
    auto v = find(k);
    return v ? std::move(*v) : default_value;
  }
  // The value, or std::nullopt (one round trip, unlike contains() then get()).
  std::optional<V> find(const K& k) const {
    return found_value(call(request(Op::d_get).blob(dumps(k))));
  }
  bool contains(const K& k) const {
    return pyconc::detail::ManagerReader(call(request(Op::d_contains).blob(dumps(k)))).number() !=
           0;
  }
  // del d[k]: KeyError if missing.
  void erase(const K& k) {
    call(request(Op::d_del).blob(dumps(k)), pyconc::detail::describe_key(k));
  }
  // d.pop(k): KeyError if missing; d.pop(k, default).
  V pop(const K& k) {
    if (auto v = found_value(call(request(Op::d_pop).blob(dumps(k))))) return std::move(*v);
    throw KeyError(pyconc::detail::describe_key(k));
  }
  V pop(const K& k, const V& default_value) {
    auto v = found_value(call(request(Op::d_pop).blob(dumps(k))));
    return v ? std::move(*v) : default_value;
  }
  // d.setdefault(k, v): the value now stored under k.
  V setdefault(const K& k, const V& v) {
    return loads<V>(
        pyconc::detail::ManagerReader(call(request(Op::d_setdefault).blob(dumps(k)).blob(dumps(v))))
            .blob());
  }
  // len(d)
  std::size_t size() const {
    return static_cast<std::size_t>(
        pyconc::detail::ManagerReader(call(request(Op::d_len))).number());
  }
  bool empty() const { return size() == 0; }
  std::vector<K> keys() const { return load_all<K>(call(request(Op::d_keys))); }
  std::vector<V> values() const { return load_all<V>(call(request(Op::d_values))); }
  // In insertion order (Python's dict(d).items()).
  std::vector<std::pair<K, V>> items() const {
    const std::string payload = call(request(Op::d_items));
    pyconc::detail::ManagerReader r(payload);
    std::vector<std::pair<K, V>> out;
    out.reserve(static_cast<std::size_t>(r.number()));
    while (!r.done()) {
      K k = loads<K>(r.blob());
      out.emplace_back(std::move(k), loads<V>(r.blob()));
    }
    return out;
  }
  void clear() { call(request(Op::d_clear)); }
  // d.update(pairs): one atomic operation on the server.
  template <class Range>
  void update(const Range& pairs) {
    auto w = request(Op::d_update);
    for (const auto& [k, v] : pairs)
      w.blob(dumps(static_cast<const K&>(k))).blob(dumps(static_cast<const V&>(v)));
    call(w);
  }
  // d[k] as an assignable reference: `d["name"] = "malu"; std::string s = d["name"];`
  pyconc::detail::ManagerItemRef<DictProxy, K, V> operator[](const K& k) { return {*this, k}; }

 private:
  friend class BaseManager;
  using ManagerProxyBase::ManagerProxyBase;
  static std::optional<V> found_value(const std::string& payload) {
    pyconc::detail::ManagerReader r(payload);
    if (r.number() == 0) return std::nullopt;
    return loads<V>(r.blob());
  }
};

// Python: a ListProxy (mgr.list()). Indexes may be negative (from the end), as in Python.
template <class T>
class ListProxy : private pyconc::detail::ManagerProxyBase {
  using Op = pyconc::detail::ManagerOp;

 public:
  ListProxy() = default;
  using ManagerProxyBase::load;
  using ManagerProxyBase::save;

  void append(const T& v) { call(request(Op::l_append).blob(dumps(v))); }
  // lst.extend(values): one atomic operation on the server.
  template <class Range>
  void extend(const Range& values) {
    auto w = request(Op::l_extend);
    for (const auto& v : values) w.blob(dumps(static_cast<const T&>(v)));
    call(w);
  }
  // lst[i]: IndexError if out of range.
  T get(long i) const {
    return loads<T>(pyconc::detail::ManagerReader(
                        call(request(Op::l_get).number(static_cast<std::uint64_t>(i))))
                        .blob());
  }
  void set(long i, const T& v) {
    call(request(Op::l_set).number(static_cast<std::uint64_t>(i)).blob(dumps(v)));
  }
  pyconc::detail::ManagerItemRef<ListProxy, long, T> operator[](long i) { return {*this, i}; }
  // len(lst)
  std::size_t size() const {
    return static_cast<std::size_t>(
        pyconc::detail::ManagerReader(call(request(Op::l_len))).number());
  }
  bool empty() const { return size() == 0; }
  // lst.pop(i=-1): IndexError on an empty list or a bad index.
  T pop(long i = -1) {
    return loads<T>(pyconc::detail::ManagerReader(
                        call(request(Op::l_pop).number(static_cast<std::uint64_t>(i))))
                        .blob());
  }
  // lst.insert(i, v): i is clamped to the list, as in Python.
  void insert(long i, const T& v) {
    call(request(Op::l_insert).number(static_cast<std::uint64_t>(i)).blob(dumps(v)));
  }
  // lst.remove(v): the first equal value; ValueError if none.
  void remove(const T& v) { call(request(Op::l_remove).blob(dumps(v))); }
  // lst.index(v): ValueError if none.
  std::size_t index(const T& v) const {
    return static_cast<std::size_t>(
        pyconc::detail::ManagerReader(call(request(Op::l_index).blob(dumps(v)))).number());
  }
  std::size_t count(const T& v) const {
    return static_cast<std::size_t>(
        pyconc::detail::ManagerReader(call(request(Op::l_count).blob(dumps(v)))).number());
  }
  bool contains(const T& v) const { return count(v) > 0; }
  void clear() { call(request(Op::l_clear)); }
  // list(lst): a private copy of the elements.
  std::vector<T> to_vector() const { return load_all<T>(call(request(Op::l_all))); }

 private:
  friend class BaseManager;
  using ManagerProxyBase::ManagerProxyBase;
};

// Python: a NamespaceProxy (mgr.Namespace()): named attributes of any Serializable type.
//   auto ns = mgr.Namespace(); ns.set("x", 10); int x = ns.get<int>("x");
class NamespaceProxy : private pyconc::detail::ManagerProxyBase {
  using Op = pyconc::detail::ManagerOp;

 public:
  NamespaceProxy() = default;
  using ManagerProxyBase::load;
  using ManagerProxyBase::save;

  template <class T>
  void set(const std::string& name, const T& value) {
    call(request(Op::d_set).blob(name).blob(dumps(value)));
  }
  // AttributeError if missing; ValueError if it holds another type.
  template <class T>
  T get(const std::string& name) const {
    const std::string payload = call(request(Op::d_get).blob(name));
    pyconc::detail::ManagerReader r(payload);
    if (r.number() == 0) throw AttributeError("'Namespace' object has no attribute '" + name + "'");
    return loads<T>(r.blob());
  }
  bool contains(const std::string& name) const {
    return pyconc::detail::ManagerReader(call(request(Op::d_contains).blob(name))).number() != 0;
  }
  // del ns.name: AttributeError if missing.
  void erase(const std::string& name) {
    try {
      call(request(Op::d_del).blob(name));
    } catch (const KeyError&) {
      throw AttributeError("'Namespace' object has no attribute '" + name + "'");
    }
  }

 private:
  friend class BaseManager;
  using ManagerProxyBase::ManagerProxyBase;
};

// Python: a ValueProxy (mgr.Value(typecode, value)): one shared value of type T, read with
// get() and replaced with set() (Python's `.value`). Each call is atomic; get-then-set is not.
template <class T>
class ValueProxy : private pyconc::detail::ManagerProxyBase {
  using Op = pyconc::detail::ManagerOp;

 public:
  ValueProxy() = default;
  using ManagerProxyBase::load;
  using ManagerProxyBase::save;

  T get() const { return call_value<T>(request(Op::v_get)); }
  void set(const T& v) { call(request(Op::v_set).blob(dumps(v))); }
  // Python: v.value
  T value() const { return get(); }

 private:
  friend class BaseManager;
  using ManagerProxyBase::ManagerProxyBase;
};

// Python: an ArrayProxy (mgr.Array(typecode, size_or_sequence)): a fixed-size sequence of T.
// Indexes may be negative (from the end); IndexError outside.
template <class T>
class ArrayProxy : private pyconc::detail::ManagerProxyBase {
  using Op = pyconc::detail::ManagerOp;

 public:
  ArrayProxy() = default;
  using ManagerProxyBase::load;
  using ManagerProxyBase::save;

  T get(long i) const {
    return call_value<T>(request(Op::l_get).number(static_cast<std::uint64_t>(i)));
  }
  void set(long i, const T& v) {
    call(request(Op::l_set).number(static_cast<std::uint64_t>(i)).blob(dumps(v)));
  }
  pyconc::detail::ManagerItemRef<ArrayProxy, long, T> operator[](long i) { return {*this, i}; }
  // len(arr)
  std::size_t size() const { return static_cast<std::size_t>(call_number(request(Op::l_len))); }
  // arr[:]
  std::vector<T> to_vector() const { return load_all<T>(call(request(Op::l_all))); }

 private:
  friend class BaseManager;
  using ManagerProxyBase::ManagerProxyBase;
};

}  // namespace pyconc::multiprocessing
