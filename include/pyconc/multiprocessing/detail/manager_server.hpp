// pyconc/multiprocessing/detail/manager_server.hpp -- the manager's server: the shared objects
// and the loop that serves them.
//
// Internal to multiprocessing (BaseManager runs it in a child process or in serve_forever()).
// As Python's managers.Server: one listening socket; each accepted connection gets its own
// thread, which first runs the authkey challenge (a failure closes that connection only), then
// answers requests one by one. Objects live in a table of id -> (object, reference count);
// a request finds its object under the table's lock and runs without it, so an operation
// that blocks (Queue.get, Lock.acquire...) blocks only its own connection.
// Thread safety: serve_forever() runs on one thread; the connection threads share the table.
#pragma once

#include <memory>
#include <string>

#include "pyconc/detail/unique_fd.hpp"

namespace pyconc::detail {

class ManagerServer {
 public:
  // Serves on `listener` (already listening) for clients that know `authkey`.
  ManagerServer(UniqueFd listener, std::string authkey);
  ~ManagerServer();
  ManagerServer(const ManagerServer&) = delete;
  ManagerServer& operator=(const ManagerServer&) = delete;

  // Accepts and serves until a client sends shutdown; then returns. Connection threads still
  // blocked in an object's wait are left behind (they own what they use).
  void serve_forever();

  struct Shared;

 private:
  UniqueFd listener_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace pyconc::detail
