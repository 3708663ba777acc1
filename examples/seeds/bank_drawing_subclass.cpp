// bank_drawing_subclass -- seed 003 "线程同步和互斥锁": a Thread subclass draws from an account.
//
// #未使用线程同步和互斥锁的情况
// from threading import Thread
// from time import sleep
//
// class Account:
//     def __init__(self,money,name):
//         self.money = money
//         self.name = name
//
// # 模拟提款的操作
// class Drawing(Thread):
//     def __init__(self,drawingNum,account):
//         Thread.__init__(self)
//         self.drawingNum = drawingNum
//         self.account = account
//         self.expenseTotal = 0
//     def run(self):
//         if self.account.money<self.drawingNum:
//             return
//         sleep(1) # 判断完可以取钱，则阻塞。就是为了测试发生冲突问题
//         self.account.money -=self.drawingNum
//         self.expenseTotal += self.drawingNum
//         print(f"账户：{self.account.name},余额是：{self.account.money}")
//         print(f"账户：{self.account.name},总共取了：{self.expenseTotal}")
//
// if __name__ == '__main__':
//     a1 = Account(100,"malu")
//     draw1 = Drawing(80,a1)  #定义一个取钱的线程
//     draw2 = Drawing(80,a1)  #定义一个取钱的线程
//     draw1.start()   # 你取钱
//     draw2.start()   # 你老婆取钱
//
// #使用互斥锁的案例 -- the same, with
//     def run(self):
//         lock1.acquire()
//         if self.account.money<self.drawingNum:
//             print("账户余额不足！")
//             return
//         sleep(1)
//         self.account.money -=self.drawingNum
//         self.expenseTotal += self.drawingNum
//         lock1.release()
//         ...
//     lock1 = Lock()
//
// Note: the seed's locked run() returns without lock1.release() when the balance is too low,
// so that thread exits still holding lock1 and any later draw would wait forever. Here
// std::lock_guard releases lock1 on every path, which is what the seed meant.
//
// `money` is a std::atomic<int> read and written with separate relaxed loads and stores, so the
// check-then-subtract race is the seed's logical race, not C++ undefined behaviour.
#include <pyconc/threading.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

#include "print.hpp"

using namespace std::chrono_literals;
namespace th = pyconc::threading;

constexpr auto relaxed = std::memory_order_relaxed;
std::chrono::milliseconds delay = 1s;  // the seed's sleep(1)

struct Account {
  Account(int money, std::string name) : money(money), name(std::move(name)) {}
  std::atomic<int> money;
  std::string name;
};

// 模拟提款的操作
struct Drawing : th::Thread {
  Drawing(int drawingNum, Account& account) : drawingNum(drawingNum), account(account) {}

  void run() override {
    if (account.money.load(relaxed) < drawingNum) return;
    std::this_thread::sleep_for(delay);  // 判断完可以取钱，则阻塞。就是为了测试发生冲突问题
    account.money.store(account.money.load(relaxed) - drawingNum, relaxed);  // -= drawingNum
    expenseTotal += drawingNum;
    report();
  }

  void report() const {
    print("账户：" + account.name + ",余额是：" + std::to_string(account.money.load(relaxed)));
    print("账户：" + account.name + ",总共取了：" + std::to_string(expenseTotal));
  }

  int drawingNum;
  Account& account;
  int expenseTotal = 0;
};

th::Lock lock1;

// 使用互斥锁的案例
struct LockedDrawing : Drawing {
  using Drawing::Drawing;

  void run() override {
    {
      std::lock_guard with(lock1);  // lock1.acquire() ... lock1.release(), on every path
      if (account.money.load(relaxed) < drawingNum) {
        print("账户余额不足！");
        return;
      }
      std::this_thread::sleep_for(delay);
      account.money.store(account.money.load(relaxed) - drawingNum, relaxed);
      expenseTotal += drawingNum;
    }
    report();
  }
};

// The seed's __main__; returns what is left in the account.
template <class DrawingT>
int run() {
  Account a1(100, "malu");
  DrawingT draw1(80, a1);  // 定义一个取钱的线程
  DrawingT draw2(80, a1);  // 定义一个取钱的线程
  draw1.start();           // 你取钱
  draw2.start();           // 你老婆取钱
  draw1.join();            // a subclass joins before it is destroyed
  draw2.join();
  return a1.money.load();
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  if (quick) delay = 20ms;

  print("-- 未使用线程同步和互斥锁 --");
  const int unsafe = run<Drawing>();
  print("余额:", unsafe,
        unsafe < 0 ? "(160 drawn from 100: the race showed)" : "(the race did not show this time)");

  print("-- 使用互斥锁 --");
  const int fixed = run<LockedDrawing>();
  print("余额:", fixed);
  if (fixed != 20) {
    print("FAIL: with lock1 exactly one draw of 80 succeeds and 20 is left");
    return 1;
  }
  return 0;
}
