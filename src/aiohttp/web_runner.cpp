// AppRunner and TCPSite (serving an Application on the running loop), and run_app: signals,
// the stop pipe, and the worker threads of run_app(..., {.workers = N}).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <exception>
#include <iostream>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "http_server.hpp"
#include "pyconc/aiohttp/web/server.hpp"
#include "pyconc/asyncio/event_loop.hpp"
#include "pyconc/asyncio/future.hpp"
#include "pyconc/detail/unique_fd.hpp"

namespace pyconc::aiohttp::web {

// --- AppRunner / TCPSite ---

AppRunner::AppRunner(Application& app, ServerOptions options)
    : app_(app), options_(std::move(options)) {}
AppRunner::~AppRunner() = default;

asyncio::Task<> AppRunner::setup() {
  server_ = std::make_unique<pyconc::detail::HttpServer>(app_, options_);
  co_await app_.startup();
}

asyncio::Task<> AppRunner::cleanup() {
  if (server_) co_await server_->shutdown();
  co_await app_.shutdown();
  co_await app_.cleanup();
  server_.reset();
}

pyconc::detail::HttpServer& AppRunner::server() {
  if (!server_) throw RuntimeError("AppRunner: call setup() first");
  return *server_;
}

std::size_t AppRunner::connections() const noexcept {
  return server_ ? server_->connections() : 0;
}

TCPSite::TCPSite(AppRunner& runner, std::string host, int port,
                 std::optional<SSLContext> ssl_context)
    : runner_(runner), host_(std::move(host)), port_(port), ssl_(std::move(ssl_context)) {
  if (ssl_ && !ssl_->is_server()) {
    throw ValueError(
        "TCPSite: ssl_context is a client context; use SSLContext::server(certfile, keyfile)");
  }
}

asyncio::Task<> TCPSite::start() {
  port_ = runner_.server().listen(host_, port_, ssl_);
  co_return;
}

std::string TCPSite::url() const {
  const bool v6 = host_.find(':') != std::string::npos;
  return (ssl_ ? "https://" : "http://") + (v6 ? "[" + host_ + "]" : host_) + ":" +
         std::to_string(port_);
}

// --- run_app ---

namespace {

// Self-pipe for SIGINT/SIGTERM and stop_app(): the handler only write()s (async-signal-safe).
// stop_app() (a thread, not a signal) takes g_stop_mu so run_app cannot close the pipe under it;
// run_app clears g_stop_fd under the same mutex, after restoring the signal handlers, before
// it closes the pipe.
std::atomic<int> g_stop_fd{-1};
std::mutex g_stop_mu;

void request_stop() noexcept {
  std::lock_guard g(g_stop_mu);
  const int fd = g_stop_fd.load();
  if (fd >= 0) {
    const char b = 1;
    [[maybe_unused]] auto r = ::write(fd, &b, 1);
  }
}

extern "C" void on_stop_signal(int) {
  const int fd = g_stop_fd.load();
  if (fd >= 0) {
    const char b = 1;
    [[maybe_unused]] auto r = ::write(fd, &b, 1);
  }
}

asyncio::Task<> serve_until_stopped(Application& app, const RunAppOptions& options,
                                    int stop_read_fd, bool print_banner,
                                    std::atomic<int>* started) {
  AppRunner runner(app, options.server);
  co_await runner.setup();
  TCPSite site(runner, options.host, options.port, options.ssl);
  co_await site.start();
  if (print_banner) {
    const std::string line =
        "======== Running on " + site.url() + " ========\n(Press CTRL+C to quit)";
    if (options.print) {
      options.print(line);
    } else {
      std::cout << line << std::endl;
    }
  }
  if (started != nullptr) started->fetch_add(1);
  // Wait for the stop byte (signal, stop_app, or the main worker telling the others).
  pyconc::Future<void> stop;
  auto& loop = asyncio::get_running_loop();
  loop.add_reader(stop_read_fd, [stop]() mutable {
    if (!stop.done()) stop.set_result();
  });
  co_await stop;
  loop.remove_reader(stop_read_fd);
  co_await runner.cleanup();
}

}  // namespace

void run_app(Application& app, RunAppOptions options) {
  if (options.workers < 1) throw ValueError("run_app: workers must be >= 1");
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0) throw_os_error(errno, "pipe2");
  pyconc::detail::UniqueFd rd(pipefd[0]), wr(pipefd[1]);
  int expected = -1;
  if (!g_stop_fd.compare_exchange_strong(expected, pipefd[1])) {
    throw RuntimeError("run_app is already running in this process");
  }
  struct Restore {
    struct sigaction old_int {
    }, old_term{};
    bool installed = false;
    ~Restore() {
      if (installed) {
        ::sigaction(SIGINT, &old_int, nullptr);
        ::sigaction(SIGTERM, &old_term, nullptr);
      }
      std::lock_guard g(g_stop_mu);
      g_stop_fd.store(-1);
    }
  } restore;
  if (options.handle_signals) {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &sa, &restore.old_int);
    ::sigaction(SIGTERM, &sa, &restore.old_term);
    restore.installed = true;
  }
  if (options.workers > 1) options.server.reuse_port = true;
  // Every worker watches the same pipe: one byte wakes... all of them (level-triggered, never
  // read), so a single signal stops every loop.
  std::vector<std::thread> workers;
  std::exception_ptr worker_error;
  std::mutex error_mu;
  for (int i = 1; i < options.workers; ++i) {
    workers.emplace_back([&, i] {
      try {
        asyncio::run(serve_until_stopped(app, options, rd.get(), false, nullptr));
      } catch (...) {
        std::lock_guard g(error_mu);
        if (!worker_error) worker_error = std::current_exception();
        request_stop();
      }
      (void)i;
    });
  }
  std::exception_ptr main_error;
  try {
    asyncio::run(serve_until_stopped(app, options, rd.get(), true, nullptr));
  } catch (...) {
    main_error = std::current_exception();
    request_stop();
  }
  for (auto& t : workers) t.join();
  if (main_error) std::rethrow_exception(main_error);
  if (worker_error) std::rethrow_exception(worker_error);
}

void stop_app() noexcept {
  request_stop();
}

}  // namespace pyconc::aiohttp::web
