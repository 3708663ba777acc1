// pyconc/multiprocessing/manager.hpp -- Manager: containers shared by many processes.
//
// Python: multiprocessing.Manager() with its dict(), list() and Namespace() proxies.
//
//   mp::Manager mgr;                                     // with Manager() as mgr:
//   auto d = mgr.dict<std::string, std::string>();       // m_dict = mgr.dict()
//   auto lst = mgr.list<std::string>();                  // m_list = mgr.list()
//   d.set("name", "malu"); d["name"] = "malu"; d.get("name"); d.contains("x");
//   lst.append("hello"); lst.size(); lst[0]; lst.to_vector();
//   mp::Process p(func, "p1", lst, d); p.start();        // proxies work in every child
//
// As in Python, the containers live in a server process that the Manager starts (a forked
// daemon child; it dies with the Manager, or with its parent), and a proxy sends each
// operation to it over a Unix socket and waits for the answer. The server runs one operation
// at a time, so each proxy call is atomic and no update from any process is ever lost; a
// sequence of calls (get, then set) is not atomic -- guard it with an mp::Lock, as in Python.
// Proxies are small copyable handles; each process (and each fork of it) opens its own
// connection on first use. The socket lives in the abstract namespace (no file) and the server
// only answers processes of the same user (SO_PEERCRED), in place of Python's authkey.
// Differences: containers are typed (every process uses the same K, V, T); keys and values are
// compared by their serialized bytes (dumps()), which is equality for strings, integers and the
// standard containers; objects live until the Manager shuts down (no per-proxy refcount); a
// dict iterates in insertion order, as Python's.
// Errors: KeyError (dict, with the key when it prints), IndexError (list), ValueError
// (list.remove/index of a missing value, or a value of another type), AttributeError
// (Namespace), EOFError/OSError when the server is gone (after shutdown()).
// Thread safety: any thread of any process may use any proxy at once (calls from one process
// are serialized on its connection). The Manager object itself belongs to its creator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/serialize.hpp"

namespace pyconc::multiprocessing {
class Process;
}

namespace pyconc::detail {

// The operations a manager server knows. Dict operations also serve Namespace.
enum class ManagerOp : std::uint8_t {
  new_dict = 1,
  new_list,
  shutdown,
  d_set,
  d_get,  // -> found, value
  d_contains,
  d_del,
  d_pop,  // -> found, value
  d_len,
  d_keys,
  d_values,
  d_items,
  d_clear,
  d_update,
  d_setdefault,
  l_append,
  l_extend,
  l_get,
  l_set,
  l_len,
  l_pop,
  l_insert,
  l_remove,
  l_index,
  l_count,
  l_clear,
  l_all,
};

// Status of a reply; not ok: the payload is a message.
enum class ManagerStatus : std::uint8_t { ok = 0, key_error, index_error, value_error, error };

// A request or reply body: a sequence of length-prefixed blobs and integers.
class ManagerWriter {
 public:
  ManagerWriter(ManagerOp op, std::uint32_t object) {
    buf_.push_back(static_cast<char>(op));
    number(object);
  }
  ManagerWriter& blob(std::string_view b) {
    number(b.size());
    buf_.append(b);
    return *this;
  }
  ManagerWriter& number(std::uint64_t n) {
    buf_.append(reinterpret_cast<const char*>(&n), sizeof n);
    return *this;
  }
  const std::string& bytes() const noexcept { return buf_; }

 private:
  std::string buf_;
};

class ManagerReader {
 public:
  // Reads `bytes`, which must outlive the reader (not a temporary of another statement).
  explicit ManagerReader(std::string_view bytes) : rest_(bytes) {}
  std::uint64_t number();   // ValueError if truncated
  std::string_view blob();  // ValueError if truncated
  bool done() const noexcept { return rest_.empty(); }

 private:
  std::string_view rest_;
};

// One connection per process to a manager server (re-opened in a forked child).
class ManagerClient {
 public:
  explicit ManagerClient(std::string address);
  ~ManagerClient();
  ManagerClient(const ManagerClient&) = delete;
  ManagerClient& operator=(const ManagerClient&) = delete;

  // Sends a request; returns the reply's status and payload. EOFError/OSError if the server
  // is gone.
  std::pair<ManagerStatus, std::string> call(const ManagerWriter& request);
  const std::string& address() const noexcept { return address_; }
  // After fork: the inherited connection belongs to the parent.
  void forget_connection() noexcept;

 private:
  int connect_locked();

