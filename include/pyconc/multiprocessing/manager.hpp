// pyconc/multiprocessing/manager.hpp -- Manager / BaseManager: objects shared by many processes,
// served by one server process, reached through proxies.
//
// Python: multiprocessing.Manager() (a started SyncManager) and managers.BaseManager.
//
//   mp::Manager mgr;                                     // with Manager() as mgr:
//   auto d = mgr.dict<std::string, std::string>();       // m_dict = mgr.dict()
//   auto q = mgr.Queue<std::string>(); auto lk = mgr.Lock(); auto ev = mgr.Event();
//   auto v = mgr.Value<int>(0); auto arr = mgr.Array<double>(8);
//   pool.apply_async(worker, std::make_tuple(q));        // proxies are Serializable
//   mp::Process p(func, "p1", lst, d); p.start();        // and work in every child
//
//   // A manager on the network (Python: BaseManager(address=..., authkey=...)):
//   mp::BaseManager server({.address = {"127.0.0.1", 50000}, .authkey = "secret"});
//   server.serve_forever();                              // this process serves until shutdown
//   mp::BaseManager client({.address = {"127.0.0.1", 50000}, .authkey = "secret"});
//   client.connect(); auto q2 = client.Queue<int>();     // AuthenticationError: wrong key
//
// The objects live in a server: a child process started by start() (Manager() starts it; it
// is a daemon that dies with the manager, or with its parent) or the calling process in
// serve_forever(). The server answers each connection on its own thread, so blocking calls
// (Queue.get, Lock.acquire, Event.wait, Condition.wait, Barrier.wait) block only their caller.
// Every connection first passes the authkey challenge (HMAC-SHA256 both ways,
// detail/socket.hpp); a client with a wrong key or speaking garbage is dropped and nothing is
// served to it; the others go on. The default address is a private abstract Unix socket; the
// default authkey is 32 random bytes.
// Objects are reference counted as in Python: each proxy (its copies in one process share one
// reference) holds a reference; the object is deleted when the last one goes.
// Differences: containers and queues are typed; a proxy's bytes carry the authkey (Python
// keeps it in the process object and passes it to children it starts; pool workers here are
// re-executed programs, so the proxy brings it) -- send proxies only to processes you trust,
// as you would the authkey itself; Python's BaseManager serves only registered types, ours
// serves every built-in type too.
// Thread safety: any thread of any process may use any proxy. A BaseManager object (start,
// connect, shutdown) belongs to the thread that made it; its factory calls may come from any
// thread once started or connected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/address.hpp"
#include "pyconc/multiprocessing/auto_proxy.hpp"
#include "pyconc/multiprocessing/detail/manager_client.hpp"
#include "pyconc/multiprocessing/manager_proxies.hpp"
#include "pyconc/multiprocessing/serialize.hpp"
#include "pyconc/multiprocessing/sync_proxies.hpp"

namespace pyconc::detail {
class ManagerServer;
}

namespace pyconc::multiprocessing {

class Process;

class BaseManager;

// Python: managers.Server, what BaseManager.get_server() returns -- a server already listening
// (address() is final: a TCP port 0 has become the real port), serving once serve_forever()
// is called, until a client asks it to stop (BaseManager::stop_server). Move-only.
class ManagerServer {
 public:
  ManagerServer(ManagerServer&&) noexcept;
  ManagerServer& operator=(ManagerServer&&) noexcept;
  ~ManagerServer();

  const Address& address() const noexcept { return address_; }
  void serve_forever();

 private:
  friend class BaseManager;
  ManagerServer(Address address, std::unique_ptr<pyconc::detail::ManagerServer> impl);
  Address address_;
  std::unique_ptr<pyconc::detail::ManagerServer> impl_;
};

// BaseManager's keyword arguments.
struct ManagerOptions {
  // Where the server listens: {"host", port} for TCP (port 0: any free port; address() tells),
  // {.path = ...} for a Unix socket. Empty: a private abstract Unix socket.
  Address address{};
  // The shared secret of the challenge. Empty: 32 random bytes (see authkey()).
  std::string authkey{};
};

// Python: multiprocessing.managers.BaseManager (with SyncManager's factories).
class BaseManager {
 public:
  BaseManager();
  explicit BaseManager(ManagerOptions options);
  // shutdown() if this object started the server.
  ~BaseManager();
  BaseManager(const BaseManager&) = delete;
  BaseManager& operator=(const BaseManager&) = delete;

