// The timeline recorder (pyconc/detail/trace.hpp).
//
// Each recording thread owns a list of fixed-size chunks. The owner writes event n of the last
// chunk, then publishes it with a release store of the chunk's count (and a full chunk's
// successor with a release store of `next`); the flusher reads counts and links with acquire
// loads, so it sees every event published before it looked and never one half-written. Events
// are never removed: a flush writes everything recorded since start-up.
//
// fork(): the registry's mutex is held across fork (pthread_atfork), and the child bumps the
// generation, so its threads start new buffers: the parent's events copied into the child are
// never written twice (buffers carry the pid that recorded them).
#include "pyconc/detail/trace.hpp"

#include <dirent.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

namespace pyconc::detail {
namespace {

struct Event {
  std::int64_t ts = 0;
  std::int64_t dur = 0;
  char ph = 'X';
  int lane = kTraceThisThread;
  const char* cat = "";
  std::string name;
  TraceArgs args;
};

// A thread's chunks grow from 256 events to 16,384 (~2.5 MB): a thread that records little
// costs little, a busy one allocates rarely.
constexpr std::size_t kFirstChunkEvents = 256;
constexpr std::size_t kMaxChunkEvents = 16384;
// A thread records at most this many events (~150 MB); later ones are counted, not kept, and the
// flush says how many were dropped.
constexpr std::size_t kMaxEventsPerThread = std::size_t{1} << 20;

// A chunk's events follow it in the same mapping; each is constructed when recorded.
struct alignas(Event) Chunk {
  std::atomic<std::size_t> count{0};
  std::atomic<Chunk*> next{nullptr};
  std::size_t capacity = 0;
  Event* events() noexcept { return reinterpret_cast<Event*>(this + 1); }
  const Event* events() const noexcept { return reinterpret_cast<const Event*>(this + 1); }
};

// Mapped with MAP_POPULATE: the pages are filled in one call instead of one fault per page at
// first touch. A recorded event costs its share of fresh memory (~150 bytes): on the shared
// virtual machines of docs/benchmarks.md that first touch, not the recorder's code, is most of
// an event's cost. Never unmapped (see Registry).
Chunk* new_chunk(std::size_t capacity) {
  const std::size_t bytes = sizeof(Chunk) + capacity * sizeof(Event);
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  auto* c = new (p) Chunk;
  c->capacity = capacity;
  return c;
}

struct ThreadBuffer {
  int pid = 0;
  int tid = 0;
  std::string name;  // under the registry's mutex
  Chunk* head = nullptr;
  Chunk* tail = nullptr;                // the owner's only
  std::size_t recorded = 0;             // the owner's only
  std::atomic<std::size_t> dropped{0};  // past kMaxEventsPerThread
};

struct Config {
  std::string path;       // PYCONC_TRACE
  std::string root_key;   // the root's pid, or "mpi"
  bool mpi_rank = false;  // launched by mpirun
  int mpi_rank_number = -1;
  int root_pid = 0;  // the pid that writes `path` (0: none in this process tree)
};

struct Registry {
  std::mutex mu;
  std::vector<ThreadBuffer*> buffers;  // never freed: threads may outlive the flush at exit
  std::map<int, std::string> lanes;    // virtual lanes of this process
  std::string process_name;
};

// Leaked on purpose: threads that are still running at exit may record after static
// destructors would have run.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

std::atomic<std::uint64_t> g_generation{1};
std::atomic<int> g_pid{0};
thread_local ThreadBuffer* tls_buffer = nullptr;
thread_local std::uint64_t tls_generation = 0;

int current_tid() noexcept {
  return static_cast<int>(::syscall(SYS_gettid));
}

Config& config() {
  static auto* c = new Config;  // leaked: used by the exit flush
  return *c;
}

std::mutex& flush_mutex() {
  static auto* m = new std::mutex;  // leaked: used by the exit flush
  return *m;
}

// Held across fork(), in the order trace_flush() takes them (flush, then registry): a child
// never inherits one locked by a thread it does not have.
void on_fork_prepare() {
  flush_mutex().lock();
  registry().mu.lock();
}
void on_fork_parent() {
  registry().mu.unlock();
  flush_mutex().unlock();
}
void on_fork_child() {
  g_pid.store(static_cast<int>(::getpid()), std::memory_order_relaxed);
  g_generation.fetch_add(1, std::memory_order_relaxed);
  registry().lanes.clear();
  registry().process_name.clear();
  registry().mu.unlock();
  flush_mutex().unlock();
}

void flush_at_exit() {
  trace_flush();
}

bool init() {
  const char* p = std::getenv("PYCONC_TRACE");
  if (p == nullptr || *p == '\0') return false;
  Config& c = config();
  c.path = p;
  const int pid = static_cast<int>(::getpid());
  g_pid.store(pid, std::memory_order_relaxed);
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  if (rank == nullptr) rank = std::getenv("PMI_RANK");
  const char* root = std::getenv("PYCONC_TRACE_ROOT");
  if (rank != nullptr && root == nullptr) {
    c.mpi_rank = true;
    c.mpi_rank_number = std::atoi(rank);
    c.root_key = "mpi";
    c.root_pid = c.mpi_rank_number == 0 ? pid : 0;
  } else if (root == nullptr || *root == '\0') {
    c.root_key = std::to_string(pid);
    c.root_pid = pid;
    ::setenv("PYCONC_TRACE_ROOT", c.root_key.c_str(), 1);  // start-up: no other thread yet
  } else {
    c.root_key = root;
    c.root_pid = 0;
  }
  flush_mutex();  // built before the exit handler is registered
  registry();
  ::pthread_atfork(on_fork_prepare, on_fork_parent, on_fork_child);
  std::atexit(flush_at_exit);
  return true;
}

ThreadBuffer* my_buffer() {
  const std::uint64_t gen = g_generation.load(std::memory_order_relaxed);
  if (tls_buffer != nullptr && tls_generation == gen) [[likely]]
    return tls_buffer;
  auto* b = new ThreadBuffer;
  b->pid = g_pid.load(std::memory_order_relaxed);
  b->tid = current_tid();
  b->head = b->tail = new_chunk(kFirstChunkEvents);
  char name[32] = {};
  if (::pthread_getname_np(::pthread_self(), name, sizeof name) == 0) b->name = name;
  if (b->tid == b->pid) b->name = "main";
  {
    std::lock_guard g(registry().mu);
    registry().buffers.push_back(b);
  }
  tls_buffer = b;
  tls_generation = gen;
  return b;
}

void record(Event&& e) noexcept {
  try {
    ThreadBuffer* b = my_buffer();
    if (b->recorded == kMaxEventsPerThread) [[unlikely]] {
      b->dropped.store(b->dropped.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return;
    }
    ++b->recorded;
    Chunk* c = b->tail;
    const std::size_t n = c->count.load(std::memory_order_relaxed);
    new (c->events() + n) Event(std::move(e));
    c->count.store(n + 1, std::memory_order_release);
    if (n + 1 == c->capacity) {
      auto* next = new_chunk(std::min(c->capacity * 2, kMaxChunkEvents));
      c->next.store(next, std::memory_order_release);
      b->tail = next;
    }
  } catch (...) {  // out of memory: drop the event rather than the work being traced
  }
}

// --- JSON ---------------------------------------------------------------------------------------

void append_escaped(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

void append_us(std::string& out, std::int64_t ns) {
  // Chrome's trace format counts microseconds; three decimals keep the nanoseconds.
  char buf[48];
  const char* sign = ns < 0 ? "-" : "";
  const std::int64_t a = ns < 0 ? -ns : ns;
  std::snprintf(buf, sizeof buf, "%s%lld.%03lld", sign, static_cast<long long>(a / 1000),
                static_cast<long long>(a % 1000));
  out += buf;
}

void append_int_arg(std::string& out, bool& first, const char* k, std::int64_t v) {
  if (k == nullptr) return;
  if (!first) out.push_back(',');
  first = false;
  append_escaped(out, k);
  out.push_back(':');
  out += std::to_string(v);
}

void append_event(std::string& out, const Event& e, int pid, int tid) {
  out += "{\"name\":";
  append_escaped(out, e.name);
  out += ",\"cat\":";
  append_escaped(out, e.cat);
  out += ",\"ph\":\"";
  out.push_back(e.ph);
  out += "\",\"pid\":" + std::to_string(pid);
  out += ",\"tid\":" + std::to_string(e.ph == 'b' || e.lane == kTraceThisThread ? tid : e.lane);
  out += ",\"ts\":";
  append_us(out, e.ts);
  if (e.ph == 'X') {
    out += ",\"dur\":";
    append_us(out, e.dur);
  }
  if (e.ph == 'b') {  // an async pair: the id is unique in the process (pids tell processes apart)
    out += ",\"id\":\"" + std::to_string(pid) + "." + std::to_string(e.lane) + "\"";
  }
  if (e.ph == 'i') out += ",\"s\":\"t\"";
  const TraceArgs& a = e.args;
  if (a.k1 != nullptr || a.k2 != nullptr || a.k3 != nullptr || a.skey != nullptr) {
    out += ",\"args\":{";
    bool first = true;
    append_int_arg(out, first, a.k1, a.v1);
    append_int_arg(out, first, a.k2, a.v2);
    append_int_arg(out, first, a.k3, a.v3);
    if (a.skey != nullptr) {
      if (!first) out.push_back(',');
      append_escaped(out, a.skey);
      out.push_back(':');
      append_escaped(out, a.sval);
    }
    out.push_back('}');
  }
  out += "}\n";
  if (e.ph == 'b') {  // its end
    out += "{\"name\":";
    append_escaped(out, e.name);
    out += ",\"cat\":";
    append_escaped(out, e.cat);
    out += ",\"ph\":\"e\",\"id\":\"" + std::to_string(pid) + "." + std::to_string(e.lane) +
           "\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) + ",\"ts\":";
    append_us(out, e.ts + e.dur);
    out += "}\n";
  }
}

void append_metadata(std::string& out, const char* what, int pid, int tid, std::string_view name) {
  out += "{\"name\":\"";
  out += what;
  out += "\",\"ph\":\"M\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) +
         ",\"args\":{\"name\":";
  append_escaped(out, name);
  out += "}}\n";
}

// The program's name as it was called (argv[0]'s last part: /proc/self/comm says "exe" for a
// program started through /proc/self/exe), and the pid.
std::string default_process_name(int pid) {
  std::string name = program_invocation_short_name != nullptr ? program_invocation_short_name : "";
  if (name.empty()) name = "process";
  return name + " (" + std::to_string(pid) + ")";
}

// This process's events, one JSON object per line (a part file's format).
std::string collect_lines(std::size_t& dropped) {
  const int pid = g_pid.load(std::memory_order_relaxed);
  std::string out;
  Registry& r = registry();
  std::lock_guard g(r.mu);
  std::string pname = r.process_name;
  if (pname.empty()) {
    pname = config().mpi_rank ? "rank " + std::to_string(config().mpi_rank_number)
                              : default_process_name(pid);
  }
  append_metadata(out, "process_name", pid, 0, pname);
  for (const auto& [lane, name] : r.lanes) append_metadata(out, "thread_name", pid, lane, name);
  for (const ThreadBuffer* b : r.buffers) {
    if (b->pid != pid) continue;  // copied from the parent by fork
    dropped += b->dropped.load(std::memory_order_relaxed);
    append_metadata(out, "thread_name", pid, b->tid,
                    b->name.empty() ? "thread " + std::to_string(b->tid) : b->name);
    for (const Chunk* c = b->head; c != nullptr; c = c->next.load(std::memory_order_acquire)) {
      const std::size_t n = c->count.load(std::memory_order_acquire);
      for (std::size_t i = 0; i < n; ++i) append_event(out, c->events()[i], pid, b->tid);
    }
  }
  return out;
}

bool write_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

// The root's children's parts: `<path>.<root key>.<pid>.part`, merged into `lines` and deleted.
// Every part is kept in `merged` too (a later flush of the root writes them again).
std::map<std::string, std::string>& merged_parts() {
  static auto* m = new std::map<std::string, std::string>;  // leaked: used by the exit flush
  return *m;
}

void merge_parts(std::string& lines) {
  const std::string& path = config().path;
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string prefix = base + "." + config().root_key + ".";
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* ent = ::readdir(d)) {
      const std::string_view name(ent->d_name);
      if (name.size() <= prefix.size() + 5 || name.substr(0, prefix.size()) != prefix ||
          name.substr(name.size() - 5) != ".part") {
        continue;
      }
      const std::string full = dir + "/" + std::string(name);
      std::ifstream in(full, std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!text.empty() && text.back() == '\n') merged_parts()[std::string(name)] = std::move(text);
      std::remove(full.c_str());
    }
    ::closedir(d);
  }
  for (const auto& [name, text] : merged_parts()) lines += text;
}

}  // namespace

extern const bool trace_enabled = init();

namespace {
// Builds one event and records it; an allocation failure for the name drops the event.
void record_event(char ph, std::int64_t ts, std::int64_t dur, int lane, const char* cat,
                  std::string_view name, TraceArgs&& args) noexcept {
  Event e;
  e.ph = ph;
  e.ts = ts;
  e.dur = dur;
  e.lane = lane;
  e.cat = cat;
  try {
    e.name.assign(name);
  } catch (...) {
    return;
  }
  e.args = std::move(args);
  record(std::move(e));
}
}  // namespace

void trace_complete(const char* cat, std::string_view name, std::int64_t start_ns,
                    std::int64_t end_ns, TraceArgs args, int lane) noexcept {
  if (!tracing()) return;
  record_event('X', start_ns, end_ns - start_ns, lane, cat, name, std::move(args));
}

void trace_async_span(const char* cat, std::string_view name, std::int64_t start_ns,
                      std::int64_t end_ns, TraceArgs args) noexcept {
  if (!tracing()) return;
  static std::atomic<int> next_id{0};
  const int id = next_id.fetch_add(1, std::memory_order_relaxed);  // the pair's id
  record_event('b', start_ns, end_ns - start_ns, id, cat, name, std::move(args));
}

void trace_instant(const char* cat, std::string_view name, TraceArgs args) noexcept {
  if (!tracing()) return;
  record_event('i', trace_now_ns(), 0, kTraceThisThread, cat, name, std::move(args));
}

void trace_counter(std::string_view name, std::int64_t value) noexcept {
  if (!tracing()) return;
  TraceArgs args;
  args.k1 = "value";
  args.v1 = value;
  record_event('C', trace_now_ns(), 0, kTraceThisThread, "counter", name, std::move(args));
}

void trace_thread_name(std::string_view name) noexcept {
  if (!tracing()) return;
  try {
    ThreadBuffer* b = my_buffer();
    std::lock_guard g(registry().mu);
    b->name.assign(name);
  } catch (...) {
  }
}

void trace_lane_name(int lane, std::string_view name) noexcept {
  if (!tracing()) return;
  try {
    std::lock_guard g(registry().mu);
    registry().lanes[lane].assign(name);
  } catch (...) {
  }
}

void trace_process_name(std::string_view name) noexcept {
  if (!tracing()) return;
  try {
    std::lock_guard g(registry().mu);
    registry().process_name.assign(name);
  } catch (...) {
  }
}

bool trace_is_root() noexcept {
  return tracing() && config().root_pid == g_pid.load(std::memory_order_relaxed);
}

void trace_task(const char* executor, int worker, std::int64_t submit_ns, std::int64_t start_ns,
                std::int64_t end_ns) noexcept {
  TraceArgs a;
  a.k1 = "queued_ns";
  a.v1 = start_ns - submit_ns;
  a.k2 = "worker";
  a.v2 = worker;
  a.skey = "executor";
  try {
    a.sval = executor;
  } catch (...) {
  }
  trace_complete(executor, "task", start_ns, end_ns, std::move(a));
}

void trace_flush() noexcept {
  if (!tracing()) return;
  try {
    std::lock_guard g(flush_mutex());
    const Config& c = config();
    const int pid = g_pid.load(std::memory_order_relaxed);
    std::size_t dropped = 0;
    std::string lines = collect_lines(dropped);
    if (dropped > 0) {
      std::fprintf(stderr, "pyconc: trace: %zu events dropped (over %zu on one thread)\n", dropped,
                   kMaxEventsPerThread);
    }
    if (c.root_pid != pid) {
      const std::string part = c.path + "." + c.root_key + "." + std::to_string(pid) + ".part";
      if (!write_file(part, lines)) {
        std::fprintf(stderr, "pyconc: cannot write trace part %s\n", part.c_str());
      }
      return;
    }
    merge_parts(lines);
    // One event per line inside the array: the file stays readable and easy to merge.
    std::string out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
    out.reserve(lines.size() + 64);
    std::size_t pos = 0;
    bool first = true;
    while (pos < lines.size()) {
      const std::size_t nl = lines.find('\n', pos);
      const std::size_t end = nl == std::string::npos ? lines.size() : nl;
      if (end > pos) {
        if (!first) out += ",\n";
        out.append(lines, pos, end - pos);
        first = false;
      }
      pos = end + 1;
    }
    out += "\n]}\n";
    if (!write_file(c.path, out)) {
      std::fprintf(stderr, "pyconc: cannot write trace file %s\n", c.path.c_str());
    }
  } catch (...) {
  }
}

}  // namespace pyconc::detail
