// The worker side of the task encoding (see call_runner.hpp): code ids resolved from DEFINE
// messages, and a task's call wrapped in its result message.
#include "pyconc/multiprocessing/detail/call_runner.hpp"

#include <chrono>
#include <cstring>
#include <exception>

#include "pyconc/errors.hpp"
#include "pyconc/multiprocessing/detail/remote_call.hpp"
#include "pyconc/multiprocessing/serialize.hpp"

namespace pyconc::detail {

bool CallRunner::define(std::string_view p) {
  if (p.size() < 12) return false;
  const auto id = get_raw<std::uint32_t>(p.data());
  CodeLocation loc;
  loc.offset = get_raw<std::uint64_t>(p.data() + 4);
  loc.object.assign(p.substr(12));
  if (code_.size() <= id) {
    code_.resize(id + 1, nullptr);
    errors_.resize(id + 1);
  }
  code_[id] = resolve_code(loc, errors_[id]);
  return true;
}

std::uint64_t CallRunner::task_seq(std::string_view p) {
  return get_raw<std::uint64_t>(p.data());
}
std::uint32_t CallRunner::task_epoch(std::string_view p) {
  return get_raw<std::uint32_t>(p.data() + 8);
}

void CallRunner::call(std::string_view p, std::string& out) {
  const auto invoker = get_raw<std::uint32_t>(p.data() + 12);
  const auto target = get_raw<std::uint32_t>(p.data() + 16);
  auto code = [this](std::uint32_t id) -> const void* {
    if (id >= code_.size() || code_[id] == nullptr) {
      throw RuntimeError("pyconc worker: unknown code id " + std::to_string(id) +
                         (id < errors_.size() ? ": " + errors_[id] : std::string()));
    }
    return code_[id];
  };
  const void* target_address = target == 0 ? nullptr : code(target);
  auto fn = reinterpret_cast<RemoteInvoker>(const_cast<void*>(code(invoker)));
  fn(target_address, p.substr(20), out);
}

bool CallRunner::run_task(std::string_view p, std::string& out) {
  if (!is_call(p)) return false;
  using Clock = std::chrono::steady_clock;
  const std::size_t start = out.size();
  put_raw(out, std::uint32_t{0});
  out.push_back(static_cast<char>(WireKind::result_ok));
  put_raw(out, task_seq(p));
  put_raw(out, std::uint64_t{0});  // run time, filled in below
  const auto t0 = Clock::now();
  try {
    call(p, out);
  } catch (...) {
    out.resize(start + kWirePrefix + 16);
    out[start + 4] = static_cast<char>(WireKind::result_error);
    try {
      out += multiprocessing::dumps_exception(std::current_exception());
    } catch (...) {  // could not even describe it (out of memory): a bare RuntimeError
      out += multiprocessing::dumps_exception(
          std::make_exception_ptr(RuntimeError("task failed; its exception was lost")));
    }
  }
  const auto ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
  std::memcpy(out.data() + start + kWirePrefix + 8, &ns, sizeof ns);
  finish_message(out, start);
  return true;
}

bool CallRunner::run_initializer(std::string_view p, std::string& failure) {
  std::string scratch;
  try {
    if (!is_call(p)) throw RuntimeError("pyconc worker: malformed initializer message");
    call(p, scratch);
    return true;
  } catch (...) {
    failure.clear();
    put_raw(failure, std::uint32_t{0});
    failure.push_back(static_cast<char>(WireKind::init_failed));
    failure += multiprocessing::dumps_exception(std::current_exception());
    finish_message(failure, 0);
    return false;
  }
}

std::uint32_t append_defines(std::string& out, std::uint32_t from) {
  const std::uint32_t count = code_count();
  for (; from < count; ++from) {
    const CodeLocation loc = code_location(from);
    const std::size_t start = out.size();
    put_raw(out, std::uint32_t{0});
    out.push_back(static_cast<char>(WireKind::define));
    put_raw(out, from);
    put_raw(out, loc.offset);
    out += loc.object;
    finish_message(out, start);
  }
  return count;
}

}  // namespace pyconc::detail
