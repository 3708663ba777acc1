// Manager: the server process that holds the shared containers, and the client side.
#include "pyconc/multiprocessing/manager.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <list>
#include <mutex>
#include <new>
#include <unordered_map>
#include <variant>

#include "pyconc/multiprocessing/detail/framing.hpp"
#include "pyconc/multiprocessing/process.hpp"

namespace pyconc::detail {

// ---------------------------------------------------------------------------------------------
// Wire format helpers
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

void raise_manager_error(ManagerStatus status, const std::string& message) {
  switch (status) {
    case ManagerStatus::key_error:
      throw KeyError(message);
    case ManagerStatus::index_error:
      throw IndexError(message);
    case ManagerStatus::value_error:
      throw ValueError(message);
    default:
      throw RuntimeError("Manager server: " + message);
  }
}

namespace {

sockaddr_un abstract_address(const std::string& name, socklen_t& len) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // Abstract namespace: a leading NUL, no file on disk, gone with the last socket.
  std::memcpy(addr.sun_path + 1, name.data(), std::min(name.size(), sizeof addr.sun_path - 1));
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  return addr;
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

// Python's dict: insertion-ordered, keyed by the serialized key.
struct Dict {
  std::list<std::pair<std::string, std::string>> items;
  std::unordered_map<std::string, std::list<std::pair<std::string, std::string>>::iterator> index;

  std::string* find(const std::string& k) {
    auto it = index.find(k);
    return it == index.end() ? nullptr : &it->second->second;
  }
  void set(std::string k, std::string v) {
    if (std::string* cur = find(k)) {
      *cur = std::move(v);
      return;
    }
    items.emplace_back(k, std::move(v));
    index.emplace(std::move(k), std::prev(items.end()));
  }
  bool erase(const std::string& k, std::string* value = nullptr) {
    auto it = index.find(k);
    if (it == index.end()) return false;
    if (value) *value = std::move(it->second->second);
    items.erase(it->second);
    index.erase(it);
    return true;
  }
};
using List = std::vector<std::string>;

struct Reply {
  ManagerStatus status = ManagerStatus::ok;
  std::string body;
  Reply& number(std::uint64_t n) {
    body.append(reinterpret_cast<const char*>(&n), sizeof n);
    return *this;
  }
  Reply& blob(std::string_view b) {
    number(b.size());
    body.append(b);
    return *this;
  }
  static Reply error(ManagerStatus s, std::string message) {
    Reply r;
    r.status = s;
    r.body = std::move(message);
    return r;
  }
};

class Server {
 public:
  // Handles one request; sets `stop` for shutdown.
  Reply handle(std::string_view request, bool& stop) {
    if (request.empty()) return Reply::error(ManagerStatus::error, "empty request");
    const auto op = static_cast<ManagerOp>(request[0]);
    ManagerReader in(request.substr(1));
    const auto id = static_cast<std::uint32_t>(in.number());
    switch (op) {
      case ManagerOp::new_dict:
      case ManagerOp::new_list: {
        const std::uint32_t nid = next_id_++;
        if (op == ManagerOp::new_dict) {
          objects_.emplace(nid, Dict{});
        } else {
          objects_.emplace(nid, List{});
        }
        return Reply().number(nid);
      }
      case ManagerOp::shutdown:
        stop = true;
        return {};
      default:
        break;
    }
    auto it = objects_.find(id);
    if (it == objects_.end()) return Reply::error(ManagerStatus::error, "no such object");
    if (auto* d = std::get_if<Dict>(&it->second)) return dict_op(op, *d, in);
    if (auto* l = std::get_if<List>(&it->second)) return list_op(op, *l, in);
    return Reply::error(ManagerStatus::error, "bad object");
  }

 private:
  static Reply dict_op(ManagerOp op, Dict& d, ManagerReader& in) {
    Reply r;
    switch (op) {
      case ManagerOp::d_set: {
        std::string k(in.blob());
        d.set(std::move(k), std::string(in.blob()));
        return r;
      }
      case ManagerOp::d_get: {
        const std::string* v = d.find(std::string(in.blob()));
        r.number(v != nullptr);
        if (v) r.blob(*v);
        return r;
      }
      case ManagerOp::d_contains:
        return r.number(d.find(std::string(in.blob())) != nullptr);
      case ManagerOp::d_del:
        if (!d.erase(std::string(in.blob()))) return Reply::error(ManagerStatus::key_error, "key");
        return r;
      case ManagerOp::d_pop: {
        std::string v;
        const bool found = d.erase(std::string(in.blob()), &v);
        r.number(found);
        if (found) r.blob(v);
        return r;
      }
      case ManagerOp::d_len:
        return r.number(d.items.size());
      case ManagerOp::d_keys:
      case ManagerOp::d_values:
      case ManagerOp::d_items:
        r.number(d.items.size());
        for (const auto& [k, v] : d.items) {
          if (op != ManagerOp::d_values) r.blob(k);
          if (op != ManagerOp::d_keys) r.blob(v);
        }
        return r;
      case ManagerOp::d_clear:
        d.items.clear();
        d.index.clear();
        return r;
      case ManagerOp::d_update:
        while (!in.done()) {
          std::string k(in.blob());
          d.set(std::move(k), std::string(in.blob()));
        }
        return r;
      case ManagerOp::d_setdefault: {
        std::string k(in.blob());
        const std::string_view v = in.blob();
        if (const std::string* cur = d.find(k)) return r.blob(*cur);
        d.set(std::move(k), std::string(v));
        return r.blob(v);
      }
      default:
        return Reply::error(ManagerStatus::error, "not a dict operation");
    }
  }

