// process_queue -- seed 003 "Queue实现进程通信": MyProcess(name, mq) takes an item from the
// Queue and puts a new one back.
//
// from multiprocessing import Process, Queue
// from time import sleep
//
// class MyProcess(Process):
//     def __init__(self,name,mq):
//         Process.__init__(self)
//         self.name = name
//         self.mq = mq
//     def run(self):
//         print(f"Process:{self.name},start")
//         print(f"get Data:{self.mq.get()}")
//         sleep(2)
//         self.mq.put(f"new_data:{self.name}")
//         print(f"Process:{self.name},end")
//
// if __name__ == '__main__':
//     mq = Queue()
//     mq.put("1")
//     mq.put("2")
//     mq.put("3")
//
//     #进程列表
//     p_list = []
//
//     # 循环创建进程
//     for i in range(3):
//         p = MyProcess(f"p{i}",mq)
//         p.start()
//         p_list.append(p)
//
//     # 等待进程结束
//     for p in p_list:
//         p.join()
//
//     print(mq.get())
//     print(mq.get())
//     print(mq.get())
//
// Checks: the three processes took "1", "2", "3" (one each) and left new_data:p0..p2.
#include <pyconc/multiprocessing.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "print.hpp"

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;

std::chrono::milliseconds delay = 2s;

class MyProcess : public mp::Process {
 public:
  MyProcess(const std::string& name, mp::Queue<std::string> mq) : mq_(std::move(mq)) {
    set_name(name);
  }
  void run() override {
    print("Process:" + name() + ",start");
    print("get Data:" + mq_.get());
    std::this_thread::sleep_for(delay);
    mq_.put("new_data:" + name());
    print("Process:" + name() + ",end");
  }

 private:
  mp::Queue<std::string> mq_;
};

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--quick") delay = 20ms;
  mp::Queue<std::string> mq;
  mq.put("1");
  mq.put("2");
  mq.put("3");

  // 进程列表
  std::vector<MyProcess> p_list;
  p_list.reserve(3);
  // 循环创建进程
  for (int i = 0; i < 3; ++i) {
    p_list.emplace_back("p" + std::to_string(i), mq);
    p_list.back().start();
  }
  // 等待进程结束
  for (auto& p : p_list) p.join();

  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i) {
    got.push_back(mq.get(1s));
    print(got.back());
  }

  std::sort(got.begin(), got.end());
  if (got != std::vector<std::string>{"new_data:p0", "new_data:p1", "new_data:p2"} || !mq.empty()) {
    print("FAIL: each process takes one of 1, 2, 3 and puts back new_data:<its name>");
    return 1;
  }
  return 0;
}
