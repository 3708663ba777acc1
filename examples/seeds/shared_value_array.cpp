// shared_value_array -- seed 004 "共享内存": Value and Array in shared memory.
//
// import multiprocessing as mp
//
// '''
// 使用Value数据存储在一个共享的内存表中
// d表示一个双精浮点类型，i表示一个带符号的整型
// '''
// value1 = mp.Value('i', 0)
// value2 = mp.Value('d', 3.14)
//
// '''
// Array类，可以和共享内存交互，来实现在进程之间共享数据。
// 这里的Array和numpy中的不同，它只能是一维的，不能是多维的。
// 同样和Value 一样，需要定义数据形式，否则会报错。
// '''
// array = mp.Array('i', [1, 2, 3, 4])
//
// The type code becomes the template argument ('i' -> int, 'd' -> double). To show that the
// memory is shared, a child process updates all three and the parent prints them.
// Checks: the parent sees the child's writes.
#include <pyconc/multiprocessing.hpp>

#include <mutex>
#include <string>

#include "print.hpp"

namespace mp = pyconc::multiprocessing;

int main() {
  // 使用Value数据存储在一个共享的内存表中; d表示一个双精浮点类型，i表示一个带符号的整型
  mp::Value<int> value1(0);
  mp::Value<double> value2(3.14);
  // Array类，可以和共享内存交互，来实现在进程之间共享数据。
  mp::Array<int> array{1, 2, 3, 4};

  mp::Process child([=] {
    std::lock_guard g(value1.get_lock());
    value1.value() += 1;
    value2.value() *= 2;
    for (int& x : array) x *= 10;
  });
  child.start();
  child.join();

  std::string items;
  for (std::size_t i = 0; i < array.size(); ++i)
    items += (i ? ", " : "") + std::to_string(array[i]);
  print("value1:", value1.value(), "value2:", value2.value(), "array: [" + items + "]");

  if (value1.value() != 1 || value2.value() != 6.28 ||
      array.to_vector() != std::vector<int>{10, 20, 30, 40}) {
    print("FAIL: the child's writes to Value and Array are seen by the parent");
    return 1;
  }
  return 0;
}
