// bank_draw -- seed 001 "线程安全概念介绍": two threads draw 800 from an account of 1000.
//
// class Account:
//     def __init__(self,balance):
//         self.balance = balance
// def draw(account, amount):
//     if account.balance>=amount:
//         time.sleep(0.1) # 加上这句后必然出问题
//         print(threading.current_thread().name,"取钱成功")
//         account.balance -= amount
//         print(threading.current_thread().name,"余额",account.balance)
//     else:
//         print(threading.current_thread().name,"取钱失败，余额不足")
// account = Account(1000)
// ta = threading.Thread(name='ta',target=draw,args=(account,800))
// tb = threading.Thread(name='tb',target=draw,args=(account,800))
//
// ta.start()
// tb.start()
//
// # tb 取钱成功 / tb 余额 200 / ta 取钱成功 / ta 余额 -600
//
// ## 修改线程不安全的代码
// lock = threading.Lock()
// def draw(account, amount):
//     with lock:
//         if account.balance>=amount:
//             time.sleep(1) # 使用lock后，第二个线程无法进入，这里会有1秒啥也不干
//             ...same as above...
//
// `balance` is a std::atomic<int> read and written with separate relaxed loads and stores, so
// the check-then-subtract race is the seed's logical race, not C++ undefined behaviour.
#include <pyconc/threading.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>

#include "print.hpp"

using namespace std::chrono_literals;
namespace th = pyconc::threading;

constexpr auto relaxed = std::memory_order_relaxed;

struct Account {
  explicit Account(int balance) : balance(balance) {}
  std::atomic<int> balance;
};

std::chrono::milliseconds delay = 100ms;  // the seed's time.sleep(0.1)
std::atomic<int> successes{0};

void draw(Account& account, int amount) {
  if (account.balance.load(relaxed) >= amount) {
    std::this_thread::sleep_for(delay);  // 加上这句后必然出问题
    print(th::current_thread().name(), "取钱成功");
    account.balance.store(account.balance.load(relaxed) - amount, relaxed);  // -= amount
    print(th::current_thread().name(), "余额", account.balance.load(relaxed));
    ++successes;
  } else {
    print(th::current_thread().name(), "取钱失败，余额不足");
  }
}

th::Lock lock;

void draw_locked(Account& account, int amount) {
  std::lock_guard with(lock);  // with lock:
  draw(account, amount);       // 使用lock后，第二个线程无法进入
}

// The seed's __main__: two named threads draw 800 each; returns the final balance.
int run(void (*target)(Account&, int)) {
  Account account(1000);
  successes = 0;
  th::Thread ta({.name = "ta"}, target, std::ref(account), 800);
  th::Thread tb({.name = "tb"}, target, std::ref(account), 800);

  ta.start();
  tb.start();

  ta.join();
  tb.join();
  return account.balance.load();
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  if (quick) delay = 20ms;

  print("-- 线程不安全 (no lock) --");
  const int unsafe = run(draw);
  print("balance:", unsafe,
        unsafe < 0 ? "(overdrawn: the race showed)" : "(the race did not show this time)");

  print("-- 修改线程不安全的代码 (with lock) --");
  if (!quick) delay = 1s;  // the locked version of the seed sleeps time.sleep(1)
  const int fixed = run(draw_locked);
  print("balance:", fixed);

  if (fixed != 200 || successes != 1) {
    print("FAIL: with the lock exactly one draw succeeds and 200 is left");
    return 1;
  }
  return 0;
}
