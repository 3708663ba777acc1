// process_subclass -- seed 003 "进程的创建方式二" (类包装): class MyProcess(Process) with run().
//
// from multiprocessing import Process
// from time import sleep
//
// class MyProcess(Process):
//     def __init__(self,name):
//         Process.__init__(self)
//         self.name = name
//
//     def run(self):
//         print(f"Process:{self.name},start")
//         sleep(3)
//         print(f"Process:{self.name},end")
//
// if __name__ == '__main__':
//     #创建进程
//     p1 = MyProcess("p1")
//     p2 = MyProcess("p2")
//     p1.start()
//     p2.start()
//
// Checks: each run() sees its own name, in its own process, and both finish (joined at exit,
// as in Python; the check joins them first through active_children()).
#include <unistd.h>
#include <pyconc/multiprocessing.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "print.hpp"

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;

std::chrono::milliseconds delay = 3s;
mp::Array<int> seen(2);  // seen[i]: pN's run() ran in a child and saw its name

class MyProcess : public mp::Process {
 public:
  explicit MyProcess(const std::string& name) {
    set_name(name);  // self.name = name
  }

  void run() override {
    print("Process:" + name() + ",start");
    std::this_thread::sleep_for(delay);
    if (mp::current_process().name() == name() && mp::parent_process()) {
      seen[name() == "p1" ? 0 : 1] = 1;
    }
    print("Process:" + name() + ",end");
  }
};

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--quick") delay = 20ms;
  // 创建进程
  MyProcess p1("p1");
  MyProcess p2("p2");
  p1.start();
  p2.start();

  for (auto& child : mp::active_children()) child.join();
  if (seen[0] != 1 || seen[1] != 1 || p1.exitcode() != 0 || p2.exitcode() != 0) {
    print("FAIL: p1.run() and p2.run() each run in their own process, under their own name");
    return 1;
  }
  return 0;
}
