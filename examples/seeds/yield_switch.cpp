// yield_switch -- seed 003 "使用yield实现协程": two functions take turns through a generator.
//
// import time
// def func1():
//     for i in range(3):
//         print(f'北京：第{i}次打印啦')
//         yield  # 只要方法包含了yield，就变成一个生成器
//         time.sleep(1)
// def func2():
//     g = func1()    #func1是一个生成器，func1()就不会直接调用，需要通过next()
//     print(type(g))
//     for k in range(3):
//         print(f'上海：第{k}次打印了' )
//         next(g)   #继续执行func1的代码
//         time.sleep(1)
//
// if __name__ == '__main__':
//     #有了yield，我们实现了两个任务的切换+保存状态
//     start_time = time.time()
//     func2()
//     end_time = time.time()
//     print(f"耗时{end_time-start_time}")   #耗时5.0秒，效率差别不大
//
// Differences: the bare `yield` is `co_yield {}` in a pyconc::Generator<> (it yields nothing of
// interest); print(type(g)) prints the C++ type's name. As in Python, the switching saves no
// time: the sleeps still add up (the seed's lesson: yield alone does not overlap I/O).
#include <pyconc/generator.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "print.hpp"

using namespace std::chrono_literals;

std::chrono::milliseconds second = 1s;  // the seed's time.sleep(1)
std::vector<std::string> order;

pyconc::Generator<> func1() {
  for (int i = 0; i < 3; ++i) {
    print("北京：第" + std::to_string(i) + "次打印啦");
    order.push_back("北京" + std::to_string(i));
    co_yield {};  // 只要方法包含了yield，就变成一个生成器
    std::this_thread::sleep_for(second);
  }
}

void func2() {
  auto g = func1();  // func1是一个生成器，func1()就不会直接调用，需要通过next()
  print("<class 'pyconc::Generator<>'>");
  for (int k = 0; k < 3; ++k) {
    print("上海：第" + std::to_string(k) + "次打印了");
    order.push_back("上海" + std::to_string(k));
    pyconc::next(g);  // 继续执行func1的代码
    std::this_thread::sleep_for(second);
  }
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--quick") second = 10ms;
  // 有了yield，我们实现了两个任务的切换+保存状态
  const auto start_time = std::chrono::steady_clock::now();
  func2();
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start_time;
  print("耗时" + std::to_string(took.count()));  // 耗时5.0秒，效率差别不大

  const std::vector<std::string> expected{"上海0", "北京0", "上海1", "北京1", "上海2", "北京2"};
  if (order != expected || took < 5 * second) {
    print("FAIL: the two functions must alternate, and the sleeps still add up");
    return 1;
  }
  return 0;
}
