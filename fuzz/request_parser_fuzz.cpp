// libFuzzer target for the HTTP request path (pyconc::detail::HttpRequestParser on llhttp).
//
// Input: byte 0 picks the limits (small ones reach the 413/431 paths), byte 1 seeds the
// chunking, the rest is what a client sends. The same bytes are parsed three ways -- whole,
// one byte at a time, in uneven chunks -- and must give the same requests and the same verdict
// (the limits are exact, whatever the reads); every request and error must respect the limits.
// A failed check aborts, which libFuzzer reports with the input. Run by `make fuzz`.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http_request_cases.hpp"
#include "pyconc/aiohttp/detail/http_parser.hpp"

namespace {

using pyconc::detail::HttpLimits;
using pyconc::detail::HttpParserPhase;
using pyconc::detail::HttpRequest;
using pyconc::detail::HttpRequestParser;

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "request_parser_fuzz: %s\n", what);
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok) violated(what);
}

struct Outcome {
  std::vector<std::string> requests;  // a flat rendering of each request
  HttpParserPhase phase = HttpParserPhase::idle;
  int status = 0;
  std::string reason;
  bool operator==(const Outcome&) const = default;
};

std::string render(const HttpRequest& r, const HttpLimits& limits) {
  check(!r.method().empty(), "request without a method");
  check(!r.target().empty(), "request without a target");
  check(r.version_major() == 1 && r.version_minor() <= 1, "request with a version other than 1.x");
  check(r.body().size() <= limits.max_body_bytes, "body larger than the limit");
  check(r.headers().size() + r.trailers().size() <= limits.max_headers, "too many fields");
  std::string s;
  s.append(r.method()).append(" ").append(r.target()).append(" ");
  s.append(r.path()).append("?").append(r.query_string());
  s += r.keep_alive() ? " ka" : " close";
  s += r.upgrade() ? " upgrade" : "";
  s += r.chunked() ? " chunked\n" : "\n";
  for (auto [n, v] : r.headers()) {
    check(!n.empty(), "empty header name");
    for (char c : v) check(c != '\r' && c != '\n' && c != '\0', "control byte in a header value");
    s.append(n).append(": ").append(v).append("\n");
  }
  for (auto [n, v] : r.trailers())
    s.append("trailer ").append(n).append(": ").append(v).append("\n");
  s.append(r.body());
  return s;
}

Outcome run(std::string_view input, const HttpLimits& limits, int how, std::uint8_t seed) {
  HttpRequestParser p(limits);
  Outcome out;
  std::size_t pos = 0;
  unsigned rng = seed * 2654435761U + 1;
  int upgrades = 0;
  while (pos < input.size()) {
    std::size_t n = input.size() - pos;
    if (how == 1) n = 1;
    if (how == 2) {
      rng = rng * 1103515245U + 12345U;
      n = std::min<std::size_t>(n, 1 + (rng >> 16) % 61);
    }
    const std::size_t used = p.feed(input.substr(pos, n));
    check(used <= n, "feed consumed more than it was given");
    while (auto r = p.next()) out.requests.push_back(render(*r, limits));
    pos += used;
    if (used < n) {
      // Stopped: an upgrade (refuse it and go on, a few times), a close, or an error.
      if (p.phase() == HttpParserPhase::upgraded && upgrades++ < 4) {
        p.decline_upgrade();
        continue;
      }
      break;
    }
  }
  p.feed_eof();
  while (auto r = p.next()) out.requests.push_back(render(*r, limits));
  out.phase = p.phase();
  out.status = p.error_status();
  out.reason = std::string(p.error_reason());
  if (out.phase == HttpParserPhase::error) {
    const int s = out.status;
    check(s == 400 || s == 413 || s == 431 || s == 501 || s == 505, "unexpected error status");
    check(!out.reason.empty(), "error without a reason");
    check(p.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n") == 0, "parsed after an error");
  } else {
    check(out.status == 0, "status without an error");
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const HttpLimits limits =
      (data[0] & 1) != 0
          ? pyconc_test::kTableLimits
          : HttpLimits{.max_head_bytes = 200, .max_headers = 6, .max_body_bytes = 300};
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);
  const Outcome whole = run(input, limits, 0, data[1]);
  check(run(input, limits, 1, data[1]) == whole, "byte-by-byte parse differs from whole parse");
  check(run(input, limits, 2, data[1]) == whole, "chunked parse differs from whole parse");
  return 0;
}
