// tools/pyconc/trace_cli.cpp -- `pyconc trace view` and traced child runs (trace_cli.hpp).
#include "trace_cli.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>

#include <pyconc/errors.hpp>

extern char** environ;

namespace pyconc::tool {

namespace {

std::vector<std::string>& saved_args() {
  static std::vector<std::string> args;
  return args;
}

constexpr const char* kChildEnv = "PYCONC_TOOL_TRACED_CHILD";

}  // namespace

void remember_command_line(int argc, char** argv) {
  saved_args().assign(argv, argv + argc);
}

const std::vector<std::string>& command_line() {
  return saved_args();
}

bool is_traced_child() {
  const char* v = std::getenv(kChildEnv);
  return v != nullptr && *v != '\0';
}

int run_traced_child(const std::vector<std::string>& args, const std::string& json_path,
                     bool quiet) {
  // argv[0] as we were called: the trace names processes after it.
  std::vector<std::string> argv_s{command_line().empty() ? "pyconc" : command_line().front()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The environment, with our PYCONC_TRACE and without a PYCONC_TRACE_ROOT of ours: the child
  // is the root of its own trace.
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view kv(*e);
    if (kv.starts_with("PYCONC_TRACE=") || kv.starts_with("PYCONC_TRACE_ROOT=") ||
        kv.starts_with(std::string(kChildEnv) + "=")) {
      continue;
    }
    env_s.emplace_back(kv);
  }
  env_s.push_back("PYCONC_TRACE=" + json_path);
  env_s.push_back(std::string(kChildEnv) + "=1");
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  if (quiet) ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int err =
      ::posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  if (err != 0) throw OSError(err, "/proc/self/exe");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw OSError(errno, "waitpid");
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

std::string trace_json_path(const std::string& html_path) {
  const std::string ext = ".html";
  if (html_path.size() > ext.size() && html_path.ends_with(ext)) {
    return html_path.substr(0, html_path.size() - ext.size()) + ".json";
  }
  return html_path + ".json";
}

int write_run_timeline(const std::string& json_path, const std::string& html_path,
                       const std::string& title, int status) {
  try {
    const Timeline t = write_timeline_page(json_path, html_path, title);
    std::cout << "timeline   " << html_path << " (" << t.spans.size() << " events in "
              << t.lanes.size() << " lanes; for Perfetto: " << json_path << ")\n";
    return status;
  } catch (const Error& e) {
    std::cerr << "pyconc: cannot write the timeline: " << e.what() << "\n";
    return status == 0 ? 1 : status;
  }
}

void register_trace(CLI::App& app, std::function<int()>& command) {
  CLI::App* trace = app.add_subcommand(
      "trace", "Timelines of traced runs (record with PYCONC_TRACE=trace.json ./program)");
  trace->require_subcommand(1);
  struct ViewArgs {
    std::string in, out, title;
  };
  auto args = std::make_shared<ViewArgs>();
  CLI::App* view = trace->add_subcommand(
      "view",
      "Turn a trace (Chrome trace-event JSON, as PYCONC_TRACE writes it) into one self-contained "
      "HTML page: a lane per thread/worker/process/rank, zoom and pan, details on hover, "
      "utilisation per lane, queue wait p50/p99, the longest spans");
  view->add_option("trace", args->in, "the trace file (JSON)")->required()->type_name("trace.json");
  view->add_option("-o,--output", args->out, "the page to write")
      ->required()
      ->type_name("trace.html");
  view->add_option("--title", args->title, "the page's title (default: the trace's file name)");
  view->callback([args, &command] {
    command = [args] {
      const std::string title = args->title.empty() ? "pyconc trace: " + args->in : args->title;
      const Timeline t = write_timeline_page(args->in, args->out, title);
      std::cout << "trace: " << args->out << " (" << t.spans.size() << " events, " << t.lanes.size()
                << " lanes)\n";
      return 0;
    };
  });
}

}  // namespace pyconc::tool