  // Python's index rules: negative counts from the end.
  static bool normalize(List& l, std::int64_t& i) {
    if (i < 0) i += static_cast<std::int64_t>(l.size());
    return i >= 0 && i < static_cast<std::int64_t>(l.size());
  }

  static Reply list_op(ManagerOp op, List& l, ManagerReader& in) {
    Reply r;
    switch (op) {
      case ManagerOp::l_append:
        l.emplace_back(in.blob());
        return r;
      case ManagerOp::l_extend:
        while (!in.done()) l.emplace_back(in.blob());
        return r;
      case ManagerOp::l_get: {
        auto i = static_cast<std::int64_t>(in.number());
        if (!normalize(l, i))
          return Reply::error(ManagerStatus::index_error, "list index out of range");
        return r.blob(l[static_cast<std::size_t>(i)]);
      }
      case ManagerOp::l_set: {
        auto i = static_cast<std::int64_t>(in.number());
        if (!normalize(l, i)) {
          return Reply::error(ManagerStatus::index_error, "list assignment index out of range");
        }
        l[static_cast<std::size_t>(i)] = std::string(in.blob());
        return r;
      }
      case ManagerOp::l_len:
        return r.number(l.size());
      case ManagerOp::l_pop: {
        if (l.empty()) return Reply::error(ManagerStatus::index_error, "pop from empty list");
        auto i = static_cast<std::int64_t>(in.number());
        if (!normalize(l, i))
          return Reply::error(ManagerStatus::index_error, "pop index out of range");
        r.blob(l[static_cast<std::size_t>(i)]);
        l.erase(l.begin() + i);
        return r;
      }
      case ManagerOp::l_insert: {
        auto i = static_cast<std::int64_t>(in.number());
        const auto n = static_cast<std::int64_t>(l.size());
        if (i < 0) i = std::max<std::int64_t>(0, i + n);
        i = std::min(i, n);
        l.emplace(l.begin() + i, in.blob());
        return r;
      }
      case ManagerOp::l_remove:
      case ManagerOp::l_index: {
        const std::string_view v = in.blob();
        const auto it = std::find(l.begin(), l.end(), v);
        if (it == l.end()) {
          return Reply::error(ManagerStatus::value_error, op == ManagerOp::l_remove
                                                              ? "list.remove(x): x not in list"
                                                              : "list.index(x): x not in list");
        }
        if (op == ManagerOp::l_index) return r.number(static_cast<std::uint64_t>(it - l.begin()));
        l.erase(it);
        return r;
      }
      case ManagerOp::l_count: {
        const std::string_view v = in.blob();
        return r.number(static_cast<std::uint64_t>(std::count(l.begin(), l.end(), v)));
      }
      case ManagerOp::l_clear:
        l.clear();
        return r;
      case ManagerOp::l_all:
        r.number(l.size());
        for (const auto& v : l) r.blob(v);
        return r;
      default:
        return Reply::error(ManagerStatus::error, "not a list operation");
    }
  }

  std::uint32_t next_id_ = 1;
  std::unordered_map<std::uint32_t, std::variant<Dict, List>> objects_;
};

// The server's main loop: answers the clients one request at a time until shut down.
void serve(int listener) {
  // Let go of every descriptor inherited from the parent (pipe ends, sockets...), or a reader
  // in another process would never see the end of a stream the server keeps open.
  if (listener > 3) ::close_range(3, static_cast<unsigned>(listener - 1), 0);
  ::close_range(static_cast<unsigned>(listener + 1), ~0U, 0);
  Server server;
  std::vector<pollfd> fds{{listener, POLLIN, 0}};
  std::string request;
  bool stop = false;
  while (!stop) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & POLLIN) {
      const int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) {
        ucred cred{};
        socklen_t len = sizeof cred;
        // Only processes of our own user may use the containers (Python: the authkey).
        if (::getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == ::getuid()) {
          fds.push_back({c, POLLIN, 0});
        } else {
          ::close(c);
        }
      }
    }
    for (std::size_t i = 1; i < fds.size() && !stop; ++i) {
      if (fds[i].revents == 0) continue;
      bool drop = false;
      try {
        if (!read_frame(fds[i].fd, request)) {
          drop = true;
        } else {
          Reply reply;
          try {
            reply = server.handle(request, stop);
          } catch (const std::exception& e) {
            reply = Reply::error(ManagerStatus::error, e.what());
          } catch (const BaseException& e) {  // not std::exceptions (CancelledError)
            reply = Reply::error(ManagerStatus::error, e.what());
          }
          std::string out(1, static_cast<char>(reply.status));
          out += reply.body;
          write_frame(fds[i].fd, out);
        }
      } catch (const std::exception&) {
        drop = true;  // the client went away mid-message
      }
      if (drop) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
      }
    }
    std::erase_if(fds, [](const pollfd& p) { return p.fd < 0; });
    for (auto& p : fds) p.revents = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Clients: a registry so that a forked child drops the connections it inherited.
