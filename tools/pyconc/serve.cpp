// `pyconc serve [--host 127.0.0.1] [--port 8000] [--workers 1] [--delay 0ms]`
#include "serve.hpp"

#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include "demo_server.hpp"

namespace pyconc::tool {

namespace {
struct ServeArgs {
  std::string host = "127.0.0.1";
  int port = 8000;
  int workers = 1;
  double delay_ms = 0;
};
}  // namespace

void register_serve(CLI::App& app, std::function<int()>& command) {
  auto args = std::make_shared<ServeArgs>();
  auto* sub = app.add_subcommand(
      "serve",
      "Serve the seeds' aiohttp example (/ and /hello/{name}) and the demo blog (/blog, /list/<n>, "
      "/post/<id>) until Ctrl+C.");
  sub->add_option("--host", args->host, "address to listen on")->capture_default_str();
  sub->add_option("--port", args->port, "port (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  sub->add_option("--workers", args->workers,
                  "event loops (threads), each with its own SO_REUSEPORT listener")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  sub->add_option("--delay", args->delay_ms,
                  "milliseconds each handler waits before answering (the seeds use 500)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 600000.0));
  sub->callback([args, &command] {
    command = [args] {
      aiohttp::web::Application app;
      add_demo_routes(app, std::chrono::milliseconds(static_cast<long>(args->delay_ms)));
      aiohttp::web::run_app(app,
                            {.host = args->host, .port = args->port, .workers = args->workers});
      return 0;
    };
  });
}

}  // namespace pyconc::tool
