// asyncio_worker_cancel -- seed 004 "限定协程任务运行时间": cancel a task that runs too long and
// collect every worker's result or exception with gather(..., return_exceptions=True).
//
// import asyncio
//
// async def worker_1():
//     await asyncio.sleep(1)
//     return 1
//
// async def worker_2():
//     await asyncio.sleep(2)
//     return 2 / 0
//
// async def worker_3():
//     await asyncio.sleep(3)
//     return 3
//
// async def main():
//     task_1 = asyncio.create_task(worker_1())
//     task_2 = asyncio.create_task(worker_2())
//     task_3 = asyncio.create_task(worker_3())
//
//     await asyncio.sleep(2)
//     task_3.cancel()
//
//     res = await asyncio.gather(task_1, task_2, task_3, return_exceptions=True)
//     print(res)
//
// # %time asyncio.run(main())
// await main()
//
// Output: [1, ZeroDivisionError('division by zero'), CancelledError()]  (Wall time: 2 s)
//
// Differences: C++ integer division by zero is undefined behaviour, not an exception; divide()
// raises a ZeroDivisionError declared here as Python does for 2 / 0. gather's keyword comes
// first in the tuple form: aio::gather(aio::return_exceptions, task_1, task_2, task_3); each
// element is an aio::Outcome<int> (a value or an exception), printed as Python prints the list.
// The program checks those three outcomes and that worker_3 never woke up from its sleep.
// --quick: a second lasts 50 ms.
#include <pyconc/asyncio.hpp>

#include <exception>
#include <string>

#include "print.hpp"
#include "seconds.hpp"

namespace aio = pyconc::asyncio;

// Python's ZeroDivisionError (an ArithmeticError, not a ValueError).
class ZeroDivisionError : public pyconc::Error {
 public:
  using pyconc::Error::Error;
};

int divide(int a, int b) {  // Python's a / b, for ints
  if (b == 0) throw ZeroDivisionError("division by zero");
  return a / b;
}

bool worker_3_woke = false;

aio::Task<int> worker_1() {
  co_await aio::sleep(1 * second);
  co_return 1;
}

aio::Task<int> worker_2() {
  co_await aio::sleep(2 * second);
  co_return divide(2, 0);
}

aio::Task<int> worker_3() {
  co_await aio::sleep(3 * second);
  worker_3_woke = true;
  co_return 3;
}

// repr() of one element of gather's result list.
std::string repr(aio::Outcome<int>& o) {
  if (o.has_value()) return std::to_string(o.value());
  try {
    std::rethrow_exception(o.exception());
  } catch (const ZeroDivisionError& e) {
    return "ZeroDivisionError('" + std::string(e.what()) + "')";
  } catch (const pyconc::CancelledError&) {
    return "CancelledError()";
  } catch (const std::exception& e) {
    return "Exception('" + std::string(e.what()) + "')";
  }
}

aio::Task<> amain() {  // the seed's main()
  aio::Task<int> task_1 = aio::create_task(worker_1());
  aio::Task<int> task_2 = aio::create_task(worker_2());
  aio::Task<int> task_3 = aio::create_task(worker_3());

  co_await aio::sleep(2 * second);
  task_3.cancel();

  auto [r1, r2, r3] = co_await aio::gather(aio::return_exceptions, task_1, task_2, task_3);
  print("[" + repr(r1) + ", " + repr(r2) + ", " + repr(r3) + "]");  // print(res)
}

int main(int argc, char** argv) {
  use_quick_seconds(argc, argv);

  const Stopwatch time;  // %time
  aio::run(amain());
  print("Wall time:", time.text());

  if (!printed_first({"[1, ZeroDivisionError('division by zero'), CancelledError()]"})) return 1;
  if (worker_3_woke) {
    print("FAIL: task_3 was cancelled during its sleep; it must never wake up");
    return 1;
  }
  return 0;
}
