// Uses the installed pyconc: two threads hand items over a bounded queue.
#include <pyconc/pyconc.hpp>

#include <cstdio>

int main() {
  namespace th = pyconc::threading;
  pyconc::queue::Queue<int> q(2);
  long sum = 0;
  th::Thread consumer([&] {
    for (int i = 0; i < 100; ++i) sum += q.get();
  });
  consumer.start();
  for (int i = 1; i <= 100; ++i) q.put(i);
  consumer.join();
  std::printf("sum=%ld\n", sum);
  return sum == 5050 ? 0 : 1;
}
