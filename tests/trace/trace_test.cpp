// The timeline recorder (pyconc/detail/trace.hpp) end to end: a traced program with a thread
// pool, a process pool (each start method) and an event loop writes one file that merges its
// workers' events, on one clock, with the events each hook promises.
#include <gtest/gtest.h>

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "pyconc/detail/trace.hpp"

namespace {

using nlohmann::json;

std::string temp_dir() {
  char tmpl[] = "/tmp/pyconc_trace_XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  return d != nullptr ? d : "";
}

std::set<std::string> files_in(const std::string& dir) {
  std::set<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") out.insert(n);
    }
    ::closedir(d);
  }
  return out;
}

json run_sample(const std::string& method, const std::string& dir) {
  const std::string path = dir + "/trace.json";
  // `timeout` bounds the run: a hang fails the test instead of CI. PYCONC_TRACE_ROOT cleared: the
  // sample is a root of its own even if this test runs under a traced parent.
  const std::string cmd = "env -u PYCONC_TRACE_ROOT PYCONC_TRACE=" + path + " timeout 60 " +
                          PYCONC_TRACE_SAMPLE + " " + method + " > " + dir + "/out.txt";
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << cmd;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "no trace file " << path;
  if (!in.good()) return json::object();
  return json::parse(in);  // throws (fails the test) on malformed JSON
}

class TraceSample : public ::testing::TestWithParam<const char*> {};

TEST_P(TraceSample, MergesEveryExecutorAndTheLoopIntoOneFile) {
  const std::string dir = temp_dir();
  ASSERT_FALSE(dir.empty());
  const json trace = run_sample(GetParam(), dir);
  ASSERT_TRUE(trace.contains("traceEvents"));
  const json& events = trace["traceEvents"];

  std::map<int, std::string> process_names;
  std::map<std::pair<int, int>, std::string> thread_names;
  int root_pid = 0;
  int thread_tasks = 0, worker_tasks = 0, pool_view_tasks = 0;
  std::set<int> worker_pids;
  std::map<std::string, int> asyncio;
  std::int64_t first_ts = -1, last_end = 0;
  for (const json& e : events) {
    const std::string ph = e.at("ph");
    const int pid = e.at("pid");
    if (ph == "M") {
      if (e["name"] == "process_name") process_names[pid] = e["args"]["name"];
      if (e["name"] == "thread_name") thread_names[{pid, e["tid"].get<int>()}] = e["args"]["name"];
      continue;
    }
    const double ts = e.at("ts");
    const std::string cat = e.at("cat");
    const std::string name = e.at("name");
    if (cat == "ThreadPoolExecutor") {
      ++thread_tasks;
      root_pid = pid;
      EXPECT_GE(e["args"]["queued_ns"].get<std::int64_t>(), 0);
      EXPECT_GE(e["dur"].get<double>(), 0.0);
      const std::string lane = thread_names[{pid, e["tid"].get<int>()}];
      (void)lane;
    } else if (cat == "ProcessPool" && e["args"].contains("seq")) {
      ++worker_tasks;
      worker_pids.insert(pid);
    } else if (cat == "ProcessPool") {
      ++pool_view_tasks;
      EXPECT_GE(e["args"]["queued_ns"].get<std::int64_t>(), 0);
      EXPECT_GT(e["args"]["run_ns"].get<std::int64_t>(), 0);
      EXPECT_EQ(e["tid"].get<int>(), e["args"]["worker_pid"].get<int>());
    } else if (cat == "asyncio") {
      ++asyncio[name];
    }
    const auto t = static_cast<std::int64_t>(ts);
    if (first_ts < 0 || t < first_ts) first_ts = t;
    if (ph == "X")
      last_end = std::max(last_end, t + static_cast<std::int64_t>(e["dur"].get<double>()));
  }
  EXPECT_EQ(thread_tasks, 24);
  EXPECT_EQ(worker_tasks, 12) << "each worker's part must be merged";
  EXPECT_EQ(pool_view_tasks, 12);
  EXPECT_GE(worker_pids.size(), 1U);
  for (int wp : worker_pids) {
    EXPECT_NE(wp, root_pid);
    EXPECT_EQ(process_names[wp], "pool worker " + std::to_string(wp));
  }
  // Thread pool workers are named lanes.
  bool named_worker = false;
  for (const auto& [key, name] : thread_names) {
    named_worker = named_worker || name.rfind("ThreadPoolExecutor-", 0) == 0;
  }
  EXPECT_TRUE(named_worker);
  EXPECT_EQ(thread_names[std::make_pair(root_pid, root_pid)], "main");
  // The loop: creation, each step (3 sleeps + the last step), completion, by name.
  EXPECT_EQ(asyncio["create stepper-a"], 1);
  EXPECT_EQ(asyncio["done stepper-b"], 1);
  EXPECT_EQ(asyncio["stepper-a"], 4);
  EXPECT_EQ(asyncio["stepper-b"], 5);
  // One clock: the whole run fits in a minute.
  EXPECT_LT(last_end - first_ts, 60'000'000);
  // The parts were merged and removed; nothing else left beside the trace.
  EXPECT_EQ(files_in(dir), (std::set<std::string>{"out.txt", "trace.json"}));
  std::system(("rm -rf " + dir).c_str());
}

INSTANTIATE_TEST_SUITE_P(StartMethods, TraceSample,
                         ::testing::Values("spawn", "fork", "forkserver"));

TEST(Trace, OffIsANoOp) {
  if (pyconc::detail::tracing()) GTEST_SKIP() << "PYCONC_TRACE is set for this test binary";
  pyconc::detail::trace_complete("test", "nothing", 1, 2);
  pyconc::detail::trace_instant("test", "nothing");
  pyconc::detail::trace_flush();
  EXPECT_FALSE(pyconc::detail::trace_is_root());
}

}  // namespace
