// MPI's start-up for pyconc, and the idle backoff (see environment.hpp).
#include "environment.hpp"

#include <sched.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include "pyconc/errors.hpp"

namespace pyconc::detail {

namespace {

const char* level_name(int level) {
  switch (level) {
    case MPI_THREAD_SINGLE:
      return "MPI_THREAD_SINGLE";
    case MPI_THREAD_FUNNELED:
      return "MPI_THREAD_FUNNELED";
    case MPI_THREAD_SERIALIZED:
      return "MPI_THREAD_SERIALIZED";
    default:
      return "MPI_THREAD_MULTIPLE";
  }
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized == 0) MPI_Finalize();
}

std::mutex init_mu;

}  // namespace

void check_mpi(int rc, const char* who, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) len = 0;
  throw RuntimeError(std::string(who) + ": " + what + " failed: " + std::string(text, len));
}

void ensure_mpi(int* argc, char*** argv, const char* who) {
  std::lock_guard g(init_mu);
  std::lock_guard serial(mpi_mutex());
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized != 0) throw RuntimeError(std::string(who) + ": MPI is already finalized");
  int initialized = 0;
  MPI_Initialized(&initialized);
  int provided = MPI_THREAD_SINGLE;
  if (initialized == 0) {
    check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided), who,
              "MPI_Init_thread");
    std::atexit(finalize_at_exit);
  } else {
    MPI_Query_thread(&provided);
  }
  if (provided < MPI_THREAD_SERIALIZED) {
    throw RuntimeError(std::string(who) +
                       ": needs MPI_THREAD_SERIALIZED or MPI_THREAD_MULTIPLE (its manager thread "
                       "makes the MPI calls), MPI provides " +
                       level_name(provided));
  }
}

std::mutex& mpi_mutex() {
  static std::mutex* mu = new std::mutex;  // never destroyed: managers may outlive statics
  return *mu;
}

std::string this_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "?";
  return name;
}

std::chrono::microseconds Backoff::next() noexcept {
  const auto now = std::chrono::steady_clock::now();
  if (!idle_since_valid_) {
    idle_since_valid_ = true;
    idle_since_ = now;
  }
  if (now - idle_since_ < kSpin) {
    ::sched_yield();  // 2 cores, several ranks: let a rank with work run
    return std::chrono::microseconds(0);
  }
  const auto d = sleep_;
  sleep_ = sleep_ * 2 > cap_ ? cap_ : sleep_ * 2;
  return d;
}

void park_for(std::chrono::microseconds d) noexcept {
  static thread_local const bool slack_set = [] {
    ::prctl(PR_SET_TIMERSLACK, 1000UL);  // 1 us, this thread only
    return true;
  }();
  (void)slack_set;
  timespec ts{static_cast<time_t>(d.count() / 1000000),
              static_cast<long>(d.count() % 1000000) * 1000};
  while (::nanosleep(&ts, &ts) != 0) {
  }
}

}  // namespace pyconc::detail
