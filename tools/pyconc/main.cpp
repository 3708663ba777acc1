// tools/pyconc/main.cpp -- the `pyconc` command: parses the command line with CLI11 and runs
// the chosen subcommand. Each subcommand lives in its own file and registers itself here.
//
// Exit status: the subcommand's; 2 for a usage error (CLI11 prints the message); 0 for --help.
#include <CLI/CLI.hpp>
#include <exception>
#include <functional>
#include <iostream>

#include <pyconc/errors.hpp>
#include <pyconc/version.hpp>

#include "compare.hpp"
#include "crawl.hpp"
#include "serve.hpp"
#include "trace_cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "pyconc -- Python's concurrency toolkit (threading, queue, concurrent.futures, "
      "multiprocessing, asyncio) as a C++20 library without a GIL. This command "
      "runs the study notes' experiments in C++ beside Python.",
      "pyconc"};
  app.set_version_flag("--version", "pyconc " PYCONC_VERSION_STRING);
  app.require_subcommand(1);

  std::function<int()> command;  // set by the subcommand the command line selects
  pyconc::tool::register_compare(app, command);
  pyconc::tool::register_crawl(app, command);
  pyconc::tool::register_serve(app, command);
  pyconc::tool::register_trace(app, command);
  pyconc::tool::remember_command_line(argc, argv);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);  // prints help, the version, or the error
    return status == 0 ? 0 : 2;
  }
  try {
    return command ? command() : 0;
  } catch (const std::exception& e) {
    std::cerr << "pyconc: error: " << e.what() << "\n";
    return 1;
  } catch (const pyconc::KeyboardInterrupt&) {  // Ctrl-C: the shell's convention, 128 + SIGINT
    std::cerr << "pyconc: interrupted\n";
    return 130;
  } catch (const pyconc::BaseException& e) {  // a cancellation that reached the top
    std::cerr << "pyconc: " << pyconc::type_name(e) << ": " << e.what() << "\n";
    return 1;
  }
}
