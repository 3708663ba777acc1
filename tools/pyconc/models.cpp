// tools/pyconc/models.cpp -- the C++ execution models of `pyconc compare`.
#include "models.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <functional>
#include <system_error>
#include <vector>

#include "pyconc/futures.hpp"
#include "pyconc/multiprocessing.hpp"
#include "pyconc/threading/thread.hpp"
#if PYCONC_TOOL_HAVE_MPI
#include "pyconc/mpi.hpp"
#endif

namespace pyconc::tool {

namespace th = pyconc::threading;
namespace cf = pyconc::futures;
namespace mp = pyconc::multiprocessing;

namespace {

// for number in PRIMES: is_prime(number)
void run_serial(const Tasks& tasks, const ModelOptions& /*options*/) {
  for (std::size_t i = 0; i < tasks.size(); ++i) tasks.run(i);
}

// The seed's "Thread per task": threads = [Thread(target=f, args=(x,)) for x in xs];
// start all, then join all. Creating the threads is part of the measured time, as in Python.
void run_thread_per_task(const Tasks& tasks, const ModelOptions& /*options*/) {
  std::vector<th::Thread> threads;
  threads.reserve(tasks.size());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    threads.emplace_back([&tasks](std::size_t j) { tasks.run(j); }, i);
  }
  for (th::Thread& t : threads) t.start();
  for (th::Thread& t : threads) t.join();
}

// N long-lived workers; each takes the next task index from a shared counter until none is
// left. Relaxed ordering suffices: the counter only hands out distinct indices, and the
// results are published to the caller by join().
void run_workers(const Tasks& tasks, const ModelOptions& options) {
  std::atomic<std::size_t> next{0};
  auto worker = [&next, &tasks] {
    for (std::size_t i = next.fetch_add(1, std::memory_order_relaxed); i < tasks.size();
         i = next.fetch_add(1, std::memory_order_relaxed)) {
      tasks.run(i);
    }
  };
  std::vector<th::Thread> threads;
  threads.reserve(static_cast<std::size_t>(options.workers));
  for (int w = 0; w < options.workers; ++w) threads.emplace_back(std::ref(worker));
  for (th::Thread& t : threads) t.start();
  for (th::Thread& t : threads) t.join();
}

// with ThreadPoolExecutor() as pool:
//     futures = [pool.submit(fn, x) for x in inputs]
//     results = [f.result() for f in futures]
// Python's default size, min(32, cpu_count() + 4); creating the pool and shutting it down
// (the destructor, like leaving the `with`) are timed. result() publishes each value.
void run_thread_pool(const Tasks& tasks, const ModelOptions& /*options*/) {
  cf::ThreadPoolExecutor pool;
  std::vector<cf::Future<u128>> futures;
  futures.reserve(tasks.size());
  for (std::uint64_t x : tasks.inputs) futures.push_back(pool.submit(tasks.fn, x));
  for (std::size_t i = 0; i < futures.size(); ++i) tasks.results[i] = futures[i].result();
}

// with ThreadPoolExecutor() as pool:
//     results = list(pool.map(fn, inputs))        # the seeds: pool.map(is_prime, PRIMES)
void run_thread_pool_map(const Tasks& tasks, const ModelOptions& /*options*/) {
  cf::ThreadPoolExecutor pool;
  std::size_t i = 0;
  for (const u128 r : pool.map(tasks.fn, tasks.inputs)) tasks.results[i++] = r;
}

// The seeds' Process per task: processes = [Process(target=f, args=(x,)) for x in xs]; start
// all, then join all; each child sends its result back through a pipe (Python: a Queue).
// A child is a fork() of this process, as Python's Process on Linux: the models run one at a
// time, so no other thread exists when it forks (the pools of the models before are gone).
void run_process_per_task(const Tasks& tasks, const ModelOptions& /*options*/) {
  struct Child {
    pid_t pid;
    int fd;
  };
  std::vector<Child> children;
  children.reserve(tasks.size());
  auto reap = [&children] {
    for (const Child& c : children) {
      ::close(c.fd);
      ::waitpid(c.pid, nullptr, 0);
    }
  };
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      reap();
      throw std::system_error(errno, std::generic_category(), "pipe2");
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
      const u128 r = tasks.fn(tasks.inputs[i]);
      const bool ok = ::write(p[1], &r, sizeof r) == static_cast<ssize_t>(sizeof r);
      ::_exit(ok ? 0 : 1);
    }
    ::close(p[1]);
    if (pid < 0) {
      ::close(p[0]);
      reap();
      throw std::system_error(errno, std::generic_category(), "fork");
    }
    children.push_back({pid, p[0]});
  }
  for (std::size_t i = 0; i < children.size(); ++i) {
    u128 r = 0;
    std::size_t got = 0;
    while (got < sizeof r) {
      const ssize_t n = ::read(children[i].fd, reinterpret_cast<char*>(&r) + got, sizeof r - got);
      if (n <= 0 && errno != EINTR) break;
      if (n > 0) got += static_cast<std::size_t>(n);
    }
    tasks.results[i] = r;  // a failed child leaves 0: verify() reports the wrong result
  }
  reap();
}

