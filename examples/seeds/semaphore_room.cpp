// semaphore_room -- seed 003 "信号量": a room that lets at most 5 people in at a time.
//
// # 一个房子，依次只允许两个人进来
// # 若不使用信号量，会造成所有人都进入这个房子
// # 若只允许一人通过可以用锁-Lock()
// from threading import Semaphore,Thread
// from time import sleep
//
// def home(name,se):
//     se.acquire()
//     print(f"{name}进入房间")
//     sleep(3)
//     print(f"****{name}走出房间")
//     se.release()
//
// if __name__ == '__main__':
//     se = Semaphore(5)   #信号量对象
//     for i in range(7):
//         t = Thread(target=home,args=(f"tom{i}",se))
//         t.start()
//
// Python rebinds `t` and the threads run on. A pyconc Thread is joined by its destructor, so a
// Thread left to die at the end of the loop body would be waited for there -- one person in the
// room at a time. The threads are moved into a vector instead and joined at the end.
#include <pyconc/threading.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "print.hpp"

using namespace std::chrono_literals;
namespace th = pyconc::threading;

std::chrono::milliseconds stay = 3s;  // the seed's sleep(3)
std::atomic<int> inside{0};           // people in the room now
std::atomic<int> most_inside{0};      // the most seen at once

void home(const std::string& name, th::Semaphore& se) {
  se.acquire();
  const int now = ++inside;
  for (int m = most_inside; m < now && !most_inside.compare_exchange_weak(m, now);) {
  }
  print(name + "进入房间");
  std::this_thread::sleep_for(stay);
  print("****" + name + "走出房间");
  --inside;
  se.release();
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  if (quick) stay = 100ms;

  th::Semaphore se(5);  // 信号量对象
  std::vector<th::Thread> threads;
  for (int i = 0; i < 7; ++i) {
    th::Thread t(home, "tom" + std::to_string(i), std::ref(se));
    t.start();
    threads.push_back(std::move(t));  // keep it running: Python keeps the thread alive too
  }
  for (auto& t : threads) t.join();

  print("most people in the room at once:", most_inside.load());
  if (most_inside > 5) {
    print("FAIL: Semaphore(5) let more than 5 people in");
    return 1;
  }
  return 0;
}
