// pyconc/multiprocessing/detail/manager_wire.hpp -- the messages between Manager proxies and the
// manager server.
//
// Internal to multiprocessing. A request is one frame: the operation (one byte), the object
// id, then the operation's numbers and blobs (length-prefixed bytes: keys, values, items as
// dumps() made them). A reply is one frame: a status byte, then the payload -- numbers and
// blobs for `ok`, a message for the Python-named statuses, or dumps_exception() bytes for
// `exception` (the server's exception is rethrown in the caller with its type: queue::Empty,
// BrokenBarrierError, RuntimeError...). Both ends run the same binary on the same machine, so
// numbers are native 8-byte integers.
// Thread safety: Writer and Reader are plain values of one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pyconc::detail {

// What a server object is; carried in a proxy's token and checked by the server on incref.
enum class ManagerKind : std::uint8_t {
  dict = 1,
  list,
  namespace_,
  queue,
  lock,
  rlock,
  semaphore,
  bounded_semaphore,
  event,
  condition,
  barrier,
  value,
  array,
  user,  // a type registered with BaseManager::register_
};

// The display name of a kind ("Queue", "Lock", ...), for messages.
const char* kind_name(ManagerKind kind) noexcept;

// The operations a manager server knows. Dict operations also serve Namespace; list
// operations also serve Array.
enum class ManagerOp : std::uint8_t {
  create = 1,  // kind, then the kind's arguments -> id (its one reference is the caller's)
  incref,      // kind (checked)
  decref,      // the object dies with its last reference
  shutdown,
  d_set,
  d_get,  // -> found, value
  d_contains,
  d_del,
  d_pop,  // -> found, value
  d_len,
  d_keys,
  d_values,
  d_items,
  d_clear,
  d_update,
  d_setdefault,
  l_append,
  l_extend,
  l_get,
  l_set,
  l_len,
  l_pop,
  l_insert,
  l_remove,
  l_index,
  l_count,
  l_clear,
  l_all,
  v_get,  // Value
  v_set,
  q_put,  // item, wait -> (Full)
  q_get,  // wait -> item (Empty)
  q_qsize,
  q_empty,
  q_full,
  q_task_done,
  q_join,
  acquire,  // wait -> acquired (Lock, RLock, Semaphore, Condition)
  release,  // (Semaphore: count)
  locked,
  sem_value,
  e_set,
  e_clear,
  e_is_set,
  e_wait,  // wait -> flag
  c_wait,  // wait -> notified
  c_notify,
  b_wait,  // wait -> index
  b_abort,
  b_reset,
  b_parties,
  b_n_waiting,
  b_broken,
  call_method,  // method name, arguments -> result (user types)
  ping,         // nothing: proves the connection and the authkey
};

// `wait` fields: how long a blocking operation may block.
inline constexpr std::uint64_t kWaitForever = ~std::uint64_t{0};

// Status of a reply; not ok: the payload is a message, or exception bytes.
enum class ManagerStatus : std::uint8_t {
  ok = 0,
  key_error,
  index_error,
  value_error,
  error,
  exception,
};

// A request body: the operation, the object id, then numbers and length-prefixed blobs.
class ManagerWriter {
 public:
  ManagerWriter(ManagerOp op, std::uint32_t object) {
    buf_.push_back(static_cast<char>(op));
    number(object);
  }
  ManagerWriter& blob(std::string_view b) {
    number(b.size());
    buf_.append(b);
    return *this;
  }
  ManagerWriter& number(std::uint64_t n) {
    buf_.append(reinterpret_cast<const char*>(&n), sizeof n);
    return *this;
  }
  const std::string& bytes() const noexcept { return buf_; }

 private:
  std::string buf_;
};

class ManagerReader {
 public:
  // Reads `bytes`, which must outlive the reader (not a temporary of another statement).
  explicit ManagerReader(std::string_view bytes) : rest_(bytes) {}
  std::uint64_t number();   // ValueError if truncated
  std::string_view blob();  // ValueError if truncated
  bool done() const noexcept { return rest_.empty(); }

 private:
  std::string_view rest_;
};

}  // namespace pyconc::detail
