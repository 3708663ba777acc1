#include "pyconc/multiprocessing/detail/queue_core.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>

#include "pyconc/detail/futex.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/detail/shared_object.hpp"

namespace pyconc::detail {
namespace {

constexpr std::size_t kMinWindow = std::size_t{1} << 20;  // 1 MiB
// An empty queue whose window grew past this gives the memory back.
constexpr std::size_t kShrinkAbove = std::size_t{8} << 20;
constexpr std::size_t kMaxCapacity = std::size_t{1} << 30;  // 1 GiB: offsets fit 32 bits
constexpr std::size_t kFrameHeader = sizeof(std::uint64_t);

std::size_t round_up_pow2(std::size_t n) {
  std::size_t p = kMinWindow;
  while (p < n && p < kMaxCapacity) p <<= 1;
  return p;
}

}  // namespace

// The queue's lock, repairing the ring when it was taken from a holder that died.
class QueueCore::Guard {
 public:
  explicit Guard(QueueCore& q) : q_(q) { lock(); }
  ~Guard() {
    if (held_) q_.lock_.release();
  }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  void lock() {
    q_.lock_.acquire(true, nullptr);
    held_ = true;
    if (q_.lock_.owner_died()) q_.repair();
  }
  void unlock() {
    held_ = false;
    q_.lock_.release();
  }

