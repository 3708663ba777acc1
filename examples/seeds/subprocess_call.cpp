// subprocess_call -- seed 004 "子进程": run an external program, let it print to our stdout, and
// get its exit code with subprocess.call.
//
// import subprocess
//
// # 子进程并不是自身，而是一个外部进程。创建子进程后，还需要控制子进程的输入和输出
// print('$ nslookup www.python.org')
// r = subprocess.call(['nslookup', 'www.python.org'])
// print('Exit code:', r)
//
// nslookup needs the network and is not installed everywhere. Without it, call() raises
// FileNotFoundError exactly as Python's does; the example prints it and ends normally.
// `--quick` (what ctest runs) looks up "localhost" with `getent hosts`, a name lookup that needs
// no network and exists on every glibc system, and checks that call() returns its exit code 0.
#include <pyconc/subprocess.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "print.hpp"

namespace sp = pyconc::subprocess;

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  const std::vector<std::string> cmd =
      quick ? std::vector<std::string>{"getent", "hosts", "localhost"}
            : std::vector<std::string>{"nslookup", "www.python.org"};

  std::string line = "$";
  for (const auto& a : cmd) line += " " + a;
  print(line);
  try {
    int r = sp::call(cmd);
    print("Exit code:", r);
    if (quick && r != 0) {
      print("FAIL: `getent hosts localhost` should find localhost and exit with 0");
      return 1;
    }
  } catch (const pyconc::FileNotFoundError& e) {  // Python: FileNotFoundError, same text
    print("FileNotFoundError:", e.what());
  }
  return 0;
}
