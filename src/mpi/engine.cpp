// The root side of the MPI executors: the manager thread (see engine.hpp for the scheme).
#include "engine.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <string_view>
#include <utility>

#include "environment.hpp"
#include "pyconc/detail/exception_info.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/mpi/detail/executor_core.hpp"
#include "pyconc/multiprocessing/detail/call_runner.hpp"
#include "pyconc/multiprocessing/detail/remote_call.hpp"
#include "pyconc/multiprocessing/serialize.hpp"

namespace pyconc::detail {

namespace {

constexpr auto kBusyCap = std::chrono::microseconds(200);

std::string describe_remote(std::string_view exception_bytes) {
  try {
    multiprocessing::rethrow_exception_bytes(exception_bytes);
  } catch (...) {  // every type, CancelledError (a BaseException, not a std::exception) too
    const ExceptionInfo info = describe_exception(std::current_exception());
    return info.message.empty() ? info.type : info.type + ": " + info.message;
  }
}

}  // namespace

MPIEngine::MPIEngine(MPI_Comm comm, std::vector<int> ranks, EngineConfig config)
    : comm_(comm), config_(std::move(config)) {
  // Errors towards a dead peer are returned, not fatal: the manager breaks the executor.
  {
    std::lock_guard serial(mpi_mutex());
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  }
  workers_.resize(ranks.size());
  for (std::size_t i = 0; i < ranks.size(); ++i) workers_[i].rank = ranks[i];
  manager_ = std::thread([this] { run(); });
}

MPIEngine::~MPIEngine() {
  shutdown(true, false);
  if (manager_.joinable()) manager_.join();
  for (Worker& w : workers_) {
    if (w.pidfd >= 0) ::close(w.pidfd);
  }
}

bool MPIEngine::broken() const noexcept {
  std::lock_guard g(mu_);
  return broken_;
}

void MPIEngine::check_submit_locked() const {
  if (broken_) throw BrokenExecutor(broken_message_);
  if (shutdown_) throw RuntimeError("cannot schedule new futures after shutdown");
}

void MPIEngine::submit(std::shared_ptr<RemoteTaskBase> task) {
  std::lock_guard g(mu_);
  check_submit_locked();
  pending_.push_back(std::move(task));
  wake_ = true;
  cv_.notify_one();
}

void MPIEngine::submit(std::vector<std::shared_ptr<RemoteTaskBase>>& tasks) {
  std::lock_guard g(mu_);
  check_submit_locked();
  for (auto& t : tasks) pending_.push_back(std::move(t));
  tasks.clear();
  wake_ = true;
  cv_.notify_one();
}

void MPIEngine::shutdown(bool wait, bool cancel_futures) {
  std::deque<TaskPtr> cancelled;
  {
    std::lock_guard g(mu_);
    shutdown_ = true;
    if (cancel_futures) cancelled.swap(pending_);
    wake_ = true;
    cv_.notify_one();
  }
  for (auto& t : cancelled) t->cancel_task();
  if (wait && manager_.joinable() && manager_.get_id() != std::this_thread::get_id()) {
    std::unique_lock lk(mu_);
    finished_cv_.wait(lk, [this] { return finished_; });
  }
}

MPIEngine::Worker* MPIEngine::worker_of(int rank) {
  for (Worker& w : workers_) {
    if (w.rank == rank) return &w;
  }
  return nullptr;
}

// --- the manager thread -------------------------------------------------------------------------

void MPIEngine::run() {
  if (!config_.initializer.empty()) {
    std::vector<TaskPtr> none;
    for (Worker& w : workers_) send_batch(w, none, true);
  }
  Backoff backoff(kBusyCap);
  for (;;) {
    bool progress = receive();
    progress |= test_sends();
    if (!died_ && !progress) progress = check_deaths();
    progress |= dispatch();
    if (done()) break;
    if (progress) {
      backoff.reset();
      continue;
    }
    bool busy = !sends_.empty();
    for (const Worker& w : workers_) busy |= !w.in_flight.empty() || !w.hello;
    if (!busy) {  // nothing to wait for but the user: sleep until submit/shutdown
      std::unique_lock lk(mu_);
      cv_.wait(lk, [this] { return wake_; });
      wake_ = false;
      backoff.reset();
    } else if (const auto d = backoff.next(); d.count() > 0) {
      std::unique_lock lk(mu_);
      cv_.wait_for(lk, d, [this] { return wake_; });
      wake_ = false;
    }
  }
  release();
  std::lock_guard g(mu_);
  finished_ = true;
  finished_cv_.notify_all();
}

bool MPIEngine::done() const {
  {
    std::lock_guard g(mu_);
    if (died_) return true;
    if (!broken_ && (!shutdown_ || !pending_.empty())) return false;
  }
  if (!sends_.empty()) return false;
  for (const Worker& w : workers_) {
    if (!w.in_flight.empty() || !w.hello) return false;
  }
  return true;
}

bool MPIEngine::receive() {
  bool got = false;
  for (int round = 0; round < 64 && !died_; ++round) {
    int flag = 0;
    MPI_Status status;
    {
      std::lock_guard serial(mpi_mutex());
      if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, &status) != MPI_SUCCESS ||
          flag == 0) {
        break;
      }
      int count = 0;
      MPI_Get_count(&status, MPI_BYTE, &count);
      rbuf_.resize(static_cast<std::size_t>(count));
      if (MPI_Recv(rbuf_.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, comm_,
                   MPI_STATUS_IGNORE) != MPI_SUCCESS) {
        break;
      }
    }  // futures complete (and their callbacks run) outside the MPI lock
    got = true;
    Worker* w = worker_of(status.MPI_SOURCE);
    if (w == nullptr) continue;  // not one of ours (cannot happen on our own communicator)
    if (status.MPI_TAG == kTagHello) {
      w->hello = true;
      const auto space = rbuf_.find(' ');
      w->pid = std::strtol(rbuf_.c_str(), nullptr, 10);
      if (space != std::string::npos) w->host = rbuf_.substr(space + 1);
      if (w->host == this_host() && w->pid > 0) {
        w->pidfd = static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(w->pid), 0));
      }
    } else if (status.MPI_TAG == kTagResults) {
      on_results(*w, rbuf_);
    } else if (status.MPI_TAG == kTagBye) {
      w->bye = true;
    }
  }
  return got;
}

