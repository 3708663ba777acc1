// thread_basic -- seed 000 "Threading 多线程": start a thread and wait for it; and seed 004's
// named thread (current_thread() always returns the running thread's own Thread object).
//
// import threading #导入相关库
//
// # 写明相关函数
// def work(i):
//     print(f"Threading {i} is working")
//
// # 创建线程
// t= Thread(target=work,args=(1))
//
// # 启动线程
// t.start()
//
// # 等待线程结束
// t.join()
//
// # 新线程执行的代码:
// def loop1():
//     print('thread %s is running...' % threading.current_thread().name)
//     n = 0
//     while n < 5:
//         n = n + 1
//         # current_thread():永远返回当前线程的实例
//         print('thread %s >>> %s' % (threading.current_thread().name, n))
//         time.sleep(1)
//     print('thread %s ended.' % threading.current_thread().name)
//
// # 主线程实例的名字叫MainThread，子线程的名字在创建时指定，用LoopThread命名子线程
// print('thread %s is running...' % threading.current_thread().name)
// t = threading.Thread(target=loop1, name='LoopThread')
// t.start()
// t.join()
// print('thread %s ended.' % threading.current_thread().name)
#include <pyconc/threading.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include "print.hpp"

using namespace std::chrono_literals;
namespace th = pyconc::threading;

std::chrono::milliseconds delay = 1s;  // the seed's time.sleep(1)
std::atomic<int> worked{0};
std::atomic<int> loops_in_loop_thread{0};

// 写明相关函数
void work(int i) {
  print("Threading " + std::to_string(i) + " is working");
  worked += i;
}

// 新线程执行的代码:
void loop1() {
  print("thread " + th::current_thread().name() + " is running...");
  int n = 0;
  while (n < 5) {
    n = n + 1;
    // current_thread():永远返回当前线程的实例
    print("thread " + th::current_thread().name() + " >>> " + std::to_string(n));
    if (th::current_thread().name() == "LoopThread") ++loops_in_loop_thread;
    std::this_thread::sleep_for(delay);
  }
  print("thread " + th::current_thread().name() + " ended.");
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  if (quick) delay = 20ms;

  // 创建线程
  th::Thread t(work, 1);
  // 启动线程
  t.start();
  // 等待线程结束
  t.join();

  // 主线程实例的名字叫MainThread，子线程的名字在创建时指定，用LoopThread命名子线程
  print("thread " + th::current_thread().name() + " is running...");
  th::Thread t2({.name = "LoopThread"}, loop1);
  t2.start();
  t2.join();
  print("thread " + th::current_thread().name() + " ended.");

  if (worked != 1 || loops_in_loop_thread != 5 || th::current_thread().name() != "MainThread") {
    print("FAIL: work(1) must run once, loop1 five times in LoopThread, main is MainThread");
    return 1;
  }
  return 0;
}
