// thread_local_student -- seed 004 "ThreadLocal": one global object, a separate value per thread.
//
// import threading
//
// # 创建全局ThreadLocal对象:
// local_school = threading.local()
//
// def process_student():
//     # 获取当前线程关联的student:
//     std = local_school.student
//     print('Hello, %s (in %s)' % (std, threading.current_thread().name))
//
// def process_thread(name):
//     # 绑定ThreadLocal的student:
//     local_school.student = name
//     process_student()
//
// t1 = threading.Thread(target=process_thread, args=('Alice',), name='Thread-A')
// t2 = threading.Thread(target=process_thread, args=('Bob',), name='Thread-B')
// t1.start()
// t2.start()
// t1.join()
// t2.join()
//
// Python's local() takes any attribute; in C++ the attributes are the members of a struct, and
// each thread gets its own default-constructed copy on first use. A Barrier makes both threads
// bind their student before either reads it back, so the two values surely coexist.
#include <pyconc/threading.hpp>

#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>

#include "print.hpp"

namespace th = pyconc::threading;

struct School {
  std::string student;
};

// 创建全局ThreadLocal对象:
th::local<School> local_school;

th::Barrier both_bound(2);
th::Lock seen_lock;
std::map<std::string, std::string> seen;  // thread name -> the student it read back

void process_student() {
  // 获取当前线程关联的student:
  const std::string student = local_school->student;
  print("Hello, " + student + " (in " + th::current_thread().name() + ")");
  std::lock_guard with(seen_lock);
  seen[th::current_thread().name()] = student;
}

void process_thread(const std::string& name) {
  // 绑定ThreadLocal的student:
  local_school->student = name;
  both_bound.wait();
  process_student();
}

int main() {
  th::Thread t1({.name = "Thread-A"}, process_thread, "Alice");
  th::Thread t2({.name = "Thread-B"}, process_thread, "Bob");
  t1.start();
  t2.start();
  t1.join();
  t2.join();

  const std::string in_main = local_school->student;  // the main thread never bound one
  if (seen["Thread-A"] != "Alice" || seen["Thread-B"] != "Bob" || !in_main.empty()) {
    print("FAIL: each thread must see only its own student");
    return 1;
  }
  return 0;
}
