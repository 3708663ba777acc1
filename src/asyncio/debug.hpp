// Debug-mode and error reports of the asyncio layer (private to src/asyncio).
#pragma once

#include <chrono>
#include <coroutine>
#include <exception>
#include <string>

#include "pyconc/asyncio/detail/loop_core.hpp"

namespace pyconc::detail {

// PYCONC_DEBUG is set to something other than "" or "0".
bool debug_from_environment() noexcept;
// Debug mode: a step or callback that held the loop longer than the slow threshold.
void report_if_slow(LoopCore& loop, const std::string& who, std::chrono::nanoseconds took);
// Python: "Task exception was never retrieved".
void report_unretrieved(LoopCore* loop, const std::string& task, const std::exception_ptr& e);
// Python: "RuntimeWarning: coroutine '...' was never awaited" -- always: through the running
// loop's exception handler, else on stderr.
void report_never_awaited(const char* coroutine);

}  // namespace pyconc::detail
