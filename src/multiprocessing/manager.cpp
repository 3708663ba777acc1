// BaseManager / Manager: starting, connecting to and stopping a manager server.
#include "pyconc/multiprocessing/manager.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <typeinfo>
#include <utility>

#include "pyconc/multiprocessing/detail/manager_server.hpp"
#include "pyconc/multiprocessing/detail/socket.hpp"
#include "pyconc/multiprocessing/process.hpp"

namespace pyconc::multiprocessing {

namespace {

// A private abstract Unix socket name: nothing on disk, unique per manager.
std::string private_address(int pid) {
  std::uint64_t r = 0;
  if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
    r = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  char name[64];
  std::snprintf(name, sizeof name, "pyconc-manager-%d-%016llx", pid,
                static_cast<unsigned long long>(r));
  return std::string(1, '\0') + name;
}

}  // namespace

BaseManager::BaseManager() : BaseManager(ManagerOptions{}) {}

BaseManager::BaseManager(ManagerOptions options)
    : options_(std::move(options)), creator_pid_(static_cast<int>(::getpid())) {
  if (options_.authkey.empty()) options_.authkey = detail::random_authkey();
}

BaseManager::~BaseManager() {
  try {
    shutdown();
  } catch (...) {
  }
}

void BaseManager::start() {
  if (client_) throw ValueError("the Manager has already been started or connected");
  if (options_.address == Address{}) options_.address.path = private_address(creator_pid_);
  detail::UniqueFd listener = detail::listen_on(options_.address, 128);
  const int fd = listener.get();
  // The server is a daemon child: terminated if the Manager is forgotten at exit, and killed
  // with its parent (PR_SET_PDEATHSIG) if that dies.
  server_ = std::make_unique<Process>(
      ProcessOptions{.name = "SyncManager-server", .daemon = true}, [fd, key = options_.authkey] {
        // Let go of every descriptor inherited from the parent (pipe ends, sockets...), or a
        // reader in another process would never see the end of a stream the server keeps open.
        if (fd > 3) ::close_range(3, static_cast<unsigned>(fd - 1), 0);
        ::close_range(static_cast<unsigned>(fd + 1), ~0U, 0);
        detail::ManagerServer(detail::UniqueFd(fd), key).serve_forever();
      });
  server_->start();
  listener.reset();  // the server has its copy; clients connect by address
  server_pid_ = server_->pid();
  client_ = detail::ManagerClient::for_address(options_.address, options_.authkey);
}

void BaseManager::connect() {
  if (client_) throw ValueError("the Manager has already been started or connected");
  if (options_.address == Address{}) throw ValueError("connect(): the Manager has no address");
  auto client = detail::ManagerClient::for_address(options_.address, options_.authkey);
  client->call_ok(detail::ManagerWriter(detail::ManagerOp::ping, 0));
  client_ = std::move(client);
}

ManagerServer BaseManager::get_server() {
  if (client_) throw ValueError("the Manager has already been started or connected");
  if (options_.address == Address{}) options_.address.path = private_address(creator_pid_);
  auto fd = detail::listen_on(options_.address, 128);
  return ManagerServer(options_.address,
                       std::make_unique<detail::ManagerServer>(std::move(fd), options_.authkey));
}

void BaseManager::serve_forever() {
  get_server().serve_forever();
}

ManagerServer::ManagerServer(Address address, std::unique_ptr<detail::ManagerServer> impl)
    : address_(std::move(address)), impl_(std::move(impl)) {}
ManagerServer::ManagerServer(ManagerServer&&) noexcept = default;
ManagerServer& ManagerServer::operator=(ManagerServer&&) noexcept = default;
ManagerServer::~ManagerServer() = default;

void ManagerServer::serve_forever() {
  if (!impl_) throw ValueError("ManagerServer was moved from");
  impl_->serve_forever();
}

detail::ManagerClient& BaseManager::client() const {
  if (!client_) {
    throw ValueError("the Manager is not started or connected (call start() or connect())");
  }
  return *client_;
}

std::shared_ptr<detail::ManagerRef> BaseManager::create_object(
    const detail::ManagerWriter& request) {
  const std::string payload = client().call_ok(request);
  const auto id = static_cast<std::uint32_t>(detail::ManagerReader(payload).number());
  const auto kind = static_cast<detail::ManagerKind>(request.bytes()[1 + 8]);
  return std::make_shared<detail::ManagerRef>(client_, id, kind);
}

std::shared_ptr<detail::ManagerRef> BaseManager::create_counted(detail::ManagerKind kind, int n) {
  if (n < 0) throw ValueError(std::string(detail::kind_name(kind)) + ": value must be >= 0");
  auto w = create_request(kind);
  w.number(static_cast<std::uint64_t>(n));
  return create_object(w);
}

void BaseManager::check_registration(const detail::ManagerType& type, const std::type_info& cls) {
  if (type.typeid_.empty()) throw ValueError("register_: the typeid must not be empty");
  for (std::size_t i = 0; i < type.methods.size(); ++i) {
    const auto& m = type.methods[i];
    if (m.name.empty())
      throw ValueError("register_('" + type.typeid_ + "'): an exposed method has no name");
    if (m.owner == nullptr || *m.owner != cls) {
      throw ValueError("register_('" + type.typeid_ + "'): exposed method '" + m.name +
                       "' is not a member of the registered class");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (type.methods[j].name == m.name) {
        throw ValueError("register_('" + type.typeid_ + "'): method '" + m.name +
                         "' is exposed twice");
      }
    }
  }
}

void BaseManager::stop_server() {
  try {
    client().call_ok(detail::ManagerWriter(detail::ManagerOp::shutdown, 0));
  } catch (const EOFError&) {  // the server stopped before its answer reached us
  } catch (const ConnectionError&) {
  }
}

void BaseManager::shutdown() {
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

Manager::Manager() : Manager(ManagerOptions{}) {}

Manager::Manager(ManagerOptions options) : BaseManager(std::move(options)) {
  start();
}

}  // namespace pyconc::multiprocessing
