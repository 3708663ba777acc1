// tools/pyconc/python_side.cpp -- locating python3, running the embedded script, parsing it.
//
// The child is started with posix_spawn (no fork of a process that may own threads) with its
// stdout and stderr on two pipes read through poll(), so neither can fill up and stall it,
// and with a deadline: a hung interpreter is killed and reported, never waited for forever.
#include "python_side.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "compare_cpu_py.hpp"  // kCompareCpuScript, generated from python/compare_cpu.py
#include "compare_io_py.hpp"   // kCompareIoScript, generated from python/compare_io.py

extern char** environ;  // NOLINT: POSIX names it so

namespace pyconc::tool {

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

// A file descriptor closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// The script written to $TMPDIR (or /tmp) for one run, removed on destruction.
class TempScript {
 public:
  explicit TempScript(std::string_view text) {
    const char* dir = std::getenv("TMPDIR");
    path_ =
        std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/pyconc-compare-XXXXXX.py";
    Fd fd(::mkstemps(path_.data(), 3));
    if (fd.get() < 0) {
      error_ = "cannot create " + path_ + ": " + errno_text(errno);
      path_.clear();
      return;
    }
    while (!text.empty()) {
      const ssize_t n = ::write(fd.get(), text.data(), text.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = "cannot write " + path_ + ": " + errno_text(errno);
        return;
      }
      text.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  ~TempScript() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempScript(const TempScript&) = delete;
  TempScript& operator=(const TempScript&) = delete;

  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  std::string error_;
};

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  for (;;) {
    const auto tab = line.find('\t');
    fields.push_back(line.substr(0, tab));
    if (tab == std::string_view::npos) return fields;
    line.remove_prefix(tab + 1);
  }
}

template <class T>
bool parse_number(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool is_decimal(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// One output line into `run`. Returns false for a line that is not a well-formed record.
bool parse_record(std::string_view line, PythonRun& run) {
  const auto f = split_tabs(line);
  if (f.size() == 4 && f[0] == "python") {
    run.version = f[1];
    run.implementation = f[2];
    return true;
  }
  if (f.size() == 4 && f[0] == "value" && f[1].size() == 1 && is_decimal(f[3])) {
    PythonValue v{.workload = f[1][0], .index = 0, .value = std::string(f[3])};
    return parse_number(f[2], v.index) && (run.values.push_back(std::move(v)), true);
  }
  if (f.size() == 6 && f[0] == "model" && f[1].size() == 1 && is_decimal(f[5])) {
    PythonModel m{.workload = f[1][0],
                  .key = std::string(f[2]),
                  .seconds = 0,
                  .runs = 0,
                  .checksum = std::string(f[5])};
    return parse_number(f[3], m.seconds) && parse_number(f[4], m.runs) &&
           (run.models.push_back(std::move(m)), true);
  }
  if (f.size() == 4 && f[0] == "skip" && f[1].size() == 1) {
    run.skipped.push_back(
        {.workload = f[1][0], .key = std::string(f[2]), .reason = std::string(f[3])});
    return true;
  }
  if (f.size() == 3 && f[0] == "lib" && f[1] == "aiohttp") {
    run.aiohttp_version = f[2];
    return true;
  }
  if (f.size() == 4 && f[0] == "error") {
    run.model_errors.push_back(std::string(f[1]) + " " + std::string(f[2]) + ": " +
                               std::string(f[3]));
    return true;
  }
  return false;
}

// The last `count` non-empty lines of `text`, joined by " | ".
std::string tail_lines(std::string_view text, std::size_t count) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    line.remove_prefix(std::min(line.size(), line.find_first_not_of(" \t")));
    if (!line.empty()) lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  std::string out;
  for (std::size_t i = lines.size() > count ? lines.size() - count : 0; i < lines.size(); ++i) {
    if (!out.empty()) out += " | ";
    out += lines[i];
  }
  return out;
}

}  // namespace

std::optional<std::string> find_program(std::string_view name_or_path) {
  auto executable = [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
  };
  if (name_or_path.empty()) return std::nullopt;
  if (name_or_path.find('/') != std::string_view::npos) {
    std::string path(name_or_path);
    if (executable(path)) return path;
    return std::nullopt;
  }
  const char* env = std::getenv("PATH");
  std::string_view dirs = env != nullptr ? env : "/usr/local/bin:/usr/bin:/bin";
  for (;;) {
    const auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) dir = ".";  // an empty PATH entry means the current directory
    std::string path = dir + "/" + std::string(name_or_path);
    if (executable(path)) return path;
    if (colon == std::string_view::npos) return std::nullopt;
    dirs.remove_prefix(colon + 1);
  }
}

namespace {

// Writes `script_text` to a temporary file and runs `python file args...`, parsing its
// records into the result, killing it at `timeout`.
PythonRun run_script(const std::string& python, std::string_view script_text,
                     const std::vector<std::string>& script_args, std::chrono::seconds timeout,
                     const std::function<void(std::string_view)>& on_record) {
  PythonRun run;
  TempScript script(script_text);
  if (!script.error().empty()) {
    run.failure = script.error();
    return run;
  }

  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    run.failure = "pipe: " + errno_text(errno);
    return run;
  }
  Fd out_read(out_pipe[0]);
  Fd out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    run.failure = "pipe: " + errno_text(errno);
    return run;
  }
  Fd err_read(err_pipe[0]);
  Fd err_write(err_pipe[1]);