  std::string address_;
  struct State;
  std::unique_ptr<State> state_;
};

// Throws the exception for a reply that is not ok. `what` describes the key/index/value.
[[noreturn]] void raise_manager_error(ManagerStatus status, const std::string& message);

// The characters an ostream writes, collected in a string (std::ostringstream without
// <sstream>, which costs every file that includes this header).
class StringSink : public std::streambuf {
 public:
  std::string text;

 protected:
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) text.push_back(static_cast<char>(c));
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    text.append(s, static_cast<std::size_t>(n));
    return n;
  }
};

// How a key shows in a KeyError: 'name' for strings, 42 for numbers, else its type.
template <class K>
std::string describe_key(const K& k) {
  if constexpr (std::is_convertible_v<const K&, std::string_view>) {
    return "'" + std::string(std::string_view(k)) + "'";
  } else if constexpr (requires(std::ostream & o) { o << k; }) {
    StringSink sink;
    std::ostream s(&sink);
    s << k;
    return std::move(sink.text);
  } else {
    return "key";
  }
}

// Common part of the proxies: the client and the object's id on the server.
class ManagerProxyBase {
 protected:
  ManagerProxyBase(std::shared_ptr<ManagerClient> client, std::uint32_t id)
      : client_(std::move(client)), id_(id) {}
  ManagerWriter request(ManagerOp op) const { return ManagerWriter(op, id_); }
  // The payload of an ok reply; other statuses throw (KeyError gets `what` as message).
  std::string call(const ManagerWriter& w, const std::string& what = {}) const {
    auto [status, payload] = client_->call(w);
    if (status != ManagerStatus::ok) raise_manager_error(status, what.empty() ? payload : what);
    return std::move(payload);
  }
  template <class T>
  static std::vector<T> load_all(std::string_view payload) {
    ManagerReader r(payload);
    std::vector<T> out;
    out.reserve(static_cast<std::size_t>(r.number()));
    while (!r.done()) out.push_back(multiprocessing::loads<T>(r.blob()));
    return out;
  }

  std::shared_ptr<ManagerClient> client_;
  std::uint32_t id_;
};

// `proxy[key]` on the left or right of an assignment.
template <class Proxy, class Key, class Value>
class ManagerItemRef {
 public:
  ManagerItemRef(Proxy& p, Key k) : p_(p), k_(std::move(k)) {}
  ManagerItemRef& operator=(const Value& v) {
    p_.set(k_, v);
    return *this;
  }
  operator Value() const { return p_.get(k_); }  // NOLINT(google-explicit-constructor)

 private:
  Proxy& p_;
  Key k_;
};

}  // namespace pyconc::detail

namespace pyconc::multiprocessing {

// Python: a DictProxy (mgr.dict()).
template <class K, class V>
class DictProxy : private pyconc::detail::ManagerProxyBase {
  using Op = pyconc::detail::ManagerOp;

 public:
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
  friend class Manager;
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
  friend class Manager;
  using ManagerProxyBase::ManagerProxyBase;
};

// Python: a NamespaceProxy (mgr.Namespace()): named attributes of any Serializable type.
//   auto ns = mgr.Namespace(); ns.set("x", 10); int x = ns.get<int>("x");
class NamespaceProxy : private pyconc::detail::ManagerProxyBase {
  using Op = pyconc::detail::ManagerOp;

 public:
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
  friend class Manager;
  using ManagerProxyBase::ManagerProxyBase;
};

class Manager {
 public:
  // Starts the server process. OSError if it cannot.
  Manager();
  // shutdown().
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  template <class K, class V>
  DictProxy<K, V> dict() {
    return DictProxy<K, V>(client_, create(pyconc::detail::ManagerOp::new_dict));
  }
  template <class T>
  ListProxy<T> list() {
    return ListProxy<T>(client_, create(pyconc::detail::ManagerOp::new_list));
  }
  NamespaceProxy Namespace() {
    return NamespaceProxy(client_, create(pyconc::detail::ManagerOp::new_dict));
  }

  // Stops the server (idempotent; only in the process that made the Manager). Proxies then
  // raise EOFError/OSError.
  void shutdown();
  // The server's socket name (abstract namespace) and process id.
  const std::string& address() const noexcept { return client_->address(); }
  int pid() const noexcept { return server_pid_; }

 private:
  std::uint32_t create(pyconc::detail::ManagerOp op);

  std::shared_ptr<pyconc::detail::ManagerClient> client_;
  std::unique_ptr<Process> server_;
  int server_pid_ = 0;
  int creator_pid_ = 0;
};

}  // namespace pyconc::multiprocessing
