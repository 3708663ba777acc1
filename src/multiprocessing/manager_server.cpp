// The manager's server: shared objects in a reference-counted table, one thread per connection.
#include "pyconc/multiprocessing/detail/manager_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "pyconc/detail/deadline.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/detail/framing.hpp"
#include "pyconc/multiprocessing/detail/manager_registry.hpp"
#include "pyconc/multiprocessing/detail/manager_wire.hpp"
#include "pyconc/multiprocessing/detail/socket.hpp"
#include "pyconc/multiprocessing/serialize.hpp"
#include "pyconc/queue/exceptions.hpp"
#include "pyconc/queue/queue.hpp"
#include "pyconc/threading/barrier.hpp"
#include "pyconc/threading/condition.hpp"
#include "pyconc/threading/event.hpp"
#include "pyconc/threading/lock.hpp"
#include "pyconc/threading/rlock.hpp"
#include "pyconc/threading/semaphore.hpp"

namespace pyconc::detail {
namespace {

// A reply being built: a status, then numbers and blobs (or a message).
struct Reply {
  ManagerStatus status = ManagerStatus::ok;
  std::string body;
  Reply& number(std::uint64_t n) {
    body.append(reinterpret_cast<const char*>(&n), sizeof n);
    return *this;
  }
  Reply& blob(std::string_view b) {
    number(b.size());
    body.append(b);
    return *this;
  }
  void error(ManagerStatus s, std::string message) {
    status = s;
    body = std::move(message);
  }
};

[[noreturn]] void not_supported(ManagerKind kind, ManagerOp op) {
  throw ValueError(std::string("operation ") + std::to_string(static_cast<int>(op)) +
                   " is not supported by a " + kind_name(kind));
}

using Duration = std::chrono::nanoseconds;
// A wait field: nullopt = forever, zero = do not block.
std::optional<Duration> wait_of(ManagerReader& in) {
  const std::uint64_t w = in.number();
  if (w == kWaitForever) return std::nullopt;
  return Duration(static_cast<Duration::rep>(std::min<std::uint64_t>(w, INT64_MAX)));
}

// The connection the calling server thread answers (for client_gone()).
thread_local int t_client_fd = -1;

// Whether this thread's client closed its connection: it has no request in flight while it
// waits for our answer, so anything readable is its end of stream.
bool client_gone() noexcept {
  if (t_client_fd < 0) return false;
  char c = 0;
  const ssize_t n = ::recv(t_client_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

// Thrown to abandon an operation whose client is gone (the connection thread then ends).
struct ClientGone {};

// A blocking operation in slices: step(slice) tries for at most `slice` and says whether it
// is done. Between slices, a client that went away (killed while it waited) abandons the
// operation before it takes anything -- else an item got for a dead client would be lost.
// A waiting server thread thus wakes every kSlice; an idle one never does.
constexpr Duration kSlice = std::chrono::milliseconds(100);
template <class Step>
bool wait_sliced(std::optional<Duration> wait, Step step) {
  const auto deadline = wait ? deadline_after(*wait) : Clock::time_point::max();
  for (;;) {
    Duration slice = kSlice;
    if (wait) {
      const auto left = std::chrono::duration_cast<Duration>(remaining(deadline));
      if (left < slice) slice = left < Duration::zero() ? Duration::zero() : left;
    }
    if (step(slice)) return true;
    if (wait && Clock::now() >= deadline) return false;
    if (client_gone()) throw ClientGone{};
  }
}

class Object {
 public:
  explicit Object(ManagerKind kind) : kind_(kind) {}
  virtual ~Object() = default;
  ManagerKind kind() const noexcept { return kind_; }
  // Runs one operation; exceptions become `exception` replies.
  virtual void call(ManagerOp op, ManagerReader& in, Reply& r) = 0;

 private:
  ManagerKind kind_;
};

// Python's dict: insertion-ordered, keyed by the serialized key. Also Namespace.
class DictObject final : public Object {
 public:
  using Object::Object;
  void call(ManagerOp op, ManagerReader& in, Reply& r) override {
    std::lock_guard g(mu_);
    switch (op) {
      case ManagerOp::d_set: {
        std::string k(in.blob());
        set(std::move(k), std::string(in.blob()));
        return;
      }
      case ManagerOp::d_get: {
        const std::string* v = find(std::string(in.blob()));
        r.number(v != nullptr);
        if (v) r.blob(*v);
        return;
      }
      case ManagerOp::d_contains:
        r.number(find(std::string(in.blob())) != nullptr);
        return;
      case ManagerOp::d_del:
        if (!erase(std::string(in.blob()))) r.error(ManagerStatus::key_error, "key");
        return;
      case ManagerOp::d_pop: {
        std::string v;
        const bool found = erase(std::string(in.blob()), &v);
        r.number(found);
        if (found) r.blob(v);
        return;
      }
      case ManagerOp::d_len:
        r.number(items_.size());
        return;
      case ManagerOp::d_keys:
      case ManagerOp::d_values:
      case ManagerOp::d_items:
        r.number(items_.size());
        for (const auto& [k, v] : items_) {
          if (op != ManagerOp::d_values) r.blob(k);
          if (op != ManagerOp::d_keys) r.blob(v);
        }
        return;
      case ManagerOp::d_clear:
        items_.clear();
        index_.clear();
        return;
      case ManagerOp::d_update:
        while (!in.done()) {
          std::string k(in.blob());
          set(std::move(k), std::string(in.blob()));
        }
        return;
      case ManagerOp::d_setdefault: {
        std::string k(in.blob());
        const std::string_view v = in.blob();
        if (const std::string* cur = find(k)) {
          r.blob(*cur);
          return;
        }
        set(std::move(k), std::string(v));
        r.blob(v);
        return;
      }
      default:
        not_supported(kind(), op);
    }
  }

 private:
  using Items = std::list<std::pair<std::string, std::string>>;
  std::string* find(const std::string& k) {
    auto it = index_.find(k);
    return it == index_.end() ? nullptr : &it->second->second;
  }
  void set(std::string k, std::string v) {
    if (std::string* cur = find(k)) {
      *cur = std::move(v);
      return;
    }
    items_.emplace_back(k, std::move(v));
    index_.emplace(std::move(k), std::prev(items_.end()));
  }
  bool erase(const std::string& k, std::string* value = nullptr) {
    auto it = index_.find(k);
    if (it == index_.end()) return false;
    if (value) *value = std::move(it->second->second);
    items_.erase(it->second);
    index_.erase(it);
    return true;
  }

  std::mutex mu_;
  Items items_;
  std::unordered_map<std::string, Items::iterator> index_;
};

// Python's list; also an Array (fixed size: only get/set/len/all).
class ListObject final : public Object {
 public:
  ListObject(ManagerKind kind, ManagerReader& init) : Object(kind) {
    while (!init.done()) items_.emplace_back(init.blob());
  }
  void call(ManagerOp op, ManagerReader& in, Reply& r) override {
    const bool array_op = op == ManagerOp::l_get || op == ManagerOp::l_set ||
                          op == ManagerOp::l_len || op == ManagerOp::l_all;
    if (kind() == ManagerKind::array && !array_op) not_supported(kind(), op);
    std::lock_guard g(mu_);
    auto& l = items_;
    switch (op) {
      case ManagerOp::l_append:
        l.emplace_back(in.blob());
        return;
      case ManagerOp::l_extend:
        while (!in.done()) l.emplace_back(in.blob());
        return;
      case ManagerOp::l_get: {
        auto i = static_cast<std::int64_t>(in.number());
        if (!normalize(i)) return r.error(ManagerStatus::index_error, what("index out of range"));
        r.blob(l[static_cast<std::size_t>(i)]);
        return;
      }
      case ManagerOp::l_set: {
        auto i = static_cast<std::int64_t>(in.number());
        if (!normalize(i)) {
          return r.error(ManagerStatus::index_error, what("assignment index out of range"));
        }
        l[static_cast<std::size_t>(i)] = std::string(in.blob());
        return;
      }
      case ManagerOp::l_len:
        r.number(l.size());
        return;
      case ManagerOp::l_pop: {
        if (l.empty()) return r.error(ManagerStatus::index_error, "pop from empty list");
        auto i = static_cast<std::int64_t>(in.number());
        if (!normalize(i)) return r.error(ManagerStatus::index_error, "pop index out of range");
        r.blob(l[static_cast<std::size_t>(i)]);
        l.erase(l.begin() + i);
        return;
      }
      case ManagerOp::l_insert: {
        auto i = static_cast<std::int64_t>(in.number());
        const auto n = static_cast<std::int64_t>(l.size());
        if (i < 0) i = std::max<std::int64_t>(0, i + n);
        i = std::min(i, n);
        l.emplace(l.begin() + i, in.blob());
        return;
      }
      case ManagerOp::l_remove:
      case ManagerOp::l_index: {
        const std::string_view v = in.blob();
        const auto it = std::find(l.begin(), l.end(), v);
        if (it == l.end()) {
          return r.error(ManagerStatus::value_error, op == ManagerOp::l_remove
                                                         ? "list.remove(x): x not in list"
                                                         : "list.index(x): x not in list");
        }
        if (op == ManagerOp::l_index) {
          r.number(static_cast<std::uint64_t>(it - l.begin()));
        } else {
          l.erase(it);
        }
        return;
      }
      case ManagerOp::l_count: {
        const std::string_view v = in.blob();
        r.number(static_cast<std::uint64_t>(std::count(l.begin(), l.end(), v)));
        return;
      }
      case ManagerOp::l_clear:
        l.clear();
        return;
      case ManagerOp::l_all:
        r.number(l.size());
        for (const auto& v : l) r.blob(v);
        return;
      default:
        not_supported(kind(), op);
    }
  }

 private:
  // Python's index rules: negative counts from the end.
  bool normalize(std::int64_t& i) const {
    if (i < 0) i += static_cast<std::int64_t>(items_.size());
    return i >= 0 && i < static_cast<std::int64_t>(items_.size());
  }
  std::string what(const char* rest) const {
    return std::string(kind() == ManagerKind::array ? "array " : "list ") + rest;
  }

  std::mutex mu_;
  std::vector<std::string> items_;
};

class ValueObject final : public Object {
 public:
  ValueObject(ManagerKind kind, ManagerReader& init) : Object(kind), value_(init.blob()) {}
  void call(ManagerOp op, ManagerReader& in, Reply& r) override {
    std::lock_guard g(mu_);
    if (op == ManagerOp::v_get) {
      r.blob(value_);
    } else if (op == ManagerOp::v_set) {
      value_ = std::string(in.blob());
    } else {
      not_supported(kind(), op);
    }
  }

 private:
  std::mutex mu_;
  std::string value_;
};

class QueueObject final : public Object {
 public:
  QueueObject(ManagerKind kind, ManagerReader& init)
      : Object(kind), q_(static_cast<std::ptrdiff_t>(init.number())) {}
  void call(ManagerOp op, ManagerReader& in, Reply& r) override {
    switch (op) {
      case ManagerOp::q_put: {
        std::string item(in.blob());
        const auto w = wait_of(in);
        if (w && w->count() == 0) {
          q_.put_nowait(std::move(item));
        } else if (!wait_sliced(w, [&](Duration d) { return q_.try_put(item, d); })) {
          throw queue::Full("put(): the queue is full");
        }
        return;
      }
      case ManagerOp::q_get: {
        const auto w = wait_of(in);
        if (w && w->count() == 0) {
          r.blob(q_.get_nowait());
          return;
        }
        std::optional<std::string> item;
        if (!wait_sliced(w, [&](Duration d) { return (item = q_.try_get(d)).has_value(); })) {
          throw queue::Empty("get(): the queue is empty");
        }
        if (client_gone()) {  // it died while we waited: the item goes back (at the tail)
          q_.try_put(std::move(*item));
          throw ClientGone{};
        }
        r.blob(*item);
        return;
      }
      case ManagerOp::q_qsize:
        r.number(q_.qsize());
        return;
      case ManagerOp::q_empty:
        r.number(q_.empty());
        return;
      case ManagerOp::q_full:
        r.number(q_.full());
        return;
      case ManagerOp::q_task_done:
        q_.task_done();
        return;
      case ManagerOp::q_join:
        wait_sliced(std::nullopt, [&](Duration d) { return q_.join(d); });
        return;
      default:
        not_supported(kind(), op);
    }
  }

 private:
  queue::Queue<std::string> q_;
};

// acquire(wait) on anything with acquire(bool) and acquire(bool, timeout).
template <class L>
bool acquire_with(L& lock, ManagerReader& in) {
  const auto w = wait_of(in);
  if (w && w->count() == 0) return lock.acquire(false);
  if (!wait_sliced(w, [&](Duration d) { return lock.acquire(true, d); })) return false;
  if (client_gone()) {  // acquired for a client that died meanwhile: give it back
    lock.release();
    throw ClientGone{};
  }
  return true;
}

// Lock, RLock, Semaphore, BoundedSemaphore.
template <class L>
class LockObject final : public Object {
 public:
  template <class... A>
  explicit LockObject(ManagerKind kind, A... a) : Object(kind), lock_(a...) {}
  void call(ManagerOp op, ManagerReader& in, Reply& r) override {
    switch (op) {
      case ManagerOp::acquire:
        r.number(acquire_with(lock_, in));
        return;
      case ManagerOp::release:
        if constexpr (std::is_base_of_v<threading::Semaphore, L>) {
          lock_.release(static_cast<int>(std::min<std::uint64_t>(in.number(), 0x7fffffff)));
        } else {
          lock_.release();
        }
        return;
      case ManagerOp::locked:
        if constexpr (std::is_same_v<L, threading::Lock>) {
          r.number(lock_.locked());
          return;
        }
        break;
      case ManagerOp::sem_value:
        if constexpr (std::is_base_of_v<threading::Semaphore, L>) {
          r.number(static_cast<std::uint64_t>(lock_.value()));
          return;
        }
        break;
      default:
        break;
    }
    not_supported(kind(), op);
  }

 private:
  L lock_;
};

class EventObject final : public Object {
 public:
  using Object::Object;
  void call(ManagerOp op, ManagerReader& in, Reply& r) override {
    switch (op) {
      case ManagerOp::e_set:
        ev_.set();
        return;
      case ManagerOp::e_clear:
        ev_.clear();
        return;
      case ManagerOp::e_is_set:
        r.number(ev_.is_set());
        return;
      case ManagerOp::e_wait: {
        const auto w = wait_of(in);
        r.number(wait_sliced(w, [&](Duration d) { return ev_.wait(d); }));
        return;
      }
      default:
        not_supported(kind(), op);
    }
  }

 private:
  threading::Event ev_;
};

class ConditionObject final : public Object {
 public:
  using Object::Object;
  void call(ManagerOp op, ManagerReader& in, Reply& r) override {
    switch (op) {
      case ManagerOp::acquire:
        r.number(acquire_with(cond_, in));
        return;
      case ManagerOp::release:
        cond_.release();
        return;
      case ManagerOp::c_wait: {
        // Between slices this thread holds the lock again, so no notify() can slip by.
        const auto w = wait_of(in);
        r.number(wait_sliced(w, [&](Duration d) { return cond_.wait(d); }));
        return;
      }
      case ManagerOp::c_notify:
        cond_.notify(static_cast<int>(std::min<std::uint64_t>(in.number(), 0x7fffffff)));
        return;
      default:
        not_supported(kind(), op);
    }
  }

 private:
  threading::RLock lock_;
  threading::Condition cond_{lock_};
};

class BarrierObject final : public Object {
 public:
  BarrierObject(ManagerKind kind, int parties) : Object(kind), barrier_(parties) {}
  void call(ManagerOp op, ManagerReader& in, Reply& r) override {
    switch (op) {
      case ManagerOp::b_wait: {
        const auto w = wait_of(in);
        r.number(static_cast<std::uint64_t>(!w ? barrier_.wait() : barrier_.wait(*w)));
        return;
      }
      case ManagerOp::b_abort:
        barrier_.abort();
        return;
      case ManagerOp::b_reset:
        barrier_.reset();
        return;
      case ManagerOp::b_parties:
        r.number(static_cast<std::uint64_t>(barrier_.parties()));
        return;
      case ManagerOp::b_n_waiting:
        r.number(static_cast<std::uint64_t>(barrier_.n_waiting()));
        return;
      case ManagerOp::b_broken:
        r.number(barrier_.broken());
        return;
      default:
        not_supported(kind(), op);
    }
  }

 private:
  threading::Barrier barrier_;
};

// An object of a type registered with BaseManager::register_.
class UserObject final : public Object {
 public:
  UserObject(ManagerKind kind, ManagerReader& in) : Object(kind) {
    const std::string name(in.blob());
    type_ = find_manager_type(name);
    if (!type_) {
      throw ValueError("the Manager's server does not know the type '" + name +
                       "' (BaseManager::register_ it before start() or serve_forever())");
    }
    const std::string_view args = in.blob();
    try {
      object_ = type_->make(args);
    } catch (const ValueError& e) {
      throw ValueError(name + "(...): the arguments are not those of the registered constructor (" +
                       e.what() + ")");
    }
  }
  void call(ManagerOp op, ManagerReader& in, Reply& r) override {
    if (op != ManagerOp::call_method) not_supported(kind(), op);
    const std::string name(in.blob());
    const std::string_view args = in.blob();
    const ManagerMethod* method = nullptr;
    for (const auto& m : type_->methods) {
      if (m.name == name) method = &m;
    }
    if (method == nullptr) {
      throw ValueError("method '" + name + "' of '" + type_->typeid_ +
                       "' is not exposed (register_ lists the callable methods)");
    }
    std::unique_lock lock(mu_, std::defer_lock);
    if (!type_->concurrent) lock.lock();
    r.blob(method->invoke(object_.get(), args));
  }

 private:
  std::shared_ptr<const ManagerType> type_;
  std::shared_ptr<void> object_;
  std::mutex mu_;
};

int count_arg(ManagerReader& in, int min, const char* what) {
  const auto n = static_cast<std::int64_t>(in.number());
  if (n < min || n > 0x7fffffff) {
    throw ValueError(std::string(what) + " must be " + std::to_string(min) + " or more");
  }
  return static_cast<int>(n);
}

std::shared_ptr<Object> make_object(ManagerKind kind, ManagerReader& in) {
  switch (kind) {
    case ManagerKind::dict:
    case ManagerKind::namespace_:
      return std::make_shared<DictObject>(kind);
    case ManagerKind::list:
    case ManagerKind::array:
      return std::make_shared<ListObject>(kind, in);
    case ManagerKind::value:
      return std::make_shared<ValueObject>(kind, in);
    case ManagerKind::queue:
      return std::make_shared<QueueObject>(kind, in);
    case ManagerKind::lock:
      return std::make_shared<LockObject<threading::Lock>>(kind);
    case ManagerKind::rlock:
      return std::make_shared<LockObject<threading::RLock>>(kind);
    case ManagerKind::semaphore:
      return std::make_shared<LockObject<threading::Semaphore>>(
          kind, count_arg(in, 0, "semaphore initial value"));
    case ManagerKind::bounded_semaphore:
      return std::make_shared<LockObject<threading::BoundedSemaphore>>(
          kind, count_arg(in, 0, "semaphore initial value"));
    case ManagerKind::event:
      return std::make_shared<EventObject>(kind);
    case ManagerKind::condition:
      return std::make_shared<ConditionObject>(kind);
    case ManagerKind::barrier:
      return std::make_shared<BarrierObject>(kind, count_arg(in, 1, "parties"));
    case ManagerKind::user:
      return std::make_shared<UserObject>(kind, in);
    default:
      throw ValueError("unknown object type " + std::to_string(static_cast<int>(kind)));
  }
}

}  // namespace

struct ManagerServer::Shared {
  explicit Shared(std::string key) : authkey(std::move(key)) {
    if (::pipe2(stop_pipe, O_CLOEXEC) != 0) raise_os_error(errno, "pipe2");
  }
  ~Shared() {
    ::close(stop_pipe[0]);
    ::close(stop_pipe[1]);
  }

  struct Entry {
    std::shared_ptr<Object> object;
    long refs = 1;
  };

  const std::string authkey;
  int stop_pipe[2] = {-1, -1};
  std::atomic<bool> stopping{false};

  std::mutex mu;  // guards the members below
  std::uint32_t next_id = 1;
  std::unordered_map<std::uint32_t, Entry> objects;
  std::unordered_set<int> connections;  // open connection fds (shut down at stop)

  void stop() {
    if (stopping.exchange(true)) return;
    const char c = 1;
    [[maybe_unused]] const auto n = ::write(stop_pipe[1], &c, 1);
    std::lock_guard g(mu);
    for (int fd : connections) ::shutdown(fd, SHUT_RDWR);  // idle connection threads wake up
  }

  std::shared_ptr<Object> find(std::uint32_t id) {
    std::lock_guard g(mu);
    auto it = objects.find(id);
    if (it == objects.end()) {
      throw ValueError("the Manager has no object " + std::to_string(id) +
                       " (its last proxy is gone)");
    }
    return it->second.object;
  }

  // One request -> its reply.
  void handle(std::string_view request, Reply& r) {
    if (request.empty()) throw ValueError("empty request");
    const auto op = static_cast<ManagerOp>(request[0]);
    ManagerReader in(request.substr(1));
    const auto id = static_cast<std::uint32_t>(in.number());
    switch (op) {
      case ManagerOp::ping:
        return;
      case ManagerOp::shutdown:
        stop();
        return;
      case ManagerOp::create: {
        const auto kind = static_cast<ManagerKind>(in.number());
        auto object = make_object(kind, in);
        std::lock_guard g(mu);
        const std::uint32_t nid = next_id++;
        objects.emplace(nid, Entry{std::move(object), 1});
        r.number(nid);
        return;
      }
      case ManagerOp::incref: {
        const auto kind = static_cast<ManagerKind>(in.number());
        std::lock_guard g(mu);
        auto it = objects.find(id);
        if (it == objects.end()) {
          throw ValueError(std::string("the Manager has no ") + kind_name(kind) + " " +
                           std::to_string(id) +
                           " (its last proxy was gone before this one "
                           "was loaded: keep a proxy until it is received)");
        }
        if (it->second.object->kind() != kind) {
          throw ValueError("Manager object " + std::to_string(id) + " is a " +
                           kind_name(it->second.object->kind()) + ", not a " + kind_name(kind));
        }
        ++it->second.refs;
        return;
      }
      case ManagerOp::decref: {
        std::shared_ptr<Object> dying;  // destroyed after the lock is released
        std::lock_guard g(mu);
        auto it = objects.find(id);
        if (it != objects.end() && --it->second.refs <= 0) {
          dying = std::move(it->second.object);
          objects.erase(it);
        }
        return;
      }
      default:
        find(id)->call(op, in, r);
    }
  }

  // A connection's thread: the challenge, then requests until the client leaves.
  static void serve_connection(std::shared_ptr<Shared> self, UniqueFd fd) {
    t_client_fd = fd.get();
    try {
      server_handshake(fd.get(), self->authkey, Clock::now() + std::chrono::seconds(30));
    } catch (...) {  // wrong key, garbage, silence: drop this client only
      self->forget(fd.get());
      return;
    }
    std::string request;
    for (;;) {
      try {
        if (!read_frame(fd.get(), request)) break;
      } catch (...) {  // the client went away mid-message
        break;
      }
      Reply reply;
      try {
        self->handle(request, reply);
      } catch (const ClientGone&) {
        break;
      } catch (...) {
        reply.status = ManagerStatus::exception;
        reply.body = multiprocessing::dumps_exception(std::current_exception());
      }
      std::string out(1, static_cast<char>(reply.status));
      out += reply.body;
      try {
        write_frame(fd.get(), out);
      } catch (...) {
        break;
      }
    }
    self->forget(fd.get());
  }

  void forget(int fd) {
    std::lock_guard g(mu);
    connections.erase(fd);
  }
};

ManagerServer::ManagerServer(UniqueFd listener, std::string authkey)
    : listener_(std::move(listener)), shared_(std::make_shared<Shared>(std::move(authkey))) {
  // Non-blocking: a connection that poll() announced but that died before accept() must not
  // hold the loop.
  const int flags = ::fcntl(listener_.get(), F_GETFL);
  if (flags < 0 || ::fcntl(listener_.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    raise_os_error(errno, "fcntl");
  }
}

ManagerServer::~ManagerServer() = default;

void ManagerServer::serve_forever() {
  while (!shared_->stopping.load()) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {shared_->stop_pipe[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      raise_os_error(errno, "poll");
    }
    if (fds[1].revents != 0) break;
    if ((fds[0].revents & POLLIN) == 0) continue;
    UniqueFd c;
    try {
      c = accept_on(listener_.get());
    } catch (const OSError&) {  // EMFILE and the like: try again on the next connection
      continue;
    }
    if (!c) continue;
    {
      std::lock_guard g(shared_->mu);
      shared_->connections.insert(c.get());
    }
    std::thread(&Shared::serve_connection, shared_, std::move(c)).detach();
  }
  listener_.reset();
}

}  // namespace pyconc::detail
