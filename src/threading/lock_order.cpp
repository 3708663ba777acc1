// Debug mode's lock-order graph: which lock was held while which other was acquired, by whom.
//
// Nodes are locks (keyed by address; a lock removes its node when destroyed), edges "A -> B"
// mean "some thread (task) held A while it acquired B". The graph is kept acyclic: an edge that
// would close a cycle is not inserted but reported (a potential deadlock). Holders are threads
// (keyed by a thread_local object that forgets the thread's locks when the thread ends) or
// asyncio tasks (keyed by the task). Each node remembers its current holder, so a Lock released
// by another thread than the one that took it (legal in Python) leaves the right held list.
//
// Everything is guarded by one mutex: this runs only in debug mode, where simplicity beats
// throughput. The handler is called with no mutex held (it may throw, print or take locks).
#include "pyconc/detail/lock_order.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "pyconc/errors.hpp"
#include "pyconc/threading/lock_order.hpp"
#include "pyconc/threading/thread.hpp"

namespace pyconc::detail {

constinit std::atomic<unsigned char> lock_order_state{2};

namespace {

struct Node {
  LockKind kind = LockKind::lock;
  const char* file = nullptr;  // creation site; null when created while the check was off
  unsigned line = 0;
  std::unordered_map<const void*, std::string> out;  // acquired-while-holding-this -> by whom
  std::unordered_set<const void*> in;                // locks with an edge to this one
  const void* holder = nullptr;                      // holder key, while held
};

using Pair = std::pair<const void*, const void*>;

struct Graph {
  std::mutex mu;
  std::unordered_map<const void*, Node> nodes;
  std::unordered_map<const void*, std::vector<const void*>> held;  // holder key -> locks held
  std::set<Pair> reported;  // (held, acquired) inversions already reported
  std::mutex handler_mu;
  threading::DeadlockHandler handler;

