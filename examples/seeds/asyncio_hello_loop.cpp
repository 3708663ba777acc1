// asyncio_hello_loop -- seed 004 "协程 coroutine" (and seed 002's "asyncio.run() replaces"):
// the event loop driven by hand -- get a loop, run_until_complete(hello()), close it.
//
// import asyncio
//
// async def hello():
//     print("Hello world!")
//     r = await asyncio.sleep(1)
//     print("Hello again!")
//
// # 获取EventLoop:
// loop = asyncio.get_event_loop()
// # 执行coroutine
// loop.run_until_complete(hello())
// loop.close()
//
// Seed 002 notes that since Python 3.7 asyncio.run(main()) replaces
//   loop = asyncio.get_event_loop()
//   try:
//       loop.run_until_complete(main())
//   finally:
//       loop.close()
//
// Differences: pyconc has no get_event_loop() (deprecated in Python since 3.10 outside a
// running loop): the loop is an aio::EventLoop object. aio::sleep() gives nothing back, so there
// is no `r` (Python's is None). The loop's destructor would close it; close() is called as in the
// seed. The program checks that hello() ran to its end, slept its second, and that the loop is
// closed. --quick: a second lasts 50 ms.
#include <pyconc/asyncio.hpp>

#include "print.hpp"
#include "seconds.hpp"

namespace aio = pyconc::asyncio;

aio::Task<> hello() {
  print("Hello world!");
  co_await aio::sleep(1 * second);
  print("Hello again!");
}

int main(int argc, char** argv) {
  use_quick_seconds(argc, argv);

  const Stopwatch time;
  // 获取EventLoop:
  aio::EventLoop loop;
  // 执行coroutine
  loop.run_until_complete(hello());
  loop.close();

  if (!printed_first({"Hello world!", "Hello again!"})) return 1;
  if (time.elapsed() < 1 * second || !loop.is_closed()) {
    print("FAIL: hello() must sleep its second inside run_until_complete, then the loop closes");
    return 1;
  }
  return 0;
}