// ---------------------------------------------------------------------------------------------
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
    if (auto c = w.lock()) c->forget_connection();
  }
}
[[maybe_unused]] const bool registry_ready =
    (registry(), ::pthread_atfork(registry_prepare, registry_parent, registry_child), true);

}  // namespace

struct ManagerClient::State {
  std::mutex mu;
  int fd = -1;
};

ManagerClient::ManagerClient(std::string address)
    : address_(std::move(address)), state_(std::make_unique<State>()) {}

ManagerClient::~ManagerClient() {
  if (state_->fd >= 0) ::close(state_->fd);
}

void ManagerClient::forget_connection() noexcept {
  // Runs in a forked child (one thread): the connection is the parent's, and the mutex may
  // have been held by a parent thread at fork time.
  new (&state_->mu) std::mutex();
  if (state_->fd >= 0) ::close(state_->fd);
  state_->fd = -1;
}

int ManagerClient::connect_locked() {
  if (state_->fd >= 0) return state_->fd;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) raise_os_error(errno, "socket");
  socklen_t len = 0;
  const sockaddr_un addr = abstract_address(address_, len);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    const int err = errno;
    ::close(fd);
    raise_os_error(err, "connect to Manager server '" + address_ + "' (was it shut down?)");
  }
  state_->fd = fd;
  return fd;
}

std::pair<ManagerStatus, std::string> ManagerClient::call(const ManagerWriter& request) {
  std::lock_guard g(state_->mu);
  const int fd = connect_locked();
  std::string reply;
  try {
    write_frame(fd, request.bytes());
    if (!read_frame(fd, reply)) throw EOFError("Manager server closed the connection");
  } catch (...) {
    ::close(state_->fd);  // out of step with the server: start afresh next time
    state_->fd = -1;
    throw;
  }
  if (reply.empty()) throw ValueError("malformed Manager reply");
  const auto status = static_cast<ManagerStatus>(reply[0]);
  reply.erase(0, 1);
  return {status, std::move(reply)};
}

}  // namespace pyconc::detail

namespace pyconc::multiprocessing {

Manager::Manager() : creator_pid_(static_cast<int>(::getpid())) {
  std::uint64_t r = 0;
  if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
    r = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  char name[64];
  std::snprintf(name, sizeof name, "pyconc-manager-%d-%016llx", creator_pid_,
                static_cast<unsigned long long>(r));
  const std::string address = name;

  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) raise_os_error(errno, "socket");
  socklen_t len = 0;
  const sockaddr_un addr = detail::abstract_address(address, len);
  if (::bind(listener, reinterpret_cast<const sockaddr*>(&addr), len) != 0 ||
      ::listen(listener, 128) != 0) {
    const int err = errno;
    ::close(listener);
    raise_os_error(err, "bind/listen '" + address + "'");
  }
  // The server is a daemon child: terminated if the Manager is forgotten at exit, and killed
  // with its parent (PR_SET_PDEATHSIG) if that dies.
  server_ = std::make_unique<Process>(ProcessOptions{.name = "SyncManager-server", .daemon = true},
                                      [listener] { detail::serve(listener); });
  try {
    server_->start();
  } catch (...) {
    ::close(listener);
    throw;
  }
  ::close(listener);  // the server has its copy; clients connect by name
  server_pid_ = server_->pid();
  client_ = std::make_shared<detail::ManagerClient>(address);
  detail::ClientRegistry& reg = detail::registry();
  std::lock_guard g(reg.mu);
  std::erase_if(reg.clients, [](const auto& w) { return w.expired(); });
  reg.clients.push_back(client_);
}

Manager::~Manager() {
  try {
    shutdown();
  } catch (...) {
  }
}

std::uint32_t Manager::create(detail::ManagerOp op) {
  auto [status, payload] = client_->call(detail::ManagerWriter(op, 0));
  if (status != detail::ManagerStatus::ok) detail::raise_manager_error(status, payload);
  return static_cast<std::uint32_t>(detail::ManagerReader(payload).number());
}

void Manager::shutdown() {
  if (!server_ || creator_pid_ != static_cast<int>(::getpid())) return;
  try {
    client_->call(detail::ManagerWriter(detail::ManagerOp::shutdown, 0));
  } catch (const Error&) {  // already gone
  }
  if (!server_->join(std::chrono::seconds(5))) {
    server_->terminate();
    server_->join();
  }
  server_.reset();
}

}  // namespace pyconc::multiprocessing