  // Starts the server in a child process. ValueError if already started or connected;
  // OSError if the address cannot be bound.
  void start();
  // Connects to a server already running at address (a round trip, so a wrong authkey is an
  // AuthenticationError here, and no server an OSError such as ConnectionRefusedError).
  void connect();
  // Serves in this process until a client sends shutdown (BaseManager::shutdown() from the
  // process that connected, or stop_server()); then returns. Threads still blocked in a
  // server call at that moment are left to finish on their own.
  void serve_forever();
  // Python: get_server() -- a server listening on address() in this process, to be run with
  // its serve_forever() (address() then tells a TCP port chosen by the system).
  ManagerServer get_server();
  // Stops a server this object started (idempotent; only in the process that started it) and
  // waits for it; proxies then raise EOFError/OSError. For a connected manager: nothing (as
  // in Python); use stop_server().
  void shutdown();
  // Asks the server (started or connected) to stop. Python: the server's shutdown request.
  void stop_server();

  // Where the server listens (what another BaseManager's connect() takes), and the key.
  const Address& address() const noexcept { return options_.address; }
  const std::string& authkey() const noexcept { return options_.authkey; }
  // The server's pid (0 unless start() made it).
  int pid() const noexcept { return server_pid_; }

  // ---- factories (Python: SyncManager's) -- ValueError before start()/connect().
  template <class K, class V>
  DictProxy<K, V> dict() {
    return DictProxy<K, V>(create_object(create_request(pyconc::detail::ManagerKind::dict)));
  }
  template <class T>
  ListProxy<T> list() {
    return ListProxy<T>(create_object(create_request(pyconc::detail::ManagerKind::list)));
  }
  NamespaceProxy Namespace() {
    return NamespaceProxy(create_object(create_request(pyconc::detail::ManagerKind::namespace_)));
  }
  // maxsize 0: unbounded.
  template <class T>
  QueueProxy<T> Queue(long maxsize = 0) {
    auto w = create_request(pyconc::detail::ManagerKind::queue);
    w.number(static_cast<std::uint64_t>(maxsize < 0 ? 0 : maxsize));
    return QueueProxy<T>(create_object(w));
  }
  LockProxy Lock() {
    return LockProxy(create_object(create_request(pyconc::detail::ManagerKind::lock)));
  }
  RLockProxy RLock() {
    return RLockProxy(create_object(create_request(pyconc::detail::ManagerKind::rlock)));
  }
  // ValueError if value < 0.
  SemaphoreProxy Semaphore(int value = 1) {
    return SemaphoreProxy(create_counted(pyconc::detail::ManagerKind::semaphore, value));
  }
  BoundedSemaphoreProxy BoundedSemaphore(int value = 1) {
    return BoundedSemaphoreProxy(
        create_counted(pyconc::detail::ManagerKind::bounded_semaphore, value));
  }
  EventProxy Event() {
    return EventProxy(create_object(create_request(pyconc::detail::ManagerKind::event)));
  }
  ConditionProxy Condition() {
    return ConditionProxy(create_object(create_request(pyconc::detail::ManagerKind::condition)));
  }
  // ValueError if parties < 1.
  BarrierProxy Barrier(int parties) {
    if (parties < 1) throw ValueError("Barrier: parties must be 1 or more");
    return BarrierProxy(create_counted(pyconc::detail::ManagerKind::barrier, parties));
  }
  template <class T>
  ValueProxy<T> Value(const T& value) {
    auto w = create_request(pyconc::detail::ManagerKind::value);
    w.blob(dumps(value));
    return ValueProxy<T>(create_object(w));
  }
  // n elements, each T{} (Python: Array(typecode, n): zeros).
  template <class T>
  ArrayProxy<T> Array(std::size_t n) {
    return Array<T>(std::vector<T>(n));
  }
  // Python: Array(typecode, sequence).
  template <class T>
  ArrayProxy<T> Array(const std::vector<T>& values) {
    auto w = create_request(pyconc::detail::ManagerKind::array);
    for (const T& v : values) w.blob(dumps(v));
    return ArrayProxy<T>(create_object(w));
  }
  template <class T>
  ArrayProxy<T> Array(std::initializer_list<T> values) {
    return Array<T>(std::vector<T>(values));
  }

