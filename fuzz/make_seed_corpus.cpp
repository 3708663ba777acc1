// Writes the seed corpus of request_parser_fuzz into a directory: every input of the bad-request
// table and of the good-request list (tests/aiohttp/http_request_cases.hpp), each behind the
// two mode bytes the fuzz target reads (limits and chunking).
// Usage: make_seed_corpus DIR
#include <cstdio>
#include <fstream>
#include <string>

#include "http_request_cases.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  int written = 0;
  auto write = [&](const std::string& name, const std::string& input) {
    for (const char mode : {'\x00', '\x01'}) {
      std::ofstream out(dir + "/" + name + "-" + std::to_string(mode), std::ios::binary);
      out << mode << '\x07' << input;
      if (!out) {
        std::fprintf(stderr, "cannot write %s/%s\n", dir.c_str(), name.c_str());
        return false;
      }
      ++written;
    }
    return true;
  };
  for (const auto& c : pyconc_test::bad_requests()) {
    if (!write("bad-" + c.name, c.input)) return 1;
  }
  for (const auto& g : pyconc_test::good_requests()) {
    if (!write("good-" + g.name, g.input)) return 1;
  }
  std::printf("%d seeds written to %s\n", written, dir.c_str());
  return 0;
}
