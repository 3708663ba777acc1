// asyncio_func1_func2 -- seed 003 "asyncio实现协程(重点)": func1 prints 北京 and func2 prints 上海,
// three times each with a one-second sleep; gather() runs them together in 3 s instead of 6.
//
// import asyncio
// import time
//
// async def func1():     #async表示方法是异步的
//     for i in range(3):
//         print(f'北京：第{i}次打印啦')
//         await asyncio.sleep(1)
//     return "func1执行完毕"
// async def func2():
//     for k in range(3):
//         print(f'上海：第{k}次打印了' )
//         await asyncio.sleep(1)
//     return "func2执行完毕"
// async def main():
//    res = await asyncio.gather(func1(), func2())
//    #await异步执行func1方法
//    #返回值为函数的返回值列表
//    print(res)
//
// if __name__ == '__main__':
//    start_time = time.time()
//    asyncio.run(main())
//    end_time = time.time()
//    print(f"耗时{end_time-start_time}")   #耗时3秒,效率极大提高
//
// (The seed's version without asyncio -- time.sleep and plain calls -- takes 6 seconds.)
// gather() of two coroutines returns a std::tuple; `res` is printed as Python prints the list.
// The program checks that the two functions take turns (北京 0, 上海 0, 北京 1, ...), that res
// holds both return values in argument order, and that the run took well under the sleeps
// added up (as the sleeps measured them, so a slow machine cannot fail it).
// --quick: a second lasts 50 ms.
#include <pyconc/asyncio.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "print.hpp"
#include "seconds.hpp"

namespace aio = pyconc::asyncio;

std::chrono::steady_clock::duration slept{};  // every sleep of func1 and func2, added up

aio::Task<std::string> func1() {  // async表示方法是异步的
  for (int i = 0; i < 3; ++i) {
    print("北京：第" + std::to_string(i) + "次打印啦");
    const Stopwatch sleeping;
    co_await aio::sleep(1 * second);
    slept += sleeping.elapsed();
  }
  co_return "func1执行完毕";
}

aio::Task<std::string> func2() {
  for (int k = 0; k < 3; ++k) {
    print("上海：第" + std::to_string(k) + "次打印了");
    const Stopwatch sleeping;
    co_await aio::sleep(1 * second);
    slept += sleeping.elapsed();
  }
  co_return "func2执行完毕";
}

aio::Task<> amain() {  // the seed's main()
  auto res = co_await aio::gather(func1(), func2());
  // await异步执行func1方法
  // 返回值为函数的返回值列表
  const auto& [r1, r2] = res;
  print("['" + r1 + "', '" + r2 + "']");  // print(res)
}

int main(int argc, char** argv) {
  use_quick_seconds(argc, argv);

  const Stopwatch start_time;
  aio::run(amain());
  print("耗时" + start_time.text(), "-- the sleeps added up:", seconds_text(slept));  // 耗时3秒

  if (!printed_first({"北京：第0次打印啦", "上海：第0次打印了", "北京：第1次打印啦",
                      "上海：第1次打印了", "北京：第2次打印啦", "上海：第2次打印了",
                      "['func1执行完毕', 'func2执行完毕']"})) {
    return 1;
  }
  // Together: 3 of the 6 seconds; allow up to 4.5 for a loaded machine.
  if (start_time.elapsed() > 0.75 * slept) {
    print("FAIL: func1 and func2 did not sleep at the same time");
    return 1;
  }
  return 0;
}
