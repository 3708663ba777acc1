// pyconc/futures.hpp -- Python's `concurrent.futures`.
//
//   namespace cf = pyconc::futures;
//   cf::ThreadPoolExecutor pool;                       // min(32, cpu_count() + 4) workers
//   pyconc::Future<bool> f = pool.submit(is_prime, 112272535095293LL);
//   for (bool r : pool.map(is_prime, primes)) { ... }
//   for (auto& g : cf::as_completed(fs)) g.result();
//   auto [done, not_done] = cf::wait(fs, cf::FIRST_COMPLETED);
//
// cf::Future is pyconc::Future: one future type for every executor.
#pragma once

#include "pyconc/future.hpp"
#include "pyconc/futures/exceptions.hpp"
#include "pyconc/futures/executor.hpp"
#include "pyconc/futures/thread_pool_executor.hpp"
#include "pyconc/futures/wait.hpp"

namespace pyconc::futures {
using pyconc::Future;
}  // namespace pyconc::futures
