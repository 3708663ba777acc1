// pyconc/asyncio/server.hpp -- Server: the listening sockets start_server() returns.
//
// Python: asyncio.Server (3.12 semantics, plus 3.13's close_clients/abort_clients).
//   auto server = co_await aio::start_server(handle_client, "127.0.0.1", 0);
//   int port = server.sockets()[0].getsockname().port;     // or server.port()
//   co_await server.serve_forever();                        // until closed or cancelled
//   server.close();  co_await server.wait_closed();
// Each accepted connection runs the callback as its own task. An exception escaping the
// callback goes to the loop's exception handler ("Unhandled exception in
// client_connected_cb") and closes that connection; the server keeps serving. Running out of
// descriptors (EMFILE) pauses accepting for a second, as Python.
// close() stops listening (connections in progress stay open); wait_closed() returns once the
// server is closed and every connection it accepted is closed. serve_forever() raises
// CancelledError when the server is closed (Python's behaviour), and a cancelled
// serve_forever() closes the server.
// Differences: sockets() gives ServerSocket values (fileno/getsockname), not socket objects;
// port() is an extension; the destructor closes the server (Python: `async with server`,
// without its wait). A Server is move-only (one owner closes it).
//
// Cancellation: serve_forever() and wait_closed() are cancellable.
// Thread safety: loop-thread only.
#pragma once

#include <memory>
#include <vector>

#include "pyconc/asyncio/socket_address.hpp"
#include "pyconc/asyncio/task.hpp"

namespace pyconc::detail {
class ServerState;
}

namespace pyconc::asyncio {

class EventLoop;

// One listening socket of a Server (Python: an item of server.sockets).
class ServerSocket {
 public:
  explicit ServerSocket(int fd) noexcept : fd_(fd) {}
  int fileno() const noexcept { return fd_; }
  // The bound address (port 0 was replaced by the one the kernel chose).
  SocketAddress getsockname() const;

 private:
  int fd_;
};

class Server {
 public:
  Server() noexcept = default;
  explicit Server(std::shared_ptr<detail::ServerState> s) noexcept : s_(std::move(s)) {}
  Server(Server&&) noexcept = default;
  Server& operator=(Server&& o) noexcept;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  // Stops listening; wakes serve_forever(). A no-op when already closed.
  void close();
  // Python 3.13: closes every connection this server accepted (queued bytes are sent first)
  // / closes them at once, dropping queued bytes.
  void close_clients();
  void abort_clients();
  // Parks until the server is closed and all its connections are closed.
  Task<> wait_closed();
  // Starts accepting (start_server does it unless start_serving = false).
  Task<> start_serving();
  // Accepts until the server is closed; then raises CancelledError. RuntimeError if the
  // server is closed or another task already awaits serve_forever().
  Task<> serve_forever();
  bool is_serving() const noexcept;
  // The listening sockets (empty once closed).
  std::vector<ServerSocket> sockets() const;
  // The port of the first listening socket (0 once closed).
  int port() const;
  // Connections accepted and not closed yet.
  std::size_t active_connections() const noexcept;
  EventLoop& get_loop() const;

 private:
  detail::ServerState& state() const;
  std::shared_ptr<detail::ServerState> s_;
};

}  // namespace pyconc::asyncio
