// The client side of a Manager: one connection per thread, references, reply errors.
#include "pyconc/multiprocessing/detail/manager_client.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>
#include <unordered_map>

#include "pyconc/multiprocessing/detail/framing.hpp"
#include "pyconc/multiprocessing/detail/socket.hpp"

namespace pyconc::detail {

// ---------------------------------------------------------------------------------------------
// Wire helpers
// ---------------------------------------------------------------------------------------------
std::uint64_t ManagerReader::number() {
  std::uint64_t n = 0;
  if (rest_.size() < sizeof n) throw ValueError("malformed Manager message (truncated number)");
  std::memcpy(&n, rest_.data(), sizeof n);
  rest_.remove_prefix(sizeof n);
  return n;
}

std::string_view ManagerReader::blob() {
  const std::uint64_t n = number();
  if (rest_.size() < n) throw ValueError("malformed Manager message (truncated blob)");
  const std::string_view b = rest_.substr(0, static_cast<std::size_t>(n));
  rest_.remove_prefix(static_cast<std::size_t>(n));
  return b;
}

const char* kind_name(ManagerKind kind) noexcept {
  switch (kind) {
    case ManagerKind::dict:
      return "dict";
    case ManagerKind::list:
      return "list";
    case ManagerKind::namespace_:
      return "Namespace";
    case ManagerKind::queue:
      return "Queue";
    case ManagerKind::lock:
      return "Lock";
    case ManagerKind::rlock:
      return "RLock";
    case ManagerKind::semaphore:
      return "Semaphore";
    case ManagerKind::bounded_semaphore:
      return "BoundedSemaphore";
    case ManagerKind::event:
      return "Event";
    case ManagerKind::condition:
      return "Condition";
    case ManagerKind::barrier:
      return "Barrier";
    case ManagerKind::value:
      return "Value";
    case ManagerKind::array:
      return "Array";
    case ManagerKind::user:
      return "registered object";
  }
  return "object";
}

void raise_manager_error(ManagerStatus status, const std::string& message) {
  switch (status) {
    case ManagerStatus::key_error:
      throw KeyError(message);
    case ManagerStatus::index_error:
      throw IndexError(message);
    case ManagerStatus::value_error:
      throw ValueError(message);
    case ManagerStatus::exception:
      multiprocessing::rethrow_exception_bytes(message);
    default:
      throw RuntimeError("Manager server: " + message);
  }
}

// ---------------------------------------------------------------------------------------------
// Connections: one per thread and client.
// ---------------------------------------------------------------------------------------------
struct ManagerClient::State {
  std::mutex mu;
  std::unordered_map<std::thread::id, int> conns;  // guarded by mu
  ~State() {
    for (auto& [t, fd] : conns) ::close(fd);
  }
  // Closes the calling thread's connection, if any.
  void drop_mine() noexcept {
    int fd = -1;
    {
      std::lock_guard g(mu);
      auto it = conns.find(std::this_thread::get_id());
      if (it == conns.end()) return;
      fd = it->second;
      conns.erase(it);
    }
    ::close(fd);
  }
};

namespace {

// The clients this thread has a connection in: their connections close when it exits.
struct ThreadConnections {
  std::vector<std::weak_ptr<ManagerClient::State>> states;
  ~ThreadConnections() {
    for (auto& w : states) {
      if (auto s = w.lock()) s->drop_mine();
    }
  }
};
thread_local ThreadConnections t_connections;

// Every client of this process: shared by proxies that name the same server, and told to drop
// inherited connections in a forked child.
struct ClientRegistry {
  std::mutex mu;
  std::vector<std::weak_ptr<ManagerClient>> clients;
};
ClientRegistry& registry() {
  static auto* r = new ClientRegistry();
  return *r;
}
void registry_prepare() noexcept {
  registry().mu.lock();
}
void registry_parent() noexcept {
  registry().mu.unlock();
}
void registry_child() noexcept {
  ClientRegistry& r = registry();
  r.mu.unlock();
  for (auto& w : r.clients) {
    if (auto c = w.lock()) c->forget_connections();
  }
}
[[maybe_unused]] const bool registry_ready =
    (registry(), ::pthread_atfork(registry_prepare, registry_parent, registry_child), true);

constexpr auto kHandshakeTimeout = std::chrono::seconds(30);

}  // namespace

ManagerClient::ManagerClient(multiprocessing::Address address, std::string authkey)
    : address_(std::move(address)),
      authkey_(std::move(authkey)),
      state_(std::make_shared<State>()) {}

ManagerClient::~ManagerClient() = default;

std::shared_ptr<ManagerClient> ManagerClient::for_address(const multiprocessing::Address& address,
                                                          const std::string& authkey) {
  ClientRegistry& reg = registry();
  std::lock_guard g(reg.mu);
  std::erase_if(reg.clients, [](const auto& w) { return w.expired(); });
  for (auto& w : reg.clients) {
    auto c = w.lock();
    if (c && c->address_ == address && c->authkey_ == authkey) return c;
  }
  auto c = std::make_shared<ManagerClient>(address, authkey);
  reg.clients.push_back(c);
  return c;
}

void ManagerClient::forget_connections() noexcept {
  // Runs in a forked child (one thread): the connections are the parent's, and the mutex may
  // have been held by a parent thread at fork time.
  new (&state_->mu) std::mutex();
  for (auto& [t, fd] : state_->conns) ::close(fd);
  state_->conns.clear();
}

int ManagerClient::connection() {
  const auto me = std::this_thread::get_id();
  {
    std::lock_guard g(state_->mu);
    auto it = state_->conns.find(me);
    if (it != state_->conns.end()) return it->second;
  }
  UniqueFd fd;
  try {
    fd = connect_to(address_);
  } catch (const OSError& e) {
    // Keep the errno subclass (ConnectionRefusedError, FileNotFoundError...), say who.
    raise_os_error(e.errno_value(), "connect to the Manager at '" + address_.str() +
                                        "' (has it shut down or died?)");
  }
  client_handshake(fd.get(), authkey_, Clock::now() + kHandshakeTimeout);
  const int raw = fd.release();
  {
    std::lock_guard g(state_->mu);
    state_->conns.emplace(me, raw);
  }
  auto& mine = t_connections.states;
  std::erase_if(mine, [](const auto& w) { return w.expired(); });
  mine.push_back(state_);
  return raw;
}

std::pair<ManagerStatus, std::string> ManagerClient::call(const ManagerWriter& request) {
  const int fd = connection();
  std::string reply;
  try {
    write_frame(fd, request.bytes());
    if (!read_frame(fd, reply)) {
      throw EOFError("the Manager at '" + address_.str() +
                     "' closed the connection (it shut down or died)");
    }
  } catch (...) {
    state_->drop_mine();  // out of step with the server: start afresh next time
    throw;
  }
  if (reply.empty()) throw ValueError("malformed Manager reply (empty)");
  const auto status = static_cast<ManagerStatus>(reply[0]);
  reply.erase(0, 1);
  return {status, std::move(reply)};
}

std::string ManagerClient::call_ok(const ManagerWriter& request, const std::string& what) {
  auto [status, payload] = call(request);
  if (status != ManagerStatus::ok) {
    raise_manager_error(status,
                        what.empty() || status == ManagerStatus::exception ? payload : what);
  }
  return std::move(payload);
}

// ---------------------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------------------
ManagerRef::ManagerRef(std::shared_ptr<ManagerClient> client, std::uint32_t id, ManagerKind kind)
    : client_(std::move(client)), id_(id), kind_(kind), owner_pid_(static_cast<long>(::getpid())) {}

ManagerRef::~ManagerRef() {
  // A forked child's inherited copies are its parent's reference, not its own.
  if (owner_pid_ != static_cast<long>(::getpid())) return;
  try {
    client_->call(ManagerWriter(ManagerOp::decref, id_));
  } catch (...) {  // the server is gone: nothing left to release
  }
}

std::shared_ptr<ManagerRef> ManagerRef::attach(const multiprocessing::Address& address,
                                               const std::string& authkey, std::uint32_t id,
                                               ManagerKind kind) {
  auto client = ManagerClient::for_address(address, authkey);
  client->call_ok(ManagerWriter(ManagerOp::incref, id).number(static_cast<std::uint64_t>(kind)));
  return std::make_shared<ManagerRef>(std::move(client), id, kind);
}

const ManagerRef& ManagerProxyBase::bound() const {
  if (!ref_) {
    throw ValueError(
        "this proxy is not bound to a Manager object (default-constructed); get one from a "
        "Manager's factory or loads()");
  }
  return *ref_;
}

}  // namespace pyconc::detail
