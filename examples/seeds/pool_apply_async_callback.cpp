// pool_apply_async_callback -- seed 003 "进程池使用案例": Pool(5), apply_async with a callback.
//
// from multiprocessing import Pool
// import os
// from time import sleep
//
// def func1(name):
//     print(f"当前进程的ID:{os.getpid()},{name}")
//     sleep(2)
//     return name
//
// def func2(args):
//     print(args)
//
// if __name__ == "__main__":
//     pool = Pool(5)
//
//     pool.apply_async(func = func1,args=('malu1',),callback=func2)
//     pool.apply_async(func = func1,args=('malu2',),callback=func2)
//     pool.apply_async(func = func1,args=('malu3',),callback=func2)
//     pool.apply_async(func = func1,args=('malu4',))
//     pool.apply_async(func = func1,args=('malu5',))
//     pool.apply_async(func = func1,args=('malu6',))
//     pool.apply_async(func = func1,args=('malu7',))
//     pool.apply_async(func = func1,args=('malu8',))
//
//     pool.close()
//     pool.join()
//
// func1 runs in the pool's worker processes (it prints their pids); func2, the callback, runs
// in this process once a result is back (Python: in the pool's result-handler thread). The
// arguments go as Python's `args` tuple. Checks: func2 saw exactly malu1..malu3 and every task
// returned its name. --quick sleeps 0.1 s instead of 2 s: the workers are this program started
// again (not forked), so the setting reaches them through the environment, which they inherit.
#include <unistd.h>
#include <pyconc/multiprocessing.hpp>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "print.hpp"

namespace mp = pyconc::multiprocessing;

double pause_seconds() {
  const char* s = std::getenv("SEED_PAUSE");
  return s != nullptr ? std::atof(s) : 2.0;
}

std::string func1(std::string name) {
  print("当前进程的ID:" + std::to_string(::getpid()) + "," + name);
  std::this_thread::sleep_for(std::chrono::duration<double>(pause_seconds()));
  return name;
}

std::mutex seen_mu;
std::set<std::string> seen;

void func2(const std::string& args) {
  print(args);
  std::lock_guard g(seen_mu);
  seen.insert(args);
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--quick") ::setenv("SEED_PAUSE", "0.1", 1);
  mp::Pool pool(5);

  pool.apply_async(func1, std::make_tuple(std::string("malu1")), func2);
  pool.apply_async(func1, std::make_tuple(std::string("malu2")), func2);
  pool.apply_async(func1, std::make_tuple(std::string("malu3")), func2);
  std::vector<mp::AsyncResult<std::string>> rest;
  rest.push_back(pool.apply_async(func1, std::make_tuple(std::string("malu4"))));
  rest.push_back(pool.apply_async(func1, std::make_tuple(std::string("malu5"))));
  rest.push_back(pool.apply_async(func1, std::make_tuple(std::string("malu6"))));
  rest.push_back(pool.apply_async(func1, std::make_tuple(std::string("malu7"))));
  rest.push_back(pool.apply_async(func1, std::make_tuple(std::string("malu8"))));

  pool.close();
  pool.join();

  bool ok = seen == std::set<std::string>{"malu1", "malu2", "malu3"};
  for (std::size_t i = 0; i < rest.size(); ++i) {
    ok = ok && rest[i].get() == "malu" + std::to_string(i + 4);
  }
  if (!ok) {
    print("FAIL: the callback must see malu1..malu3 and every task must return its name");
    return 1;
  }
  return 0;
}