  Graph();
};

// Leaked on purpose: locks with static storage duration may be destroyed after us.
Graph& graph() {
  static Graph* g = new Graph();
  return *g;
}

// The key of the calling thread as a holder. Its destructor (at thread exit) drops what the
// thread still held: the key's address may be reused by a later thread.
struct ThreadKey {
  bool used = false;
  ~ThreadKey();
};
thread_local ThreadKey tls_key;

const void* key_of(const LockHolder& h) {
  if (h.key != nullptr) return h.key;
  tls_key.used = true;
  return &tls_key;
}

std::string name_of(const LockHolder& h) {
  if (h.name != nullptr) return h.name(h.key);
  return "thread '" + threading::current_thread().name() + "'";
}

bool debug_from_environment() noexcept {
  const char* env = std::getenv("PYCONC_DEBUG");
  return env != nullptr && *env != '\0' && std::strcmp(env, "0") != 0;
}

// Settles the "undecided" state from PYCONC_DEBUG; true when the check is on.
bool active() noexcept {
  unsigned char s = lock_order_state.load(std::memory_order_relaxed);
  if (s == 2) {
    lock_order_state.compare_exchange_strong(s, debug_from_environment() ? 1 : 0,
                                             std::memory_order_relaxed);
    s = lock_order_state.load(std::memory_order_relaxed);
  }
  return s == 1;
}
bool on_locked() noexcept {
  return lock_order_state.load(std::memory_order_relaxed) == 1;
}

// --- graph operations; the caller holds graph().mu ---

void drop_held(Graph& g, const void* key, const void* lock) {
  auto h = g.held.find(key);
  if (h == g.held.end()) return;
  auto& v = h->second;
  auto it = std::find(v.rbegin(), v.rend(), lock);
  if (it != v.rend()) v.erase(std::next(it).base());
  if (v.empty()) g.held.erase(h);
}

void drop_node(Graph& g, const void* lock) {
  auto n = g.nodes.find(lock);
  if (n == g.nodes.end()) return;
  if (n->second.holder != nullptr) drop_held(g, n->second.holder, lock);
  for (const auto& [to, by] : n->second.out) {
    if (auto t = g.nodes.find(to); t != g.nodes.end()) t->second.in.erase(lock);
  }
  for (const void* from : n->second.in) {
    if (auto f = g.nodes.find(from); f != g.nodes.end()) f->second.out.erase(lock);
  }
  g.nodes.erase(n);
  std::erase_if(g.reported, [lock](const Pair& p) { return p.first == lock || p.second == lock; });
}

Node& node_for(Graph& g, const void* lock, LockKind kind) {
  auto [it, fresh] = g.nodes.try_emplace(lock);
  if (fresh) it->second.kind = kind;
  return it->second;
}

// A path from -> ... -> to along edges (both ends included); empty if there is none.
std::vector<const void*> find_path(Graph& g, const void* from, const void* to) {
  std::unordered_map<const void*, const void*> parent{{from, nullptr}};
  std::vector<const void*> stack{from};
  while (!stack.empty()) {
    const void* at = stack.back();
    stack.pop_back();
    if (at == to) {
      std::vector<const void*> path;
      for (const void* p = to; p != nullptr; p = parent[p]) path.push_back(p);
      std::reverse(path.begin(), path.end());
      return path;
    }
    for (const auto& [next, by] : g.nodes[at].out) {
      if (parent.try_emplace(next, at).second) stack.push_back(next);
    }
  }
  return {};
}

std::string describe(const void* lock, const Node& n) {
  const char* kind = n.kind == LockKind::rlock          ? "RLock"
                     : n.kind == LockKind::asyncio_lock ? "asyncio.Lock"
                                                        : "Lock";
  char buf[160];
  if (n.file != nullptr) {
    // The last two components of the path: enough to find it, short enough to read.
    const char* file = n.file;
    const char* last = std::strrchr(file, '/');
    if (last != nullptr) {
      const char* p = last;
      while (p > file && *(p - 1) != '/') --p;
      file = p > file ? p : file;
    }
    std::snprintf(buf, sizeof buf, "%s %p (created at %s:%u)", kind, lock, file, n.line);
  } else {
    std::snprintf(buf, sizeof buf, "%s %p", kind, lock);
  }
  return buf;
}

// The report for the cycle path[0] -> ... -> path[k], closed by path[k] -> path[0] now.
threading::PotentialDeadlock make_report(Graph& g, const std::vector<const void*>& path,
                                         const std::string& by) {
  threading::PotentialDeadlock r;
  const std::size_t n = path.size();
  for (std::size_t i = 0; i < n; ++i) {
    r.locks.push_back(describe(path[i], g.nodes[path[i]]));
    r.holders.push_back(i + 1 < n ? g.nodes[path[i]].out[path[i + 1]] : by);
  }
  r.message = "potential deadlock: " + by + " acquires " + r.locks[0] + " while holding " +
              r.locks[n - 1] + ", but the opposite order was seen before (a lock-order cycle of " +
              std::to_string(n) + " locks):";
  for (std::size_t i = 0; i < n; ++i) {
    r.message += "\n  " + r.locks[i] + " held while acquiring " + r.locks[(i + 1) % n] + ": by " +
                 r.holders[i] + (i + 1 == n ? " (now)" : "");
  }
  return r;
}

Graph::Graph() {
  // A fork while another thread holds mu would leave the child's copy locked forever.
  ::pthread_atfork([] { graph().mu.lock(); }, [] { graph().mu.unlock(); },
                   [] {
                     Graph& g = graph();
                     // Only the forking thread survives; other threads' keys may be reused.
                     for (auto it = g.held.begin(); it != g.held.end();) {
                       if (it->first == &tls_key) {
                         ++it;
                         continue;
                       }
                       for (const void* l : it->second) g.nodes[l].holder = nullptr;
                       it = g.held.erase(it);
                     }
                     g.mu.unlock();
                   });
}

ThreadKey::~ThreadKey() {
  if (!used) return;
  Graph& g = graph();
  std::lock_guard lk(g.mu);
  auto h = g.held.find(this);
  if (h == g.held.end()) return;
  for (const void* l : h->second) {
    auto n = g.nodes.find(l);
    if (n != g.nodes.end()) n->second.holder = nullptr;
  }
  g.held.erase(h);
}

}  // namespace

void lock_order_created(const void* lock, LockKind kind, const SourceSite& where) noexcept {
  if (!active()) return;
  Graph& g = graph();
  try {
    std::lock_guard lk(g.mu);
    if (!on_locked()) return;
    drop_node(g, lock);  // a lock whose destruction we did not see
    Node& n = node_for(g, lock, kind);
    n.file = where.file;
    n.line = where.line;
  } catch (...) {  // out of memory: the lock works, it is just not tracked
  }
}

void lock_order_acquiring(const void* lock, LockKind kind, LockHolder holder) {
  if (!active()) return;
  Graph& g = graph();
  std::vector<threading::PotentialDeadlock> reports;
  std::vector<Pair> pairs;
  {
    std::lock_guard lk(g.mu);
    if (!on_locked()) return;
    auto h = g.held.find(key_of(holder));
    if (h == g.held.end()) return;
    node_for(g, lock, kind);
    std::string by;
    for (const void* x : h->second) {
      if (x == lock) continue;
      Node& from = g.nodes[x];
      if (from.out.contains(lock)) continue;
      if (by.empty()) by = name_of(holder);
      auto path = find_path(g, lock, x);
      if (path.empty()) {
        from.out.emplace(lock, by);
        g.nodes[lock].in.insert(x);
      } else if (!g.reported.contains({x, lock})) {
        reports.push_back(make_report(g, path, by));
        pairs.emplace_back(x, lock);
      }
    }
  }
  for (std::size_t i = 0; i < reports.size(); ++i) {
    threading::DeadlockHandler handler;
    {
      std::lock_guard lk(g.handler_mu);
      handler = g.handler;
    }
    if (handler) {
      handler(reports[i]);  // may throw: the acquire then fails, and is reported again next time
    } else {
      threading::print_potential_deadlock(reports[i]);
    }
    std::lock_guard lk(g.mu);
    if (g.nodes.contains(pairs[i].first) && g.nodes.contains(pairs[i].second)) {
      g.reported.insert(pairs[i]);
    }
  }
}

void lock_order_acquired(const void* lock, LockKind kind, LockHolder holder) noexcept {
  if (!active()) return;
  Graph& g = graph();
  try {
    std::lock_guard lk(g.mu);
    if (!on_locked()) return;
    const void* key = key_of(holder);
    Node& n = node_for(g, lock, kind);
    if (n.holder == key) return;
    if (n.holder != nullptr) drop_held(g, n.holder, lock);  // a release we did not see
    n.holder = key;
    g.held[key].push_back(lock);
  } catch (...) {  // out of memory: this acquisition is not tracked
  }
}

void lock_order_released(const void* lock) noexcept {
  if (!active()) return;
  Graph& g = graph();
  std::lock_guard lk(g.mu);
  auto n = g.nodes.find(lock);
  if (n == g.nodes.end() || n->second.holder == nullptr) return;
  drop_held(g, n->second.holder, lock);
  n->second.holder = nullptr;
}

void lock_order_destroyed(const void* lock) noexcept {
  if (!active()) return;
  Graph& g = graph();
  std::lock_guard lk(g.mu);
  drop_node(g, lock);
}

}  // namespace pyconc::detail

namespace pyconc::threading {

void set_deadlock_detection(bool on) {
  detail::active();  // settle PYCONC_DEBUG first, so that it cannot override this later
  auto& g = detail::graph();
  std::lock_guard lk(g.mu);
  if (!on) {
    g.nodes.clear();
    g.held.clear();
    g.reported.clear();
  }
  detail::lock_order_state.store(on ? 1 : 0, std::memory_order_relaxed);
}

bool deadlock_detection() {
  return detail::active();
}

DeadlockHandler set_deadlock_handler(DeadlockHandler handler) {
  auto& g = detail::graph();
  std::lock_guard lk(g.handler_mu);
  std::swap(g.handler, handler);
  return handler;
}

void print_potential_deadlock(const PotentialDeadlock& report) {
  std::fprintf(stderr, "%s\n", report.message.c_str());
  std::fflush(stderr);
}

void raise_potential_deadlock(const PotentialDeadlock& report) {
  throw RuntimeError(report.message);
}

}  // namespace pyconc::threading
