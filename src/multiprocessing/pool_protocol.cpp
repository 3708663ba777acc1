// The process pool's side of the worker protocol (members of ProcessPoolImpl, see
// process_pool_impl.hpp; the wire format is in multiprocessing/detail/remote_call.hpp): code
// definitions sent ahead of the tasks that need them, and the messages read back from a worker
// -- results, errors, "retiring" and initializer failures -- which complete the tasks' futures.
// Also the two error helpers the task templates call (report_callback_error,
// throw_result_encoding).
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "process_pool_impl.hpp"
#include "pyconc/detail/exception_info.hpp"
#include "pyconc/multiprocessing/detail/call_runner.hpp"
#include "pyconc/multiprocessing/exceptions.hpp"
#include "pyconc/multiprocessing/serialize.hpp"

namespace pyconc::detail {

// The pool's view of a task, drawn in the parent's lane for worker `w`: from when the worker
// could start it (sent, or its previous result came back) to its result's arrival. The worker
// process draws its own span of the run itself (pool_worker.cpp).
void ProcessPoolImpl::trace_result(ProcWorker& w, const RemoteTaskBase& t, std::int64_t run_ns) {
  const std::int64_t now = trace_now_ns();
  TraceArgs a;
  a.k1 = "queued_ns";  // in the pool's queue, before it was sent
  a.v1 = t.sent_ns - t.submit_ns;
  a.k2 = "run_ns";  // measured by the worker
  a.v2 = run_ns;
  a.k3 = "worker_pid";
  a.v3 = w.pid;
  trace_complete("ProcessPool", "task", std::max(t.sent_ns, w.last_done_ns), now, std::move(a),
                 static_cast<int>(w.pid));
  w.last_done_ns = now;
}

void report_callback_error(const char* what, std::exception_ptr e) noexcept {
  const ExceptionInfo info = describe_exception(e);
  std::fprintf(stderr, "pyconc: exception in a process pool %s: %s: %s\n", what, info.type.c_str(),
               info.message.c_str());
}

void throw_result_encoding(const std::exception_ptr& cause, const char* type_name) {
  const ExceptionInfo info = describe_exception(cause);
  throw multiprocessing::MaybeEncodingError("Error sending result of type " + demangle(type_name) +
                                            ". Reason: " + info.type + ": " + info.message);
}

void ProcessPoolImpl::append_defines_locked(ProcWorker& w) {
  w.defined = append_defines(w.out, w.defined);
}

bool ProcessPoolImpl::read_results(ProcWorker& w) {
  if (w.read_closed) return false;
  bool got = false;
  for (int round = 0; round < 8; ++round) {
    const ssize_t n = ::recv(w.fd, rbuf_.get(), kReadChunk, MSG_DONTWAIT);
    if (n > 0) {
      w.in.append(rbuf_.get(), static_cast<std::size_t>(n));
      got = true;
      if (static_cast<std::size_t>(n) < kReadChunk) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    // End of stream (or reset): the worker is exiting; its pidfd reports the rest.
    w.read_closed = true;
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, w.fd, nullptr);
    break;
  }
  if (got) process_messages(w);
  return got;
}

void ProcessPoolImpl::process_messages(ProcWorker& w) {
  std::vector<Done> done;
  std::vector<RemoteTaskBase*> failed;
  std::string broken;
  std::size_t pos = 0;
  {
    std::lock_guard g(mu_);
    for (;;) {
      const std::size_t avail = w.in.size() - pos;
      if (avail < kWirePrefix) break;
      const auto body = get_raw<std::uint32_t>(w.in.data() + pos);
      if (body == 0) {
        broken = protocol_error(w);
        break;
      }
      if (avail < 4 + static_cast<std::size_t>(body)) break;
      const char* msg = w.in.data() + pos;
      pos += 4 + static_cast<std::size_t>(body);
      const auto kind = static_cast<WireKind>(msg[4]);
      const std::string_view payload(msg + kWirePrefix, body - 1);
      if (kind == WireKind::retiring) {
        w.retiring = true;
        continue;
      }
      if (kind == WireKind::init_failed) {
        w.init_error = describe_remote(payload);
        continue;
      }
      if ((kind != WireKind::result_ok && kind != WireKind::result_error) || payload.size() < 16) {
        broken = protocol_error(w);
        break;
      }
      if (state_ == State::terminated || state_ == State::broken) continue;  // already failed
      const auto seq = get_raw<std::uint64_t>(payload.data());
      const auto ns = get_raw<std::uint64_t>(payload.data() + 8);
      if (w.in_flight.empty() || w.in_flight.front()->seq != seq) {
        broken = protocol_error(w);
        break;
      }
      done.push_back({w.in_flight.front(), kind == WireKind::result_ok, payload.substr(16)});
      if (tracing()) [[unlikely]]
        trace_result(w, *w.in_flight.front(), static_cast<std::int64_t>(ns));
      w.in_flight.pop_front();
      w.front_since = std::chrono::steady_clock::now();
      if (w.buffered > w.in_flight.size()) w.buffered = w.in_flight.size();
      avg_ns_ = avg_ns_ == 0 ? std::max<std::uint64_t>(ns, 1) : (avg_ns_ * 7 + ns) / 8 + 1;
    }
    if (!broken.empty()) failed = break_locked(broken);
  }
  for (const Done& d : done) {
    auto keep = std::move(d.task->pool_ref);
    std::string().swap(d.task->wire);  // the future may live on: keep only the result
    if (d.ok) {
      d.task->complete(d.payload);
    } else {
      d.task->fail(exception_from_bytes(d.payload));
    }
  }
  fail_all(failed, broken);
  w.in.erase(0, pos);
  bool wake = false;
  {
    std::lock_guard g(mu_);
    if (!done.empty()) wake = dispatch_locked();
    if (w.buffered > 0) wake |= send_locked(w);
  }
  (void)wake;  // we are the manager: update_interest() runs before the next wait
}

std::string ProcessPoolImpl::protocol_error(const ProcWorker& w) {
  return config_.name + " is broken: worker process " + std::to_string(w.pid) +
         " sent a malformed message";
}

std::string ProcessPoolImpl::describe_remote(std::string_view exception_bytes) {
  try {
    multiprocessing::rethrow_exception_bytes(exception_bytes);
  } catch (...) {  // every type, CancelledError (a BaseException, not a std::exception) too
    const ExceptionInfo info = describe_exception(std::current_exception());
    return info.message.empty() ? info.type : info.type + ": " + info.message;
  }
  return "unknown error";
}

}  // namespace pyconc::detail
