// Python's `Thread(target=work).start()` on a C++ temporary: the temporary's destructor would
// join the thread at the end of the statement (it would run serially). Must not compile.
#include <pyconc/threading.hpp>

namespace th = pyconc::threading;

void work() {}

int main() {
  th::Thread(work).start();
}
