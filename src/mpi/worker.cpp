// A worker rank: the task messages of the process pools' encoding (remote_call.hpp), run by the
// same CallRunner as a process-pool worker, over MPI instead of a socket.
//
// Results go back in batches, as a pool worker's do: when the rank runs out of input (it is
// about to wait) or when the oldest unsent result is older than kResultLatency, so a burst of
// tiny tasks costs one message per batch while a slow task never holds back the results before
// it. Waiting is MPI_Iprobe with a backoff (environment.hpp): an idle rank sleeps, it does not
// spin in MPI's progress engine.
#include "worker.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include "environment.hpp"
#include "pyconc/detail/trace.hpp"
#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/detail/call_runner.hpp"
#include "pyconc/multiprocessing/detail/remote_call.hpp"
#include "pyconc/multiprocessing/serialize.hpp"

namespace pyconc::detail {

namespace {

constexpr auto kResultLatency = std::chrono::microseconds(100);
constexpr auto kIdleCap = std::chrono::microseconds(1000);

class RankWorker {
 public:
  RankWorker(MPI_Comm comm, int root) : comm_(comm), root_(root) {}

  void run() {
    const std::string hello = std::to_string(::getpid()) + " " + this_host();
    MPI_Send(hello.data(), static_cast<int>(hello.size()), MPI_BYTE, root_, kTagHello, comm_);
    Backoff backoff(kIdleCap);
    for (;;) {
      int flag = 0;
      MPI_Status status;
      MPI_Iprobe(root_, kTagTasks, comm_, &flag, &status);
      if (flag == 0) {
        flush();  // about to wait: everything computed so far goes out first
        if (const auto d = backoff.next(); d.count() > 0) park_for(d);
        continue;
      }
      backoff.reset();
      int count = 0;
      MPI_Get_count(&status, MPI_BYTE, &count);
      in_.resize(static_cast<std::size_t>(count));
      MPI_Recv(in_.data(), count, MPI_BYTE, root_, kTagTasks, comm_, MPI_STATUS_IGNORE);
      if (!handle_batch()) {
        flush();
        MPI_Send(nullptr, 0, MPI_BYTE, root_, kTagBye, comm_);  // the last message: see kTagBye
        return;
      }
    }
  }

 private:
  // A task, and with tracing its span in this rank's lane.
  bool run_traced(std::string_view payload) {
    if (!tracing()) [[likely]]
      return runner_.run_task(payload, out_);
    TraceSpan span("MPI", "task");
    span.args().k1 = "seq";
    span.args().v1 = static_cast<std::int64_t>(CallRunner::task_seq(payload));
    return runner_.run_task(payload, out_);
  }

  // False at the exit message (or a malformed batch: the root treats silence after that as
  // its own protocol error, which cannot happen between two copies of one binary).
  bool handle_batch() {
    std::size_t pos = 0;
    while (in_.size() - pos >= kWirePrefix) {
      const auto body = get_raw<std::uint32_t>(in_.data() + pos);
      if (body == 0 || in_.size() - pos < 4 + static_cast<std::size_t>(body)) return false;
      const auto kind = static_cast<WireKind>(in_[pos + 4]);
      const std::string_view payload(in_.data() + pos + kWirePrefix, body - 1);
      pos += 4 + static_cast<std::size_t>(body);
      switch (kind) {
        case WireKind::define:
          if (!runner_.define(payload)) return false;
          break;
        case WireKind::init:
          if (std::string failure; !runner_.run_initializer(payload, failure)) {
            out_ += failure;  // the root breaks the executor and sends no more tasks
            init_failed_ = true;
          }
          break;
        case WireKind::task:
          if (has_pending_ && std::chrono::steady_clock::now() - pending_since_ > kResultLatency) {
            flush();
          }
          if (init_failed_) {
            refuse(payload);  // never run user code without its initializer
          } else if (!run_traced(payload)) {
            return false;
          }
          if (!has_pending_) {
            has_pending_ = true;
            pending_since_ = std::chrono::steady_clock::now();
          }
          break;
        case WireKind::exit:
          return false;
        default:
          return false;
      }
    }
    return true;
  }

  // A task sent before the root heard of the initializer's failure: answered with an error.
  void refuse(std::string_view task) {
    if (!CallRunner::is_call(task)) return;
    const std::size_t start = out_.size();
    put_raw(out_, std::uint32_t{0});
    out_.push_back(static_cast<char>(WireKind::result_error));
    put_raw(out_, CallRunner::task_seq(task));
    put_raw(out_, std::uint64_t{0});
    out_ += multiprocessing::dumps_exception(
        std::make_exception_ptr(BrokenExecutor("the initializer failed on this worker rank")));
    finish_message(out_, start);
  }

  void flush() {
    if (out_.empty()) return;
    std::fflush(nullptr);  // a task's output comes before its result
    MPI_Send(out_.data(), static_cast<int>(out_.size()), MPI_BYTE, root_, kTagResults, comm_);
    out_.clear();
    has_pending_ = false;
  }

  MPI_Comm comm_;
  int root_;
  CallRunner runner_;
  std::string in_;
  std::string out_;
  bool has_pending_ = false;
  bool init_failed_ = false;
  std::chrono::steady_clock::time_point pending_since_{};
};

}  // namespace

void serve_tasks(MPI_Comm comm, int root) {
  if (tracing()) [[unlikely]] {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    trace_process_name("MPI worker rank " + std::to_string(rank) + " (" +
                       std::to_string(::getpid()) + ")");
  }
  RankWorker(comm, root).run();
  trace_flush();  // the spawned rank leaves with _exit: its trace part now
}

}  // namespace pyconc::detail
