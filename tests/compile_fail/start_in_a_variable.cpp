// The control for the compile-fail snippets: the spellings they point to do compile.
#include <pyconc/threading.hpp>

#include <chrono>
#include <vector>

namespace th = pyconc::threading;
using namespace std::chrono_literals;

void work() {}

struct Worker : th::Thread {
  void run() override {}
};

int main() {
  th::Thread t(work);
  t.start();
  t.join();
  std::vector<th::Thread> ts;
  ts.emplace_back(work);
  ts.back().start();
  Worker w;
  w.start();
  w.join();
  th::Timer tm(5s, work);
  tm.start();
  tm.cancel();
}
