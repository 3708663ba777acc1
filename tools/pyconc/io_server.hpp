// tools/pyconc/io_server.hpp -- the demo web server `pyconc compare` downloads from in its
// I/O-bound half, started in this process on a thread of its own.
//
// The seeds download 50 cnblogs list pages; the tool downloads the demo blog's /list/1..N from
// this server instead (add_demo_routes: every answer waits `delay` first, so a download is
// mostly waiting, as on the Internet, and the figures do not depend on a remote site). It
// listens on 127.0.0.1 on a free port chosen by the kernel; C++ models and the Python script
// both fetch from base_url().
//
// Lifetime: the constructor returns once the server accepts connections (or throws what
// starting it threw, e.g. OSError); stop() -- or the destructor -- shuts it down gracefully
// (requests in progress finish, idle keep-alive connections are closed) and joins its thread.
// Thread safety: construct, stop and destroy from one thread; base_url() from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace pyconc::tool {

class DemoServerThread {
 public:
  explicit DemoServerThread(std::chrono::milliseconds delay);
  ~DemoServerThread();
  DemoServerThread(const DemoServerThread&) = delete;
  DemoServerThread& operator=(const DemoServerThread&) = delete;

  // "http://127.0.0.1:<port>" (no trailing slash).
  const std::string& base_url() const noexcept { return base_url_; }
  int port() const noexcept { return port_; }

  // Graceful shutdown; idempotent.
  void stop();

  struct State;

 private:
  std::unique_ptr<State> state_;
  std::string base_url_;
  int port_ = 0;
};

}  // namespace pyconc::tool
