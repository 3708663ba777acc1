// event_hotpot -- seed 003 "事件": friends around the hot pot wait for the host to say "eat!".
//
// import threading
// import time
//
// def chihuoguo(name):
//     #等待事件，进入等待阻塞状态
//     print(f'{name}已经启动')
//     print(f'小伙伴{name}已经进入就餐状态！')
//     time.sleep(1)
//     event.wait()
//     # 收到事件后进入运行状态
//     print(f'{name}收到通知了.' )
//     print(f'小伙伴{name}开始吃咯！')
//
// if __name__ == '__main__':
//     event = threading.Event()
//     # 创建新线程
//     thread1 = threading.Thread(target=chihuoguo, args=("malu", ))
//     thread2 = threading.Thread(target=chihuoguo, args=("ly", ))
//     # 开启线程
//     thread1.start()
//     thread2.start()
//
//     time.sleep(10)
//     # 发送事件通知
//     print('---->>>主线程通知小伙伴开吃咯！')
//     event.set()
#include <pyconc/threading.hpp>

#include <chrono>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "print.hpp"

using namespace std::chrono_literals;
namespace th = pyconc::threading;

std::chrono::milliseconds scale = 1s;  // the seed's time.sleep(1); main sleeps 10 * scale
th::Event event;
th::Lock order_lock;
std::vector<std::string> order;  // who did what, in order: "set", then the eaters

void record(const std::string& what) {
  std::lock_guard with(order_lock);
  order.push_back(what);
}

void chihuoguo(const std::string& name) {
  // 等待事件，进入等待阻塞状态
  print(name + "已经启动");
  print("小伙伴" + name + "已经进入就餐状态！");
  std::this_thread::sleep_for(scale);
  event.wait();
  // 收到事件后进入运行状态
  record(name);
  print(name + "收到通知了.");
  print("小伙伴" + name + "开始吃咯！");
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  if (quick) scale = 20ms;

  // 创建新线程
  th::Thread thread1(chihuoguo, "malu");
  th::Thread thread2(chihuoguo, "ly");
  // 开启线程
  thread1.start();
  thread2.start();

  std::this_thread::sleep_for(10 * scale);
  // 发送事件通知
  print("---->>>主线程通知小伙伴开吃咯！");
  record("set");
  event.set();

  thread1.join();
  thread2.join();
  if (order.size() != 3 || order[0] != "set") {
    print("FAIL: both friends must start eating only after the host's event.set()");
    return 1;
  }
  return 0;
}
