// pyconc/multiprocessing/detail/manager_client.hpp -- the client side of a Manager: connections
// to the server, references to its objects, and the base of every proxy.
//
// Internal to multiprocessing. As Python's BaseProxy: a proxy's token is (address, id, kind);
// each thread of each process talks to the server on its own connection (opened on first use,
// after the authkey challenge), so a call that blocks on the server (Queue.get, Lock.acquire)
// blocks only its own thread, and an RLock acquired by a thread is owned by that thread. A
// forked child drops the connections it inherited and opens its own.
// References: a ManagerRef stands for one server-side reference, held by every copy of a proxy
// in one process; the last copy going away sends decref (only in the process that took the
// reference: a forked child's inherited copies never decref). A proxy rebuilt from bytes in
// another process (a pool worker) connects by address + authkey and takes its own reference
// (incref) -- so the sender must keep its proxy until the receiver has loaded it, as in Python.
// Thread safety: ManagerClient and ManagerRef may be used from any thread at once.
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

#include "pyconc/detail/chrono.hpp"
#include "pyconc/detail/deadline.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/address.hpp"
#include "pyconc/multiprocessing/detail/manager_wire.hpp"
#include "pyconc/multiprocessing/serialize.hpp"

namespace pyconc::detail {

// Connections of this process to one manager server.
class ManagerClient {
 public:
  ManagerClient(multiprocessing::Address address, std::string authkey);
  ~ManagerClient();
  ManagerClient(const ManagerClient&) = delete;
  ManagerClient& operator=(const ManagerClient&) = delete;

  // The client of this process for that server (shared by every proxy that names it).
  static std::shared_ptr<ManagerClient> for_address(const multiprocessing::Address& address,
                                                    const std::string& authkey);

  // Sends a request on this thread's connection; the reply's status and payload.
  // EOFError/BrokenPipeError/ConnectionRefusedError... when the server is gone,
  // AuthenticationError when the authkey is refused.
  std::pair<ManagerStatus, std::string> call(const ManagerWriter& request);
  // The payload of an ok reply; other statuses throw (raise_manager_error).
  std::string call_ok(const ManagerWriter& request, const std::string& what = {});

  const multiprocessing::Address& address() const noexcept { return address_; }
  const std::string& authkey() const noexcept { return authkey_; }
  // In a forked child: the inherited connections belong to the parent.
  void forget_connections() noexcept;

  struct State;

 private:
  int connection();

  multiprocessing::Address address_;
  std::string authkey_;
  std::shared_ptr<State> state_;
};

// Throws the exception for a reply that is not ok. `message` describes the key/index/value.
[[noreturn]] void raise_manager_error(ManagerStatus status, const std::string& message);

// One reference to a server object, shared by the copies of a proxy in one process.
class ManagerRef {
 public:
  // Adopts a reference the server already counted (create's).
  ManagerRef(std::shared_ptr<ManagerClient> client, std::uint32_t id, ManagerKind kind);
  // decref (errors ignored: the server may be gone).
  ~ManagerRef();
  ManagerRef(const ManagerRef&) = delete;
  ManagerRef& operator=(const ManagerRef&) = delete;

  // Takes a new reference (incref) to the object named by a token.
  static std::shared_ptr<ManagerRef> attach(const multiprocessing::Address& address,
                                            const std::string& authkey, std::uint32_t id,
                                            ManagerKind kind);

  ManagerClient& client() const noexcept { return *client_; }
  std::uint32_t id() const noexcept { return id_; }
  ManagerKind kind() const noexcept { return kind_; }

 private:
  std::shared_ptr<ManagerClient> client_;
  std::uint32_t id_;
  ManagerKind kind_;
  long owner_pid_;
};

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

// A wait field for a request: how long the server may block.
template <class Rep, class Period>
std::uint64_t wait_field(std::chrono::duration<Rep, Period> timeout) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(checked_duration(timeout));
  return ns.count() <= 0 ? 0 : static_cast<std::uint64_t>(ns.count());
}

// Common part of the proxies: the reference, requests, and the token as bytes (a proxy is
// Serializable: save() writes address + authkey + id + kind, load() connects and increfs).
class ManagerProxyBase {
 public:
  template <class Archive>
  void save(Archive& ar) const {
    const ManagerRef& r = bound();
    const std::uint8_t kind = static_cast<std::uint8_t>(r.kind());
    ar(r.client().address(), r.client().authkey(), r.id(), kind);
  }
  template <class Archive>
  void load(Archive& ar) {
    multiprocessing::Address address;
    std::string authkey;
    std::uint32_t id = 0;
    std::uint8_t kind = 0;
    ar(address, authkey, id, kind);
    ref_ = ManagerRef::attach(address, authkey, id, static_cast<ManagerKind>(kind));
  }

 protected:
  ManagerProxyBase() = default;
  explicit ManagerProxyBase(std::shared_ptr<ManagerRef> ref) : ref_(std::move(ref)) {}

  const ManagerRef& bound() const;  // ValueError for a default-constructed proxy
  ManagerWriter request(ManagerOp op) const { return ManagerWriter(op, bound().id()); }
  // The payload of an ok reply; other statuses throw (KeyError gets `what` as message).
  std::string call(const ManagerWriter& w, const std::string& what = {}) const {
    return ref_->client().call_ok(w, what);
  }
  std::uint64_t call_number(const ManagerWriter& w) const {
    const std::string payload = call(w);
    return ManagerReader(payload).number();
  }
  template <class T>
  T call_value(const ManagerWriter& w) const {
    const std::string payload = call(w);
    return multiprocessing::loads<T>(ManagerReader(payload).blob());
  }
  template <class T>
  static std::vector<T> load_all(std::string_view payload) {
    ManagerReader r(payload);
    std::vector<T> out;
    out.reserve(static_cast<std::size_t>(r.number()));
    while (!r.done()) out.push_back(multiprocessing::loads<T>(r.blob()));
    return out;
  }

  std::shared_ptr<ManagerRef> ref_;
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
