// asyncio_worker_tasks -- seed 004 "协程运行时": the worker sample with asyncio.create_task();
// both workers run while main() awaits the first.
//
// import asyncio
//
// async def worker_1():
//     print('worker_1 start')
//     await asyncio.sleep(1)
//     print('worker_1 done')
//
// async def worker_2():
//     print('worker_2 start')
//     await asyncio.sleep(2)
//     print('worker_2 done')
//
// async def main():
//     task1 = asyncio.create_task(worker_1())
//     task2 = asyncio.create_task(worker_2())
//     print('before await')
//     await task1
//     print('awaited worker_1')
//     await task2
//     print('awaited worker_2')
//
// # %time asyncio.run(main())
// await main()
//
// create_task() only schedules a worker: "before await" comes first, both workers start when
// main() first awaits, and the run takes 2 seconds instead of 1 + 2. The program checks the
// seed's order of lines (which is the proof that the workers overlap) and that the run took
// less than the two sleeps added up (as they measured them, so a slow machine cannot fail it).
// --quick: a second lasts 100 ms.
#include <pyconc/asyncio.hpp>

#include <chrono>

#include "print.hpp"
#include "seconds.hpp"

namespace aio = pyconc::asyncio;

std::chrono::steady_clock::duration slept{};  // both workers' sleeps, added up

aio::Task<> worker_1() {
  print("worker_1 start");
  const Stopwatch sleeping;
  co_await aio::sleep(1 * second);
  slept += sleeping.elapsed();
  print("worker_1 done");
}

aio::Task<> worker_2() {
  print("worker_2 start");
  const Stopwatch sleeping;
  co_await aio::sleep(2 * second);
  slept += sleeping.elapsed();
  print("worker_2 done");
}

aio::Task<> amain() {  // the seed's main()
  aio::Task<> task1 = aio::create_task(worker_1());
  aio::Task<> task2 = aio::create_task(worker_2());
  print("before await");
  co_await task1;
  print("awaited worker_1");
  co_await task2;
  print("awaited worker_2");
}

int main(int argc, char** argv) {
  use_quick_seconds(argc, argv,
                    std::chrono::milliseconds(100));  // the check's margin is one second

  const Stopwatch time;  // %time
  aio::run(amain());
  print("Wall time:", time.text(), "-- the sleeps added up:", seconds_text(slept));

  // The seed's order. Only "awaited worker_1" and "worker_2 done" may swap: if the machine stalls
  // past worker_2's wake-up time too, both workers wake in the same loop iteration and worker_2
  // runs before main() -- Python's loop does the same.
  const bool swapped = printed_lines.size() > 4 && printed_lines[4] == "worker_2 done";
  if (!printed_first({"before await", "worker_1 start", "worker_2 start", "worker_1 done",
                      swapped ? "worker_2 done" : "awaited worker_1",
                      swapped ? "awaited worker_1" : "worker_2 done", "awaited worker_2"})) {
    return 1;
  }
  if (time.elapsed() >= slept) {
    print("FAIL: the workers did not sleep at the same time");
    return 1;
  }
  return 0;
}