  std::vector<std::string> args = {python, script.path()};
  args.insert(args.end(), script_args.begin(), script_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), STDERR_FILENO);
  pid_t pid = -1;
  const int spawn_error =
      ::posix_spawn(&pid, python.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    run.failure = "cannot run " + python + ": " + errno_text(spawn_error);
    return run;
  }
  out_write.reset();  // the child holds the write ends now; EOF comes when it exits
  err_write.reset();

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out_buf;
  std::string err_buf;
  bool timed_out = false;
  auto take_lines = [&](bool at_eof) {
    for (auto nl = out_buf.find('\n'); nl != std::string::npos; nl = out_buf.find('\n')) {
      std::string line = out_buf.substr(0, nl);
      out_buf.erase(0, nl + 1);
      if (parse_record(line, run)) on_record(line);
    }
    if (at_eof && !out_buf.empty() && parse_record(out_buf, run)) on_record(out_buf);
  };

  while (out_read.get() >= 0 || err_read.get() >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) {
      run.failure = "poll: " + errno_text(errno);
      timed_out = true;  // stop the child the same way
      break;
    }
    char chunk[4096];
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      Fd& fd = i == 0 ? out_read : err_read;
      const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        fd.reset();
        if (i == 0) take_lines(/*at_eof=*/true);
        continue;
      }
      if (i == 0) {
        out_buf.append(chunk, static_cast<std::size_t>(n));
        take_lines(/*at_eof=*/false);
      } else {
        err_buf.append(chunk, static_cast<std::size_t>(n));
        if (err_buf.size() > (64U << 10U)) err_buf.erase(0, err_buf.size() - (32U << 10U));
      }
    }
  }

  if (timed_out) ::kill(pid, SIGKILL);  // its pool workers see their pipes close and exit
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }

  if (timed_out && run.failure.empty()) {
    run.failure = "no result within " + std::to_string(timeout.count()) + " s; stopped it";
  } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    run.failure = python + " exited with status " + std::to_string(WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    run.failure = python + " was killed by signal " + std::to_string(WTERMSIG(status));
  } else if (run.version.empty()) {
    run.failure = python + " printed no results";
  }
  if (!run.failure.empty()) {
    const std::string tail = tail_lines(err_buf, 3);
    if (!tail.empty()) run.failure += " (stderr: " + tail + ")";
  }
  return run;
}

}  // namespace

PythonRun run_python_script(const std::string& python, const PythonPlan& plan,
                            const std::function<void(std::string_view)>& on_record) {
  return run_script(
      python, kCompareCpuScript,
      {"--prime", std::to_string(plan.prime), "--prime-tasks", std::to_string(plan.prime_tasks),
       "--sum-base", std::to_string(plan.sum_base), "--sum-tasks", std::to_string(plan.sum_tasks),
       "--workers", std::to_string(plan.workers)},
      plan.timeout, on_record);
}

PythonRun run_python_io_script(const std::string& python, const PythonIoPlan& plan,
                               const std::function<void(std::string_view)>& on_record) {
  std::vector<std::string> args = {"--base-url", plan.base_url,
                                   "--pages",    std::to_string(plan.pages),
                                   "--workers",  std::to_string(plan.workers),
                                   "--timeout",  std::to_string(plan.request_timeout.count())};
  if (!plan.models.empty()) {
    args.emplace_back("--models");
    args.push_back(plan.models);
  }
  return run_script(python, kCompareIoScript, args, plan.timeout, on_record);
}

}  // namespace pyconc::tool
