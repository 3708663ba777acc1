// process_fun1 -- seed 003 "进程的创建方式一" (方法包装): Process(target=fun1, args=("p1",)).
//
// import os
// from multiprocessing import Process
// from time import sleep
//
// def fun1(name):
//     print(f"当前进程ID:{os.getpid()}")
//     print(f"父进程ID：{os.getppid()}")
//     print(f"Process:{name},start")
//     sleep(3)
//     print(f"Process:{name},end")
//
// # windows上多进程实现的bug。如果不加main的限制，就会无限制的创建子进程，从而报错。
// if __name__ == '__main__':
//     print("当前进程ID:",os.getpid())
//     #创建进程
//     p1 = Process(target=fun1,args=("p1",))
//     p2 = Process(target=fun1, args=("p2",))
//     #启动进程
//     p1.start()
//     p2.start()
//
// Like the seed, main() never joins: as in Python, the program's exit waits for both (the
// Process objects may even be destroyed first -- the children keep running). The check runs
// over active_children(). (On Linux there is no __main__ trap: fork copies the process.)
// Checks: both children report our pid as their parent and reach "end"; they overlap in time.
#include <unistd.h>
#include <pyconc/multiprocessing.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "print.hpp"

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;

std::chrono::milliseconds delay = 3s;  // the seed's sleep(3)
mp::Value<int> ended(0);
mp::Value<int> right_parent(0);
mp::Value<int> running(0);
mp::Value<int> overlapped(0);

void fun1(const std::string& name) {
  print("当前进程ID:" + std::to_string(::getpid()));
  print("父进程ID：" + std::to_string(::getppid()));
  print("Process:" + name + ",start");
  {
    std::lock_guard g(running);
    if (::getppid() == mp::parent_process()->pid()) ++right_parent.value();
    if (++running.value() == 2) overlapped.value() = 1;
  }
  std::this_thread::sleep_for(delay);
  {
    std::lock_guard g(running);
    --running.value();
    ++ended.value();
  }
  print("Process:" + name + ",end");
}

int check() {
  for (auto& child : mp::active_children()) child.join();
  if (ended.value() != 2 || right_parent.value() != 2 || overlapped.value() != 1) {
    print("FAIL: p1 and p2 run at the same time, as children of this process, to the end");
    return 1;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--quick") delay = 100ms;
  print("当前进程ID:", ::getpid());
  {
    // 创建进程
    mp::Process p1(fun1, std::string("p1"));
    mp::Process p2(fun1, std::string("p2"));
    // 启动进程
    p1.start();
    p2.start();
  }
  return check();
}
