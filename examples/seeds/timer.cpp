// timer -- threading.Timer: run a function after a delay, unless cancelled first.
// (Not in the seeds; the example of Python's documentation.)
//
// def hello():
//     print("hello, world")
//
// t = Timer(30.0, hello)
// t.start()  # after 30 seconds, "hello, world" will be printed
//
// t2 = Timer(30.0, hello)
// t2.start()
// t2.cancel()  # stop the timer's action if it's still waiting
#include <pyconc/threading.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <sstream>
#include <string_view>
#include <thread>

#include "print.hpp"

using namespace std::chrono_literals;
namespace th = pyconc::threading;

std::atomic<int> said_hello{0};

void hello() {
  print("hello, world");
  ++said_hello;
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  const std::chrono::milliseconds interval = quick ? 100ms : 1s;

  th::Timer t(interval, hello);
  t.start();  // after `interval`, "hello, world" will be printed
  t.join();
  print("t fired:", said_hello.load(), "time(s)");

  th::Timer t2(interval, hello);
  t2.start();
  t2.cancel();  // stop the timer's action if it's still waiting
  t2.join();
  std::this_thread::sleep_for(2 * interval);  // well past the time it would have fired
  print("t2 cancelled, hello said", said_hello.load(), "time(s) in all");

  if (said_hello != 1) {
    print("FAIL: the started timer must fire once and the cancelled one never");
    return 1;
  }
  return 0;
}
