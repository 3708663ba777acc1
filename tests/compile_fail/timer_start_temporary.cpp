// `Timer(5, f).start()` on a C++ temporary would block the caller for the whole interval (the
// destructor joins the timer). Must not compile.
#include <pyconc/threading.hpp>

#include <chrono>

namespace th = pyconc::threading;
using namespace std::chrono_literals;

void fire() {}

int main() {
  th::Timer(5s, fire).start();
}
