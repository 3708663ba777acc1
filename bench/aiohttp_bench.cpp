// bench/aiohttp_bench.cpp -- the HTTP request parser of the web server beside llhttp alone.
//
// Names follow bench/threading_bench.cpp: BM_<Workload>/<impl>, paired by
// bench/python/summarize.py; bench/python/http_parse.py measures CPython's http.server
// parsing (http.client.parse_headers) of the same bytes. Figures are CPU time per request.
//
//   HttpParse_Get300        one typical browser GET of ~300 bytes, fed whole; pyconc =
//                           HttpRequestParser (request line, 8 headers into the request's
//                           buffer, limits, smuggling checks) with next(HttpRequest&) reusing
//                           buffers; llhttp_raw = llhttp's state machine with empty callbacks
//                           (the floor: what any llhttp-based server pays)
//   HttpParse_Pipelined16   16 such requests arriving in one read, time per request
//   HttpParse_PostChunked   a POST whose 1 KiB body comes in 4 chunks, decoded
#include <benchmark/benchmark.h>
#include <llhttp.h>

#include <string>

#include "common.hpp"
#include "pyconc/aiohttp/detail/http_parser.hpp"

namespace {

using pyconc::detail::HttpRequest;
using pyconc::detail::HttpRequestParser;

const std::string kGet =
    "GET /post/18151059?from=list&page=3 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=0123456789abcdef\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "\r\n";

std::string post_chunked() {
  std::string s =
      "POST /upload HTTP/1.1\r\nHost: www.example.com\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i)
    s += "100\r\n" + std::string(256, static_cast<char>('a' + i)) + "\r\n";
  return s + "0\r\n\r\n";
}

void parse_requests(benchmark::State& state, const std::string& wire, int per_read) {
  HttpRequestParser parser;
  HttpRequest r;
  std::size_t bytes = 0;
  for (auto _ : state) {
    if (parser.feed(wire) != wire.size()) state.SkipWithError("parse error");
    for (int i = 0; i < per_read; ++i) {
      if (!parser.next(r)) state.SkipWithError("missing request");
      benchmark::DoNotOptimize(r.headers().size());
    }
    bytes += wire.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * per_read);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["items_per_iteration"] = per_read;  // summarize.py reports per request
}

void BM_Pyconc_Get(benchmark::State& state) {
  parse_requests(state, kGet, 1);
}

void BM_Pyconc_Pipelined(benchmark::State& state) {
  std::string wire;
  for (int i = 0; i < 16; ++i) wire += kGet;
  parse_requests(state, wire, 16);
}

void BM_Pyconc_PostChunked(benchmark::State& state) {
  parse_requests(state, post_chunked(), 1);
}

// llhttp with callbacks that only count: its state machine alone.
int count_message(llhttp_t* p) {
  ++*static_cast<long*>(p->data);
  return 0;
}
int ignore_span(llhttp_t*, const char*, std::size_t) {
  return 0;
}

void raw_llhttp(benchmark::State& state, const std::string& wire, int per_read) {
  llhttp_settings_t settings;
  llhttp_settings_init(&settings);
  settings.on_url = settings.on_header_field = settings.on_header_value = ignore_span;
  settings.on_body = ignore_span;
  settings.on_message_complete = count_message;
  llhttp_t parser;
  llhttp_init(&parser, HTTP_REQUEST, &settings);
  long messages = 0;
  parser.data = &messages;
  for (auto _ : state) {
    if (llhttp_execute(&parser, wire.data(), wire.size()) != HPE_OK) state.SkipWithError("error");
  }
  benchmark::DoNotOptimize(messages);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * per_read);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(wire.size()));
  state.counters["items_per_iteration"] = per_read;
}

void BM_Raw_Get(benchmark::State& state) {
  raw_llhttp(state, kGet, 1);
}

void BM_Raw_Pipelined(benchmark::State& state) {
  std::string wire;
  for (int i = 0; i < 16; ++i) wire += kGet;
  raw_llhttp(state, wire, 16);
}

void BM_Raw_PostChunked(benchmark::State& state) {
  raw_llhttp(state, post_chunked(), 1);
}

}  // namespace

BENCHMARK(BM_Pyconc_Get)->Name("BM_HttpParse_Get300/pyconc");
BENCHMARK(BM_Raw_Get)->Name("BM_HttpParse_Get300/llhttp_raw");
BENCHMARK(BM_Pyconc_Pipelined)->Name("BM_HttpParse_Pipelined16/pyconc");
BENCHMARK(BM_Raw_Pipelined)->Name("BM_HttpParse_Pipelined16/llhttp_raw");
BENCHMARK(BM_Pyconc_PostChunked)->Name("BM_HttpParse_PostChunked/pyconc");
BENCHMARK(BM_Raw_PostChunked)->Name("BM_HttpParse_PostChunked/llhttp_raw");

int main(int argc, char** argv) {
  return run_benchmarks(argc, argv);
}
