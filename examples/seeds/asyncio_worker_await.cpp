// asyncio_worker_await -- seed 004 "协程运行时": main() awaits worker_1() and then worker_2();
// awaiting a coroutine runs it right there, so nothing overlaps.
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
//     print('before await')
//     await worker_1()
//     print('awaited worker_1')
//     await worker_2()
//     print('awaited worker_2')
//
// # %time asyncio.run(main())
// await main()
//
// The seed's output, which the program checks line by line, with at least 1 + 2 = 3 seconds
// spent (asyncio_worker_tasks is the create_task version). --quick: a second lasts 50 ms.
#include <pyconc/asyncio.hpp>

#include <string>
#include <vector>

#include "print.hpp"
#include "seconds.hpp"

namespace aio = pyconc::asyncio;

aio::Task<> worker_1() {
  print("worker_1 start");
  co_await aio::sleep(1 * second);
  print("worker_1 done");
}

aio::Task<> worker_2() {
  print("worker_2 start");
  co_await aio::sleep(2 * second);
  print("worker_2 done");
}

aio::Task<> amain() {  // the seed's main()
  print("before await");
  co_await worker_1();
  print("awaited worker_1");
  co_await worker_2();
  print("awaited worker_2");
}

int main(int argc, char** argv) {
  use_quick_seconds(argc, argv);

  const Stopwatch time;  // %time
  aio::run(amain());
  print("Wall time:", time.text());

  const std::vector<std::string> expected = {"before await",     "worker_1 start", "worker_1 done",
                                             "awaited worker_1", "worker_2 start", "worker_2 done",
                                             "awaited worker_2"};
  if (!printed_first(expected)) return 1;
  if (time.elapsed() < 3 * second) {
    print("FAIL: awaiting worker_1 and then worker_2 must take 1 + 2 seconds");
    return 1;
  }
  return 0;
}
