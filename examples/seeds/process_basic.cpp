// process_basic -- seed 000 "multiprocessing 多进程" and seed 004 "进程 process": start a
// process and wait for it; os.fork(); Process(target=run_proc); a thread and a process side by
// side (seed 004 "进程与线程初识").
//
// # seed 000
// import multiprocessing # 导入相关库
// def work(i):
//     print(f"Process {i} is working now...")
// p= Processs(target=work,args=(1,))
// p.start()
// p.join()
//
// # seed 004
// print('Process (%s) start...' % os.getpid())
// pid = os.fork()
// if pid == 0:
//     print('I am child process (%s) and my parent is %s.' % (os.getpid(), os.getppid()))
// else:
//     print('I (%s) just created a child process (%s).' % (os.getpid(), pid))
//
// def run_proc(name):
//     print('Run child process %s (%s)...' % (name, os.getpid()))
//
// print('Parent process %s.' % os.getpid())
// p = Process(target=run_proc, args=('tests',))
// print('Child process will start.')
// p.start()
// p.join()
// print('Child process end.')
//
// # 进程与线程初识
// import multiprocessing as mp
// import threading as td
// def job(a, d):
//     print('aaa')
// t1 = td.Thread(target=job, args=(1, 2))
// p1 = mp.Process(target=job, args=(1, 2,))
// t1.start(); p1.start(); t1.join(); p1.join()
//
// Difference: the forked child of os.fork() ends with _exit() after its print (in the seed's
// notebook it goes on running the rest of the cell). Checks: every target ran once, in a
// process other than ours, and ended with exit code 0.
#include <sys/wait.h>
#include <unistd.h>
#include <pyconc/multiprocessing.hpp>
#include <pyconc/threading.hpp>

#include <string>

#include "print.hpp"

namespace mp = pyconc::multiprocessing;
namespace td = pyconc::threading;

mp::Value<int> ran(0);  // counts the targets run in other processes (shared memory)

// 写明相关函数
void work(int i) {
  print("Process " + std::to_string(i) + " is working now...");
  if (::getpid() != mp::parent_process()->pid()) ++ran.value();
}

void run_proc(const std::string& name) {
  print("Run child process " + name + " (" + std::to_string(::getpid()) + ")...");
  if (mp::current_process().name() != "MainProcess") ++ran.value();
}

void job(int, int) {
  print("aaa");
}

int main() {
  // seed 000: 创建进程, 开启进程, 等待进程
  mp::Process p0(work, 1);
  p0.start();
  p0.join();

  // seed 004: os.fork()
  print("Process (" + std::to_string(::getpid()) + ") start...");
  const pid_t pid = ::fork();
  if (pid == 0) {
    print("I am child process (" + std::to_string(::getpid()) + ") and my parent is " +
          std::to_string(::getppid()) + ".");
    ::_exit(0);
  }
  print("I (" + std::to_string(::getpid()) + ") just created a child process (" +
        std::to_string(pid) + ").");
  int status = 0;
  ::waitpid(pid, &status, 0);

  print("Parent process " + std::to_string(::getpid()) + ".");
  mp::Process p(run_proc, std::string("tests"));
  print("Child process will start.");
  p.start();
  // join()方法可以等待子进程结束后再继续往下运行，通常用于进程间的同步
  p.join();
  print("Child process end.");

  // 进程与线程初识
  td::Thread t1(job, 1, 2);
  mp::Process p1(job, 1, 2);
  // The seed starts t1 first. Started the other way round, the fork happens before the thread
  // exists: a child forked beside a running thread inherits only the forking thread (and
  // ThreadSanitizer reports the others as leaked in the child).
  p1.start();
  t1.start();
  t1.join();
  p1.join();

  if (ran.value() != 2 || p0.exitcode() != 0 || p.exitcode() != 0 || p1.exitcode() != 0 ||
      !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    print("FAIL: work and run_proc run once each in a child, every child exits with 0");
    return 1;
  }
  return 0;
}
