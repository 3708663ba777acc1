// Writes the seed corpus of request_parser_fuzz into a directory: every input of the bad-request
// table and of the good-request list (tests/aiohttp/http_request_cases.hpp), each behind the
// two mode bytes the fuzz target reads (limits and chunking).
// With a second directory it also writes the seeds of websocket_frame_fuzz there: frame streams
// a client and a server send (whole and fragmented messages with control frames between the
// fragments, close frames) and one of each protocol violation, behind that target's two mode
// bytes (direction and limit, chunking).
// Usage: make_seed_corpus DIR [WEBSOCKET_DIR]
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "http_request_cases.hpp"
#include "pyconc/aiohttp/detail/websocket.hpp"

namespace {

std::string frame(unsigned op, const std::string& payload, bool mask, bool fin = true) {
  std::string f;
  pyconc::detail::append_websocket_frame(f, op, payload, mask, fin);
  return f;
}

// The frame streams of websocket_frame_fuzz's seeds, for client (masked) or server frames.
std::vector<std::pair<std::string, std::string>> websocket_streams(bool mask) {
  return {
      {"text", frame(1, "hello", mask)},
      {"binary-126", frame(2, std::string(126, 'b'), mask)},
      {"binary-65536", frame(2, std::string(65536, 'b'), mask)},
      {"fragments-with-ping", frame(1, "Hel", mask, false) + frame(9, "p", mask) +
                                  frame(0, "lo", mask, false) + frame(10, "", mask) +
                                  frame(0, "\xc3\xa9", mask)},
      {"close", frame(8, pyconc::detail::websocket_close_payload(1001, "bye"), mask)},
      {"close-empty", frame(8, "", mask)},
      {"bad-utf8", frame(1, "\xc3\x28", mask)},
      {"bad-opcode", frame(3, "x", mask)},
      {"bad-continuation", frame(0, "x", mask)},
      {"bad-long-ping", frame(9, std::string(126, 'p'), mask)},
      {"bad-close-code", frame(8, std::string("\x03\xed", 2), mask)},
  };
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: %s DIR [WEBSOCKET_DIR]\n", argv[0]);
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
  if (argc == 3) {
    const std::string ws_dir = argv[2];
    int ws_written = 0;
    for (const bool mask : {true, false}) {
      for (const auto& [name, bytes] : websocket_streams(mask)) {
        for (const char limit : {'\x00', '\x02'}) {
          const char mode = static_cast<char>(limit | (mask ? 1 : 0));
          std::ofstream out(ws_dir + "/" + name + (mask ? "-client-" : "-server-") +
                                std::to_string(static_cast<int>(limit)),
                            std::ios::binary);
          out << mode << '\x07' << bytes;
          if (!out) {
            std::fprintf(stderr, "cannot write %s/%s\n", ws_dir.c_str(), name.c_str());
            return 1;
          }
          ++ws_written;
        }
      }
    }
    std::printf("%d seeds written to %s\n", ws_written, ws_dir.c_str());
  }
  return 0;
}
