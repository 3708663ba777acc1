// pyconc/multiprocessing/detail/call_runner.hpp -- the worker side of the task encoding
// (remote_call.hpp): the code table filled by DEFINE messages, and the run of a task or init
// message into its result message. Shared by the process pools' worker loop
// (src/multiprocessing/pool_worker.cpp) and pyconc::mpi's worker ranks, so that every
// transport runs the same messages the same way.
// Thread safety: one CallRunner per worker loop (one thread).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pyconc::detail {

class CallRunner {
 public:
  // A DEFINE message's payload (u32 id | u64 offset | object name): false if malformed. A
  // location that cannot be resolved is remembered; tasks naming it fail with RuntimeError.
  bool define(std::string_view payload);

  // Runs the task message payload `p` (u64 seq | u32 epoch | u32 invoker | u32 target | args)
  // and appends its result message (result_ok or result_error, with the run time) to `out`.
  // False (nothing appended) if `p` is too short to be a task.
  bool run_task(std::string_view p, std::string& out);

  // Runs an init message payload; its result is dropped. False if it threw: `failure` then
  // holds the complete init_failed message. A malformed payload is an init failure too.
  bool run_initializer(std::string_view p, std::string& failure);

  // The seq of a task payload (the caller checked its length with is_call()).
  static std::uint64_t task_seq(std::string_view p);
  static std::uint32_t task_epoch(std::string_view p);
  static bool is_call(std::string_view p) noexcept { return p.size() >= 20; }

 private:
  // Runs the call in `p`, appending its result bytes to `out`. Throws what the call throws.
  void call(std::string_view p, std::string& out);

  std::vector<const void*> code_;
  std::vector<std::string> errors_;
};

// Appends the DEFINE messages of code ids [from, code_count()) to `out`; returns code_count().
std::uint32_t append_defines(std::string& out, std::uint32_t from);

}  // namespace pyconc::detail
