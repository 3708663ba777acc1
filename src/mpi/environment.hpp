// Internal to src/mpi: MPI's start-up and shut-down for pyconc, the message tags of the
// executor protocol, and the idle backoff shared by the root's manager and the worker ranks.
#pragma once

#include <mpi.h>

#include <chrono>
#include <mutex>
#include <string>

namespace pyconc::detail {

// Tags on an executor's own communicator (a duplicate of MPI_COMM_WORLD, or the spawned pool's
// intercommunicator): the root sends batches of task-encoding messages (remote_call.hpp:
// define, init, task, exit) with kTagTasks; a worker answers with batches of result messages
// (kTagResults), after a first kTagHello message carrying "pid hostname", and ends with an
// empty kTagBye message once it has read the exit message. MPI does not let one sender's
// messages overtake each other, so when the root has read every bye, nothing is left in flight
// on the communicator -- a message left unread there could match a later communicator that
// reuses the freed one's context id.
inline constexpr int kTagTasks = 1;
inline constexpr int kTagResults = 2;
inline constexpr int kTagHello = 3;
inline constexpr int kTagBye = 4;

// Initializes MPI at MPI_THREAD_SERIALIZED unless it is initialized already (then checks that
// the level is at least SERIALIZED), and finalizes it at exit if it initialized it.
// RuntimeError when MPI is finalized or gives a lower thread level.
void ensure_mpi(int* argc, char*** argv, const char* who);

// Throws RuntimeError("<who>: <what> failed: <MPI's error string>") unless rc is MPI_SUCCESS.
void check_mpi(int rc, const char* who, const char* what);

std::string this_host();

// Held around every MPI call a thread of the root makes (the managers of several executors,
// constructors): MPI_THREAD_SERIALIZED's promise that no two calls overlap.
std::mutex& mpi_mutex();

// Waiting for MPI messages without burning a core: MPI has no descriptor to block on, and its
// blocking calls busy-poll. Poll for `spin` after the last activity (a reply in flight comes
// back within microseconds), then sleep between polls, doubling from 10 us up to `cap`. The
// first message after a long idle period costs up to `cap` of latency.
class Backoff {
 public:
  explicit Backoff(std::chrono::microseconds cap) : cap_(cap) {}
  // Something happened: poll hard again.
  void reset() noexcept {
    idle_since_valid_ = false;
    sleep_ = std::chrono::microseconds(10);
  }
  // Nothing happened: how long to wait before the next poll (zero while spinning).
  std::chrono::microseconds next() noexcept;

 private:
  static constexpr std::chrono::microseconds kSpin{200};
  std::chrono::microseconds cap_;
  std::chrono::microseconds sleep_{10};
  std::chrono::steady_clock::time_point idle_since_{};
  bool idle_since_valid_ = false;
};

// Sleeps `d` with a 1 us timer slack (the default 50 us slack would round short sleeps up).
void park_for(std::chrono::microseconds d) noexcept;

}  // namespace pyconc::detail
