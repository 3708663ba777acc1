// Helpers for the tests of the asyncio primitives: a run() bounded by a watchdog (a bug must
// fail the test, not hang it) and a way to let every other ready task run a step.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "pyconc/asyncio.hpp"

namespace aio = pyconc::asyncio;

namespace prim_test {

inline aio::Task<> watchdog(aio::Task<> guarded, std::chrono::seconds limit) {
  co_await aio::sleep(limit);
  ADD_FAILURE() << "the test's main task did not finish within " << limit.count()
                << " s: cancelling it";
  guarded.cancel();
}

inline aio::Task<> guarded_main(aio::Task<> main, std::chrono::seconds limit) {
  auto t = aio::create_task(std::move(main), "test-main");
  auto dog = aio::create_task(watchdog(t, limit), "watchdog");
  try {
    co_await t;
  } catch (...) {
    dog.cancel();
    throw;
  }
  dog.cancel();
}

// aio::run(main), failing (not hanging) if main is stuck for `limit`.
inline void run_bounded(aio::Task<> main, std::chrono::seconds limit = std::chrono::seconds(20)) {
  aio::run(guarded_main(std::move(main), limit));
}

// Lets every task that is ready now run one step (n rounds of sleep(0)).
inline aio::Task<> yield_n(int n = 1) {
  for (int i = 0; i < n; ++i) co_await aio::sleep(std::chrono::seconds(0));
}

// A coroutine that returns `v` after `yields` rounds of sleep(0).
inline aio::Task<int> value_after(int yields, int v) {
  co_await yield_n(yields);
  co_return v;
}

}  // namespace prim_test