// with ProcessPoolExecutor(max_workers=N) as pool: results = list(pool.map(fn, inputs))
// Starting the worker processes is timed, as in Python.
void run_process_pool(const Tasks& tasks, const ModelOptions& options) {
  cf::ProcessPoolExecutor pool(options.workers);
  std::size_t i = 0;
  for (const u128 r : pool.map(tasks.fn, tasks.inputs)) tasks.results[i++] = r;
}

// with multiprocessing.Pool(N) as pool: results = pool.map(fn, inputs)   (Python's chunksize)
void run_mp_pool(const Tasks& tasks, const ModelOptions& options) {
  mp::Pool pool(options.workers);
  const std::vector<u128> results = pool.map(tasks.fn, tasks.inputs);
  for (std::size_t i = 0; i < results.size(); ++i) tasks.results[i] = results[i];
}

#if PYCONC_TOOL_HAVE_MPI
// with MPIPoolExecutor(max_workers=N) as pool: results = list(pool.map(fn, inputs))
// (mpi4py.futures). The workers are this tool spawned again with MPI_Comm_spawn, on this host
// (or where the launcher's universe puts them); spawning them is timed, as the process pool's.
// Run last: MPI is initialized from here on (the fork-based models ran before it).
void run_mpi_pool(const Tasks& tasks, const ModelOptions& options) {
  pyconc::mpi::MPIPoolExecutor pool({.max_workers = options.workers});
  std::size_t i = 0;
  for (const u128 r : pool.map(tasks.fn, tasks.inputs)) tasks.results[i++] = r;
}
#endif

constexpr CppModel kCppModels[] = {
    {"serial", run_serial},
    {"thread_per_task", run_thread_per_task},
    {"workers", run_workers},
    {"thread_pool", run_thread_pool},
    {"thread_pool_map", run_thread_pool_map},
    {"process_per_task", run_process_per_task},
    {"process_pool", run_process_pool},
    {"mp_pool", run_mp_pool},
#if PYCONC_TOOL_HAVE_MPI
    {"mpi_pool", run_mpi_pool},
#endif
};

// Keys are the Python scripts' model names (compare_cpu.py and compare_io.py, MODELS).
constexpr ModelRow kRows[] = {
    {"serial", "serial"},
    {"thread_per_task", "Thread per task"},
    {"workers", "threads ({N} workers)"},
    {"thread_pool", "ThreadPoolExecutor.submit"},
    {"thread_pool_map", "ThreadPoolExecutor.map"},
    {"process_per_task", "Process per task"},
    {"process_pool", "ProcessPoolExecutor.map"},
    {"mp_pool", "multiprocessing.Pool.map"},
    {"mpi_pool", "MPIPoolExecutor.map (MPI)"},
    // The download models (io_models.cpp, compare_io.py) add these.
    {"process_pool_submit", "ProcessPoolExecutor.submit"},
    {"asyncio", "asyncio.gather (ClientSession)"},
};

}  // namespace

std::span<const CppModel> cpp_models() {
  return kCppModels;
}

std::span<const ModelRow> model_rows() {
  return kRows;
}

std::string model_label(std::string_view key, int workers) {
  for (const ModelRow& row : kRows) {
    if (row.key != key) continue;
    std::string label(row.label);
    if (auto pos = label.find("{N}"); pos != std::string::npos) {
      label.replace(pos, 3, std::to_string(workers));
    }
    return label;
  }
  return std::string(key);
}

}  // namespace pyconc::tool
