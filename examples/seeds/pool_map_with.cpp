// pool_map_with -- seed 003 "使用with管理进程池": `with Pool(5) as pool: args = pool.map(...)`.
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
// if __name__ == "__main__":
//    with Pool(5) as pool:
//         args =
//         pool.map(func1,('malu1,','malu2,','malu3,','malu4,','malu5,','malu6,','malu7,','malu8,'))
//         for a in args:
//             print(a)
//
// The `with` block is a scope: leaving it ends the pool (terminate, as Python's __exit__).
// pool.map blocks and returns the results in input order, whatever the order the workers
// finish in. Checks: the results come back in order. --quick sleeps 0.1 s, a setting the
// workers (this program started again, not forked) read from the environment they inherit.
#include <unistd.h>
#include <pyconc/multiprocessing.hpp>

#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
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

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--quick") ::setenv("SEED_PAUSE", "0.1", 1);
  const std::vector<std::string> names{"malu1,", "malu2,", "malu3,", "malu4,",
                                       "malu5,", "malu6,", "malu7,", "malu8,"};
  std::vector<std::string> args;
  {
    mp::Pool pool(5);
    args = pool.map(func1, names);
    for (const auto& a : args) print(a);
  }
  if (args != names) {
    print("FAIL: pool.map returns the results in input order");
    return 1;
  }
  return 0;
}