void MPIEngine::on_results(Worker& w, std::string_view batch) {
  std::size_t pos = 0;
  while (batch.size() - pos >= kWirePrefix) {
    const auto body = get_raw<std::uint32_t>(batch.data() + pos);
    if (body == 0 || batch.size() - pos < 4 + static_cast<std::size_t>(body)) break;
    const auto kind = static_cast<WireKind>(batch[pos + 4]);
    const std::string_view payload = batch.substr(pos + kWirePrefix, body - 1);
    pos += 4 + static_cast<std::size_t>(body);
    if (kind == WireKind::init_failed) {
      break_all(config_.name + " is broken: the initializer failed on worker rank " +
                    std::to_string(w.rank) + ": " + describe_remote(payload),
                false);
      continue;  // the refusals of tasks sent meanwhile may follow in this batch
    }
    if ((kind != WireKind::result_ok && kind != WireKind::result_error) || payload.size() < 16 ||
        w.in_flight.empty() || w.in_flight.front()->seq != get_raw<std::uint64_t>(payload.data())) {
      break_all(config_.name + " is broken: worker rank " + std::to_string(w.rank) +
                    " sent a malformed message",
                true);  // no way to know what it still owes: stop talking to the workers
      return;
    }
    TaskPtr task = std::move(w.in_flight.front());
    w.in_flight.pop_front();
    if (broken()) continue;  // failed already
    if (kind == WireKind::result_ok) {
      task->complete(payload.substr(16));
    } else {
      task->fail(exception_from_bytes(payload.substr(16)));
    }
  }
}

bool MPIEngine::dispatch() {
  if (died_) return false;
  std::vector<std::pair<Worker*, std::vector<TaskPtr>>> batches;
  {
    std::lock_guard g(mu_);
    if (pending_.empty() || broken_) return false;
    std::vector<std::size_t> planned(workers_.size(), 0);
    while (!pending_.empty()) {
      // The worker with the fewest tasks in flight, if it has room for a refill.
      std::size_t best = workers_.size();
      for (std::size_t i = 0; i < workers_.size(); ++i) {
        const std::size_t load = workers_[i].in_flight.size() + planned[i];
        if (load >= kDepth / 2) continue;  // refilled when half its tasks are done
        if (best == workers_.size() || load < workers_[best].in_flight.size() + planned[best]) {
          best = i;
        }
      }
      if (best == workers_.size()) break;
      Worker& w = workers_[best];
      const std::size_t load = w.in_flight.size() + planned[best];
      // A fair share of what is queued, so that a few long tasks spread over the workers.
      const std::size_t share = (pending_.size() + workers_.size() - 1) / workers_.size();
      const std::size_t n = std::min(kDepth - load, std::max<std::size_t>(share, 1));
      auto it = std::find_if(batches.begin(), batches.end(),
                             [&](const auto& b) { return b.first == &w; });
      if (it == batches.end()) {
        batches.emplace_back(&w, std::vector<TaskPtr>{});
        it = batches.end() - 1;
      }
      for (std::size_t k = 0; k < n && !pending_.empty(); ++k) {
        it->second.push_back(std::move(pending_.front()));
        pending_.pop_front();
      }
      planned[best] += n;
    }
  }
  bool sent = false;
  for (auto& [w, tasks] : batches) {
    send_batch(*w, tasks, false);
    sent = true;
  }
  return sent;
}

