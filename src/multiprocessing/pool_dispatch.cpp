// The process pool's dispatch policy (members of ProcessPoolImpl, see process_pool_impl.hpp):
// which worker gets the next task (the fewest in flight, stalled workers last), the window of
// tasks per worker adapted to the tasks' run time, work stealing between workers by epochs,
// and handing a worker's buffered messages to its socket. Everything here runs under the pool
// lock. The reasoning is in process_pool.cpp's header comment ("Dispatch").
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

#include "process_pool_impl.hpp"

namespace pyconc::detail {

namespace {

constexpr std::uint64_t kQueuedWorkNs = 1'000'000;  // ~1 ms of queued work per worker
constexpr std::size_t kMinWindow = 2;
constexpr std::size_t kMaxWindow = 512;
constexpr std::size_t kMaxBufferedBytes = 8U << 20;  // per worker, unsent
// A worker's oldest task must have run this long (and 4x the average task) before idle
// workers take the tasks queued behind it.
constexpr std::chrono::nanoseconds kStealAfter = std::chrono::milliseconds(2);

}  // namespace

bool ProcessPoolImpl::revoke_locked(ProcWorker& w) {
  std::uint64_t word = w.claim->load(std::memory_order_seq_cst);
  const std::uint32_t epoch = (w.epoch + 1) & kEpochMask;
  while (!w.claim->compare_exchange_weak(word, claim_word(epoch, claim_seq(word)),
                                         std::memory_order_seq_cst)) {
  }
  w.epoch = epoch;
  const std::uint64_t claimed = claim_seq(word);
  std::size_t keep = 0;
  while (keep < w.in_flight.size() && w.in_flight[keep]->seq <= claimed) ++keep;
  const std::size_t taken = w.in_flight.size() - keep;
  if (taken == 0) return false;
  for (std::size_t i = w.in_flight.size(); i > keep; --i) pending_.push_front(w.in_flight[i - 1]);
  w.in_flight.resize(keep);
  w.buffered -= std::min(w.buffered, taken);
  w.sent -= static_cast<int>(taken);
  return true;
}

std::chrono::nanoseconds ProcessPoolImpl::steal_patience_locked() const {
  return std::max<std::chrono::nanoseconds>(kStealAfter, std::chrono::nanoseconds(4 * avg_ns_));
}

int ProcessPoolImpl::balance_locked() {
  if (!pending_.empty() || state_ == State::terminated || state_ == State::broken) return -1;
  const std::size_t window = window_locked();
  bool idle = false;
  for (auto& w : workers_) idle = idle || (w->in_flight.empty() && can_take_locked(*w, window));
  if (!idle) return -1;
  const auto now = std::chrono::steady_clock::now();
  const auto patience = steal_patience_locked();
  auto next = std::chrono::steady_clock::time_point::max();
  bool moved = false;
  for (auto& w : workers_) {
    if (w->in_flight.size() < 2 || w->killed || w->told_to_exit) continue;
    if (now - w->front_since >= patience) {
      moved = revoke_locked(*w) || moved;
    } else {
      next = std::min(next, w->front_since + patience);
    }
  }
  if (moved) dispatch_locked();
  if (next == std::chrono::steady_clock::time_point::max()) return -1;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(next - now).count());
}

std::size_t ProcessPoolImpl::window_locked() const {
  if (avg_ns_ == 0) return kMinWindow;
  return std::clamp<std::size_t>(static_cast<std::size_t>(kQueuedWorkNs / avg_ns_), kMinWindow,
                                 kMaxWindow);
}

bool ProcessPoolImpl::can_take_locked(const ProcWorker& w, std::size_t window) const {
  if (w.told_to_exit || w.killed || w.retiring) return false;
  if (config_.max_tasks_per_child > 0 && w.sent >= config_.max_tasks_per_child) return false;
  return w.in_flight.size() < window && w.out.size() - w.out_pos < kMaxBufferedBytes;
}

bool ProcessPoolImpl::dispatch_locked() {
  const std::size_t window = window_locked();
  const auto now = std::chrono::steady_clock::now();
  const auto patience = steal_patience_locked();
  // A worker whose oldest task has run longer than `patience` is stalled: others first.
  auto rank = [&](const ProcWorker& w) {
    const bool stalled = !w.in_flight.empty() && now - w.front_since >= patience;
    return std::pair(stalled, w.in_flight.size());
  };
  while (!pending_.empty()) {
    ProcWorker* best = nullptr;
    for (auto& w : workers_) {
      if (can_take_locked(*w, window) && (best == nullptr || rank(*w) < rank(*best))) {
        best = w.get();
      }
    }
    if (best == nullptr) break;
    RemoteTaskBase* t = pending_.front();
    pending_.pop_front();
    if (!t->started) {
      if (t->start() != FutureStatus::pending) {  // cancelled while queued
        auto drop = std::move(t->pool_ref);
        continue;
      }
      t->started = true;
    }
    if (t->max_code >= best->defined) append_defines_locked(*best);
    t->seq = best->next_seq++;
    std::memcpy(t->wire.data() + kTaskSeqOffset, &t->seq, sizeof t->seq);
    std::memcpy(t->wire.data() + kTaskEpochOffset, &best->epoch, sizeof best->epoch);
    best->out += t->wire;  // the wire is kept: the task may be taken back and sent again
    if (best->in_flight.empty()) best->front_since = std::chrono::steady_clock::now();
    best->in_flight.push_back(t);
    if (tracing()) [[unlikely]]
      t->sent_ns = trace_now_ns();
    ++best->buffered;
    ++best->sent;
  }
  bool wake = false;
  for (auto& w : workers_) {
    if (w->buffered > 0 && w->in_flight.size() == w->buffered) wake |= send_locked(*w);
  }
  return wake;
}

bool ProcessPoolImpl::send_locked(ProcWorker& w) {
  w.buffered = 0;
  while (w.out_pos < w.out.size()) {
    const ssize_t n = ::send(w.fd, w.out.data() + w.out_pos, w.out.size() - w.out_pos,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      w.out_pos += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const bool tell = !w.want_out;
      w.want_out = true;
      return tell;
    } else {  // the worker is gone: its pidfd will say so
      w.out.clear();
      w.out_pos = 0;
      return false;
    }
  }
  w.out.clear();
  w.out_pos = 0;
  w.want_out = false;
  return false;
}

}  // namespace pyconc::detail