  // ---- a user's class (Python: BaseManager.register(typeid, callable, exposed=...)); see
  // auto_proxy.hpp. T is built in the server from CtorArgs (its constructor's parameters);
  // `exposed` lists the methods proxies may call, each a member of T itself. Registering a
  // typeid again replaces it. ValueError for an empty typeid, an empty or repeated method
  // name, or a method of another class. Register before start() (the server is a fork).
  template <class T, class... CtorArgs>
  static void register_(std::string typeid_, RegisterOptions options = {}) {
    using Args = std::tuple<std::decay_t<CtorArgs>...>;
    static_assert(std::is_constructible_v<T, CtorArgs...>,
                  "BaseManager::register_<T, CtorArgs...>: T must be constructible from CtorArgs");
    static_assert(Serializable<Args>,
                  "BaseManager::register_: the constructor's arguments must be Serializable");
    auto type = std::make_shared<pyconc::detail::ManagerType>();
    type->typeid_ = std::move(typeid_);
    type->make = [](std::string_view bytes) -> std::shared_ptr<void> {
      auto args = loads<Args>(bytes);
      return std::apply([](auto&... a) { return std::make_shared<T>(a...); }, args);
    };
    type->methods = std::move(options.exposed);
    type->concurrent = options.concurrent;
    check_registration(*type, typeid(T));
    pyconc::detail::register_manager_type(std::move(type));
  }
  // A new object of a registered type, built in the server from `args` (Python:
  // mgr.<typeid>(*args)). ValueError if the server does not know typeid or the argument
  // types are not the registered ones.
  template <class... Args>
  AutoProxy create(const std::string& typeid_, const Args&... args) {
    auto w = create_request(pyconc::detail::ManagerKind::user);
    w.blob(typeid_).blob(dumps(std::tuple<std::decay_t<Args>...>(args...)));
    return AutoProxy(create_object(w));
  }

 private:
  static void check_registration(const pyconc::detail::ManagerType& type,
                                 const std::type_info& cls);
  // A create request for `kind`: its arguments (numbers, blobs) follow.
  static pyconc::detail::ManagerWriter create_request(pyconc::detail::ManagerKind kind) {
    pyconc::detail::ManagerWriter w(pyconc::detail::ManagerOp::create, 0);
    w.number(static_cast<std::uint64_t>(kind));
    return w;
  }
  // A new server object (its one reference is the returned one's).
  std::shared_ptr<pyconc::detail::ManagerRef> create_object(
      const pyconc::detail::ManagerWriter& request);
  std::shared_ptr<pyconc::detail::ManagerRef> create_counted(pyconc::detail::ManagerKind kind,
                                                             int n);
  pyconc::detail::ManagerClient& client() const;

  ManagerOptions options_;
  std::shared_ptr<pyconc::detail::ManagerClient> client_;
  std::unique_ptr<Process> server_;
  int server_pid_ = 0;
  int creator_pid_ = 0;
};

// Python: multiprocessing.Manager() -- a BaseManager whose server is started at construction.
class Manager : public BaseManager {
 public:
  // Starts the server process. OSError if it cannot.
  Manager();
  explicit Manager(ManagerOptions options);
};

// Python: SyncManager is the class of Manager().
using SyncManager = Manager;

}  // namespace pyconc::multiprocessing