void MPIEngine::send_batch(Worker& w, std::vector<TaskPtr>& tasks, bool with_init) {
  Send& s = sends_.emplace_back();
  w.defined = append_defines(s.buffer, w.defined);
  if (with_init) s.buffer += config_.initializer;
  bool any = with_init;
  for (TaskPtr& t : tasks) {
    if (t->start() != FutureStatus::pending) continue;  // cancelled while queued
    t->started = true;
    t->seq = ++w.seq;
    std::memcpy(t->wire.data() + kTaskSeqOffset, &t->seq, sizeof t->seq);
    s.buffer += t->wire;
    std::string().swap(t->wire);  // the future may live on: keep only the result
    w.in_flight.push_back(std::move(t));
    any = true;
  }
  if (!any) {
    sends_.pop_back();
    return;
  }
  int rc = MPI_SUCCESS;
  {
    std::lock_guard serial(mpi_mutex());
    rc = MPI_Isend(s.buffer.data(), static_cast<int>(s.buffer.size()), MPI_BYTE, w.rank, kTagTasks,
                   comm_, &s.request);
  }
  if (rc != MPI_SUCCESS) {
    sends_.pop_back();
    break_all(
        config_.name + " is broken: sending to worker rank " + std::to_string(w.rank) + " failed",
        true);
  }
}

bool MPIEngine::test_sends() {
  if (sends_.empty()) return false;
  std::lock_guard serial(mpi_mutex());
  bool any = false;
  for (auto it = sends_.begin(); it != sends_.end();) {
    int flag = 0;
    if (MPI_Test(&it->request, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS || flag != 0) {
      it = sends_.erase(it);
      any = true;
    } else {
      ++it;
    }
  }
  return any;
}

bool MPIEngine::check_deaths() {
  for (Worker& w : workers_) {
    if (w.pidfd < 0) continue;
    pollfd p{w.pidfd, POLLIN, 0};
    if (::poll(&p, 1, 0) == 1) {
      break_all(config_.name + " is broken: worker rank " + std::to_string(w.rank) + " (pid " +
                    std::to_string(w.pid) + " on " + w.host +
                    ") terminated abruptly while the future was running or pending",
                true);
      return true;
    }
  }
  return false;
}

void MPIEngine::break_all(const std::string& message, bool died) {
  std::deque<TaskPtr> queued;
  {
    std::lock_guard g(mu_);
    if (!broken_) {
      broken_ = true;
      broken_message_ = message;
    }
    queued.swap(pending_);
  }
  if (died) {
    died_ = true;
    // The requests towards dead peers never complete: drop them (and their buffers) unfreed.
    for (Send& s : sends_) s.buffer.clear();
    sends_.clear();
  }
  // Living workers still answer what they were sent (the futures are failed already): their
  // results are read and dropped before the communicator is released.
  const auto e = std::make_exception_ptr(BrokenExecutor(message));
  for (Worker& w : workers_) {
    for (TaskPtr& t : w.in_flight) t->fail(e);
    if (died) w.in_flight.clear();
  }
  for (TaskPtr& t : queued) t->fail(e);
}

void MPIEngine::release() {
  if (died_) return;  // the runtime took the workers down: nothing left to talk to
  std::string exit_msg;
  put_raw(exit_msg, std::uint32_t{1});
  exit_msg.push_back(static_cast<char>(WireKind::exit));
  {
    std::lock_guard serial(mpi_mutex());
    for (Worker& w : workers_) {
      MPI_Send(exit_msg.data(), static_cast<int>(exit_msg.size()), MPI_BYTE, w.rank, kTagTasks,
               comm_);
    }
  }
  // Read everything up to each worker's bye (late results of a broken executor are dropped).
  Backoff backoff(kBusyCap);
  for (;;) {
    if (receive()) {
      backoff.reset();
    } else if (!died_ && check_deaths()) {
      continue;
    }
    if (died_) return;
    if (std::all_of(workers_.begin(), workers_.end(), [](const Worker& w) { return w.bye; })) {
      break;
    }
    if (const auto d = backoff.next(); d.count() > 0) park_for(d);
  }
  std::lock_guard serial(mpi_mutex());
  if (config_.intercomm) {
    MPI_Comm_disconnect(&comm_);
  } else {
    MPI_Comm_free(&comm_);
  }
}

// --- MPIExecutorCore ----------------------------------------------------------------------------

MPIExecutorCore::MPIExecutorCore(std::unique_ptr<MPIEngine> engine) : engine_(std::move(engine)) {}
MPIExecutorCore::~MPIExecutorCore() = default;
void MPIExecutorCore::submit(std::shared_ptr<RemoteTaskBase> task) {
  engine_->submit(std::move(task));
}
void MPIExecutorCore::submit(std::vector<std::shared_ptr<RemoteTaskBase>>& tasks) {
  engine_->submit(tasks);
}
void MPIExecutorCore::shutdown(bool wait, bool cancel_futures) {
  engine_->shutdown(wait, cancel_futures);
}
int MPIExecutorCore::num_workers() const noexcept {
  return engine_->num_workers();
}
bool MPIExecutorCore::broken() const noexcept {
  return engine_->broken();
}

}  // namespace pyconc::detail
