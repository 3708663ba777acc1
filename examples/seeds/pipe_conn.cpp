// pipe_conn -- seed 003 "Pipe实现进程通信": two processes greet each other over a Pipe.
//
// import multiprocessing
// from time import sleep
//
// def func1(conn1):
//    sub_info = "Hello!"
//    print(f"进程1--{multiprocessing.current_process().pid}发送数据：{sub_info}")
//    sleep(1)
//    conn1.send(sub_info)
//    print(f"来自进程2:{conn1.recv()}")
//    sleep(1)
// def func2(conn2):
//    sub_info = "你好!"
//    print(f"进程2--{multiprocessing.current_process().pid}发送数据：{sub_info}")
//    sleep(1)
//    conn2.send(sub_info)
//    print(f"来自进程1:{conn2.recv()}")
//    sleep(1)
//
// if __name__ == '__main__':
//    # 创建管道
//    conn1,conn2 = multiprocessing.Pipe()
//    # 创建子进程
//    process1 = multiprocessing.Process(target=func1,args=(conn1,))
//    process2 = multiprocessing.Process(target=func2,args=(conn2,))
//    # 启动子进程
//    process1.start()
//    process2.start()
//
// Checks: each process receives the other's greeting (a child exits with 1 if not); the
// program's exit joins them, as Python's does -- the check joins them first.
#include <pyconc/multiprocessing.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "print.hpp"

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;

std::chrono::milliseconds delay = 1s;

void func1(mp::Connection conn1) {
  const std::string sub_info = "Hello!";
  print("进程1--" + std::to_string(mp::current_process().pid()) + "发送数据：" + sub_info);
  std::this_thread::sleep_for(delay);
  conn1.send(sub_info);
  const auto got = conn1.recv<std::string>();
  print("来自进程2:" + got);
  std::this_thread::sleep_for(delay);
  if (got != "你好!") mp::exit(1);
}

void func2(mp::Connection conn2) {
  const std::string sub_info = "你好!";
  print("进程2--" + std::to_string(mp::current_process().pid()) + "发送数据：" + sub_info);
  std::this_thread::sleep_for(delay);
  conn2.send(sub_info);
  const auto got = conn2.recv<std::string>();
  print("来自进程1:" + got);
  std::this_thread::sleep_for(delay);
  if (got != "Hello!") mp::exit(1);
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--quick") delay = 20ms;
  // 创建管道
  auto [conn1, conn2] = mp::Pipe();
  // 创建子进程
  mp::Process process1(func1, conn1);
  mp::Process process2(func2, conn2);
  // 启动子进程
  process1.start();
  process2.start();

  process1.join();
  process2.join();
  if (process1.exitcode() != 0 || process2.exitcode() != 0) {
    print("FAIL: each process receives the other's greeting");
    return 1;
  }
  return 0;
}
