// Internal to src/multiprocessing: the "forkserver" start method's server and its client.
//
// The server is /proc/self/exe executed again with PYCONC_MP_FORKSERVER=<fd> (like a spawned
// worker, it stops after the program's static initialization): single-threaded, with no state
// of main(). It waits on one SOCK_SEQPACKET socket for requests -- each carries a pool worker's
// socket and claim-word memfd (SCM_RIGHTS) and its max-tasks -- forks, and the child runs the
// worker loop. It reaps its children (a signalfd for SIGCHLD) and reports each exit status,
// which the pools need for their messages ("killed by signal 9"). It ends when the socket
// closes, i.e. when the process that started it ends; workers die with it (PDEATHSIG).
//
// The client is one per process (the pools share the server), used by the pools' manager
// threads: a mutex serializes the requests, and whoever holds it reads the server's messages,
// keeping exit statuses for the pool that will ask.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <unordered_map>

namespace pyconc::detail {

inline constexpr const char* kForkServerEnv = "PYCONC_MP_FORKSERVER";

class ForkServerClient {
 public:
  static ForkServerClient& instance();

  // Forks a pool worker in the server (starting the server at first use); the worker gets
  // duplicates of `sock` and `claim_fd`. Returns its pid. OSError if the server cannot be
  // started or reached.
  pid_t spawn_worker(int sock, int claim_fd, int max_tasks);
  // The wait status of worker `pid`, which has exited (its pidfd said so); -1 when the server
  // is gone or did not report it within a few seconds.
  int wait_status(pid_t pid);

 private:
  ForkServerClient() = default;
  void start_locked();
  // Reads one message; false when the server is gone or silent past the deadline.
  bool read_message_locked(int timeout_ms);
  pid_t request_locked(int sock, int claim_fd, int max_tasks);
  // The server is gone: close our end and reap it; the next request starts a new one.
  void forget_server_locked();

  std::mutex mu_;
  int fd_ = -1;
  pid_t server_ = -1;
  pid_t last_spawned_ = 0;  // the reply to the request in progress (0: none yet)
  bool have_reply_ = false;
  std::unordered_map<pid_t, int> statuses_;
};

// In the server process: the request loop; never returns.
[[noreturn]] void run_fork_server(int fd);

}  // namespace pyconc::detail
