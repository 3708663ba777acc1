// tools/pyconc/io_server.cpp -- the demo server on a background thread: asyncio::run of a
// coroutine that starts an AppRunner + TCPSite on port 0, publishes the port, and waits for
// an asyncio::Event that stop() sets through call_soon_threadsafe.
#include "io_server.hpp"

#include <exception>
#include <optional>
#include <utility>

#include <pyconc/aiohttp/web.hpp>
#include <pyconc/asyncio.hpp>
#include <pyconc/errors.hpp>
#include <pyconc/threading/event.hpp>
#include <pyconc/threading/thread.hpp>

#include "demo_server.hpp"

namespace pyconc::tool {

namespace aio = pyconc::asyncio;
namespace web = pyconc::aiohttp::web;
using namespace std::chrono_literals;

struct DemoServerThread::State {
  web::Application app;
  threading::Event ready;  // set once port/loop/stop are known, or error is
  int port = 0;
  aio::EventLoop* loop = nullptr;
  aio::Event* stop = nullptr;
  std::exception_ptr error;
  std::optional<threading::Thread> thread;
  bool stopped = false;
};

namespace {

aio::Task<> serve(DemoServerThread::State& s) {
  // Requests still running at shutdown get 5 s to finish (a download model that failed may
  // leave one behind); the tool does not wait longer than that.
  web::AppRunner runner(s.app, {.shutdown_timeout = 5s});
  co_await runner.setup();
  web::TCPSite site(runner, "127.0.0.1", 0);
  co_await site.start();
  aio::Event stop;
  s.port = site.port();
  s.loop = &aio::get_running_loop();
  s.stop = &stop;
  s.ready.set();
  co_await stop.wait();
  co_await runner.cleanup();
}

}  // namespace

DemoServerThread::DemoServerThread(std::chrono::milliseconds delay)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  add_demo_routes(s.app, delay);
  s.thread.emplace(threading::ThreadOptions{.name = "demo-server"}, [&s] {
    try {
      aio::run(serve(s));
    } catch (...) {
      s.error = std::current_exception();
    }
    s.ready.set();  // in case it failed before listening
  });
  s.thread->start();
  // Binding a loopback port takes microseconds; a minute means something is badly wrong.
  if (!s.ready.wait(60s)) throw TimeoutError("the demo server did not start within 60 s");
  if (s.error) {
    s.thread->join();
    s.stopped = true;
    std::rethrow_exception(s.error);
  }
  port_ = s.port;
  base_url_ = "http://127.0.0.1:" + std::to_string(port_);
}

DemoServerThread::~DemoServerThread() {
  stop();
}

void DemoServerThread::stop() {
  State& s = *state_;
  if (s.stopped) return;
  s.stopped = true;
  aio::Event* ev = s.stop;
  try {
    s.loop->call_soon_threadsafe([ev] { ev->set(); });
  } catch (const RuntimeError&) {  // the loop is closed: serve() has ended on its own
  }
  s.thread->join();
}

}  // namespace pyconc::tool
