// mantou_producer_consumer -- seed 003 "生产者和消费者模式": buns (馒头) through a Queue.
//
// from queue import Queue
// from threading import Thread
// from time import sleep
//
// def producer():
//     num = 1
//     while True:
//         if queue.qsize()<5:
//             print(f"生产{num}号，大馒头")
//             queue.put(f"大馒头：{num}号")
//             num +=1
//         else:
//             print("馒头框满了，等待来人消费啊！")
//         sleep(1)
//
// def consumer():
//     while True:
//         print(f"获取馒头：{queue.get()}")
//         sleep(1)
//
// if __name__ == '__main__':
//     queue = Queue()
//     t1 = Thread(target=producer)
//     t2 = Thread(target=consumer)
//     t1.start()
//     t2.start()
//
// Differences: the seed runs forever; here the producer makes N buns, then calls
// queue.shutdown() (Python 3.13), after which get() hands out what is left and then raises
// ShutDown, which ends the consumer. The basket holds 5: Queue(maxsize=5) is the idiomatic form
// of the seed's `if queue.qsize()<5` check (which can be stale by the time put() runs) -- put()
// itself waits while the basket is full. put_nowait() + Full keeps the seed's message.
#include <pyconc/queue.hpp>
#include <pyconc/threading.hpp>

#include <chrono>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "print.hpp"

using namespace std::chrono_literals;
namespace th = pyconc::threading;

int N = 20;                                     // buns to make (the seed: forever)
std::chrono::milliseconds producer_pause = 1s;  // the seed's sleep(1)
std::chrono::milliseconds consumer_pause = 1s;
pyconc::queue::Queue<std::string> queue(5);
std::vector<std::string> eaten;  // only the consumer thread touches it until it is joined

void producer() {
  for (int num = 1; num <= N; ++num) {
    const std::string bun = "大馒头：" + std::to_string(num) + "号";
    print("生产" + std::to_string(num) + "号，大馒头");
    try {
      queue.put_nowait(bun);
    } catch (const pyconc::queue::Full&) {
      print("馒头框满了，等待来人消费啊！");
      queue.put(bun);  // waits until the consumer makes room
    }
    std::this_thread::sleep_for(producer_pause);
  }
  queue.shutdown();  // no more buns: the consumer drains the basket, then get() raises ShutDown
}

void consumer() {
  try {
    while (true) {
      std::string bun = queue.get();
      print("获取馒头：" + bun);
      eaten.push_back(bun);
      std::this_thread::sleep_for(consumer_pause);
    }
  } catch (const pyconc::queue::ShutDown&) {
    print("馒头卖完了");
  }
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  if (quick) {
    N = 10;
    producer_pause = 0ms;  // a fast producer fills the basket, so put() has to wait
    consumer_pause = 10ms;
  }

  th::Thread t1(producer);
  th::Thread t2(consumer);
  t1.start();
  t2.start();
  t1.join();
  t2.join();

  bool ok = static_cast<int>(eaten.size()) == N;
  for (int num = 1; ok && num <= N; ++num)
    ok = eaten[num - 1] == "大馒头：" + std::to_string(num) + "号";
  if (!ok) {
    print("FAIL: every bun must be eaten once, in the order it was made");
    return 1;
  }
  return 0;
}
