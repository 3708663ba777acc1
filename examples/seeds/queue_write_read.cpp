// queue_write_read -- seed 004 "进程间通信": a writer and a reader process share a Queue; the
// reader loops forever and is terminated.
//
// # 写数据进程执行的代码:
// def write(q):
//     print('Process to write: %s' % os.getpid())
//     for value in ['A', 'B', 'C']:
//         print('Put %s to queue...' % value)
//         q.put(value)
//         time.sleep(random.random())
//
// # 读数据进程执行的代码:
// def read(q):
//     print('Process to read: %s' % os.getpid())
//     while True:
//         value = q.get(True)
//         print('Get %s from queue.' % value)
//
// # 父进程创建Queue，并传给各个子进程：
// print('进程间通信')
// q = Queue()
// pw = Process(target=write, args=(q,))
// pr = Process(target=read, args=(q,))
// # 启动子进程pw，写入:
// pw.start()
// # 启动子进程pr，读取:
// pr.start()
// # 等待pw结束:
// pw.join()
// # pr进程里是死循环，无法等待其结束，只能强行终止:
// pr.terminate()
//
// Difference: the seed may terminate the reader before it printed 'C' (a race it does not
// mind); here the reader also records what it got, and the parent waits until it has all three
// before terminate(). Checks: A, B, C read in order; the reader ends by SIGTERM (exit code -15).
#include <signal.h>
#include <unistd.h>
#include <pyconc/multiprocessing.hpp>

#include <chrono>
#include <random>
#include <string>
#include <string_view>
#include <thread>

#include "print.hpp"

namespace mp = pyconc::multiprocessing;
using namespace std::chrono_literals;

double pause_scale = 1.0;     // time.sleep(random.random()) seconds
mp::Array<char> got(3);       // what the reader read, in order
mp::Semaphore read_count(0);  // one unit per item read

// (In a namespace: POSIX has its own read() and write().)
namespace ipc {

// 写数据进程执行的代码:
void write(mp::Queue<std::string> q) {
  print("Process to write: " + std::to_string(::getpid()));
  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  std::uniform_real_distribution<double> random(0.0, 1.0);
  for (const std::string value : {"A", "B", "C"}) {
    print("Put " + value + " to queue...");
    q.put(value);
    std::this_thread::sleep_for(std::chrono::duration<double>(random(rng) * pause_scale));
  }
}

// 读数据进程执行的代码:
void read(mp::Queue<std::string> q) {
  print("Process to read: " + std::to_string(::getpid()));
  for (int n = 0;; ++n) {
    const std::string value = q.get();
    print("Get " + value + " from queue.");
    if (n < 3) got[static_cast<std::size_t>(n)] = value[0];
    read_count.release();
  }
}

}  // namespace ipc

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--quick") pause_scale = 0.02;
  // 父进程创建Queue，并传给各个子进程：
  print("进程间通信");
  mp::Queue<std::string> q;
  mp::Process pw(ipc::write, q);
  mp::Process pr(ipc::read, q);
  // 启动子进程pw，写入:
  pw.start();
  // 启动子进程pr，读取:
  pr.start();
  // 等待pw结束:
  pw.join();
  for (int i = 0; i < 3; ++i) read_count.acquire(true, 30s);
  // pr进程里是死循环，无法等待其结束，只能强行终止:
  pr.terminate();
  pr.join();

  if (std::string(got.begin(), got.end()) != "ABC" || pr.exitcode() != -SIGTERM) {
    print("FAIL: the reader gets A, B, C in order and is then terminated");
    return 1;
  }
  return 0;
}