 private:
  QueueCore& q_;
  bool held_ = false;
};

QueueCore::QueueCore(std::size_t capacity, std::size_t maxsize) noexcept
    : window_(std::min(kMinWindow, capacity)), capacity_(capacity), maxsize_(maxsize) {}

std::byte* QueueCore::ring() noexcept {
  return trailing_bytes(this);
}

bool QueueCore::fits(std::size_t need) const noexcept {
  return (maxsize_ == 0 || count_.load(std::memory_order_relaxed) < maxsize_) &&
         used() + need <= capacity_;
}

void QueueCore::ring_write(std::size_t pos, const void* src, std::size_t n) noexcept {
  const std::size_t off = pos & (window_ - 1);
  const std::size_t first = std::min(n, window_ - off);
  std::memcpy(ring() + off, src, first);
  std::memcpy(ring(), static_cast<const std::byte*>(src) + first, n - first);
}

void QueueCore::ring_read(std::size_t pos, void* dst, std::size_t n) noexcept {
  const std::size_t off = pos & (window_ - 1);
  const std::size_t first = std::min(n, window_ - off);
  std::memcpy(dst, ring() + off, first);
  std::memcpy(static_cast<std::byte*>(dst) + first, ring(), n - first);
}

// Doubles the window until `need` more bytes fit. Frames that wrapped around the end of the old
// window are copied past it, so the data stays contiguous from head() (amortised O(1) a byte).
void QueueCore::grow(std::size_t need) noexcept {
  while (used() + need > window_ && window_ < capacity_) {
    if (head() + used() > window_) {
      const std::size_t wrapped = head() + used() - window_;
      std::memcpy(ring() + window_, ring(), wrapped);
    }
    window_ *= 2;  // published only after the copy: a crash during it loses nothing
  }
}

void QueueCore::shrink_if_empty() noexcept {
  if (used() != 0) return;
  set_pos(0, 0);  // start again at the front: the pages there are the ones already in memory
  if (window_ > kShrinkAbove) {
    ::madvise(ring() + kMinWindow, window_ - kMinWindow, MADV_REMOVE);
    window_ = kMinWindow;
  }
}

void QueueCore::repair() noexcept {
  // A holder died. Frames are complete up to used() (bytes are written before it moves);
  // count them again, and drop a frame whose length runs past used() (never expected).
  const std::size_t used_bytes = used();
  std::size_t pos = 0;
  std::size_t n = 0;
  while (pos + kFrameHeader <= used_bytes) {
    std::uint64_t len = 0;
    ring_read(head() + pos, &len, kFrameHeader);
    if (pos + kFrameHeader + len > used_bytes) break;
    pos += kFrameHeader + len;
    ++n;
  }
  set_pos(head(), pos);
  count_.store(n, std::memory_order_relaxed);
}

void QueueCore::wait_on(Guard& g, std::atomic<std::uint32_t>& seq, std::uint32_t& waiting,
                        const Clock::time_point* deadline) {
  const std::uint32_t seen = seq.load(std::memory_order_relaxed);
  ++waiting;
  g.unlock();
  futex_wait(seq, seen, deadline, /*shared=*/true);
  g.lock();
  --waiting;
}

bool QueueCore::put(std::string_view item, bool block, const Clock::time_point* deadline) {
  const std::size_t need = kFrameHeader + item.size();
  if (need > capacity_) {
    throw ValueError("item of " + std::to_string(item.size()) +
                     " bytes does not fit the queue (capacity " + std::to_string(capacity_) +
                     " bytes; see QueueOptions::capacity_bytes)");
  }
  Guard g(*this);
  while (!fits(need)) {
    if (!block || (deadline != nullptr && Clock::now() >= *deadline)) return false;
    wait_on(g, not_full_, putters_waiting_, deadline);
  }
  grow(need);
  const std::uint64_t len = item.size();
  const std::size_t tail = head() + used();
  ring_write(tail, &len, kFrameHeader);
  ring_write(tail + kFrameHeader, item.data(), item.size());
  set_pos(head(), used() + need);  // the frame exists from here on
  count_.fetch_add(1, std::memory_order_relaxed);
  ++unfinished_;
  const bool wake = getters_waiting_ > 0;
  if (wake) not_empty_.fetch_add(1, std::memory_order_relaxed);
  g.unlock();
  if (wake) futex_wake(not_empty_, 1, /*shared=*/true);
  return true;
}

bool QueueCore::get(std::string& out, bool block, const Clock::time_point* deadline) {
  Guard g(*this);
  while (count_.load(std::memory_order_relaxed) == 0) {
    if (!block || (deadline != nullptr && Clock::now() >= *deadline)) return false;
    wait_on(g, not_empty_, getters_waiting_, deadline);
  }
  std::uint64_t len = 0;
  ring_read(head(), &len, kFrameHeader);
  out.resize(static_cast<std::size_t>(len));
  ring_read(head() + kFrameHeader, out.data(), out.size());
  const std::size_t frame = kFrameHeader + out.size();
  set_pos((head() + frame) & (window_ - 1), used() - frame);
  count_.fetch_sub(1, std::memory_order_relaxed);
  shrink_if_empty();
  const bool wake = putters_waiting_ > 0;
  if (wake) not_full_.fetch_add(1, std::memory_order_relaxed);
  g.unlock();
  // Putters may wait for different amounts of room: wake them all to re-check (rare: only
  // when the queue is at its bound).
  if (wake) futex_wake_all(not_full_, /*shared=*/true);
  return true;
}

void QueueCore::task_done() {
  Guard g(*this);
  if (unfinished_ == 0) throw ValueError("task_done() called too many times");
  const bool all = --unfinished_ == 0 && joiners_waiting_ > 0;
  if (all) all_done_.fetch_add(1, std::memory_order_relaxed);
  g.unlock();
  if (all) futex_wake_all(all_done_, /*shared=*/true);
}

bool QueueCore::join(const Clock::time_point* deadline) {
  Guard g(*this);
  while (unfinished_ > 0) {
    if (deadline != nullptr && Clock::now() >= *deadline) return false;
    wait_on(g, all_done_, joiners_waiting_, deadline);
  }
  return true;
}

std::shared_ptr<QueueCore> make_queue_core(std::size_t maxsize, std::size_t capacity) {
  capacity = round_up_pow2(std::max(capacity, kMinWindow));
  const std::size_t header = shared_trailer_offset(sizeof(QueueCore));
  for (;;) {
    // MAP_NORESERVE: reserve address space only; pages are allocated when first written.
    void* mem = ::mmap(nullptr, header + capacity, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
      if (errno == ENOMEM && capacity > kMinWindow) {
        capacity /= 2;
        continue;
      }
      raise_os_error(errno, "mmap(queue of " + std::to_string(capacity) + " bytes)");
    }
    auto* core = ::new (mem) QueueCore(capacity, maxsize);
    const std::size_t bytes = header + capacity;
    return std::shared_ptr<QueueCore>(core, [bytes](QueueCore* p) { ::munmap(p, bytes); });
  }
}

}  // namespace pyconc::detail
