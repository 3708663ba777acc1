// popen_communicate -- seed 004 "子进程" (需要输入): talk to a child through pipes with
// Popen(stdin=PIPE, stdout=PIPE, stderr=PIPE) and communicate().
//
// # 需要输入
// print('$ nslookup')
// p = subprocess.Popen(['nslookup'], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
// stderr=subprocess.PIPE) output, err = p.communicate(b'set q=mx\npython.org\nexit\n')
// print(output.decode('utf-8'))
// print('Exit code:', p.returncode)
//
// communicate() writes the commands to the child's stdin, closes it, reads stdout and stderr to
// the end (both at once, so neither side can block the other) and waits for the child. The
// output is a std::string either way: there is no bytes/str split to decode.
// nslookup needs the network and is not installed everywhere; without it Popen raises
// FileNotFoundError as in Python, which the example prints. `--quick` (what ctest runs) holds
// the same conversation with a stand-in written in sh that reads nslookup's commands from stdin
// the same way (`set q=...`, a name to look up, `exit`), and checks the answer and exit code.
#include <pyconc/subprocess.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "print.hpp"

namespace sp = pyconc::subprocess;

// nslookup's interactive loop, minus the network: one answer per name, in the query type set.
const char* kStandIn =
    "while read -r cmd; do case $cmd in"
    "  exit) exit 0 ;;"
    "  'set q='*) type=${cmd#set q=} ;;"
    "  *) echo \"> $cmd\"; echo \"$cmd: query type ${type:-a}, answered by the stand-in\" ;;"
    " esac; done";

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  const std::vector<std::string> cmd =
      quick ? std::vector<std::string>{"sh", "-c", kStandIn} : std::vector<std::string>{"nslookup"};

  print("$ nslookup");
  try {
    sp::Popen p(cmd, {.stdin_ = sp::PIPE, .stdout_ = sp::PIPE, .stderr_ = sp::PIPE});
    auto [output, err] = p.communicate("set q=mx\npython.org\nexit\n");
    print(output);
    print("Exit code:", *p.returncode());
    if (quick && (output != "> python.org\npython.org: query type mx, answered by the stand-in\n" ||
                  !err.empty() || *p.returncode() != 0)) {
      print("FAIL: the stand-in should answer the one name, in type mx, and exit with 0");
      return 1;
    }
  } catch (const pyconc::FileNotFoundError& e) {  // Python: FileNotFoundError, same text
    print("FileNotFoundError:", e.what());
  }
  return 0;
}
