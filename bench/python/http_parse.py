#!/usr/bin/env python3
"""CPython's figures for the workloads of bench/aiohttp_bench.cpp: the parsing CPython's own
HTTP server does (http.server.BaseHTTPRequestHandler: request line, then
http.client.parse_headers, then the body by Content-Length or by reading chunks), on the same
bytes. Timed in the thread's CPU time, median of repetitions, like threading_queue.py. Output:
`<Workload> <ns per request>` lines named as in the C++ benchmarks without "BM_".

Usage: http_parse.py [--min-time SECONDS] [--repetitions N]
"""

import argparse
import http.client
import io
import sys
import time

from threading_queue import measure  # the same iteration-growing, median-keeping timer

GET = (b"GET /post/18151059?from=list&page=3 HTTP/1.1\r\n"
       b"Host: www.example.com\r\n"
       b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0\r\n"
       b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
       b"Accept-Language: en-US,en;q=0.5\r\n"
       b"Accept-Encoding: gzip, deflate\r\n"
       b"Connection: keep-alive\r\n"
       b"Cookie: session=0123456789abcdef\r\n"
       b"Upgrade-Insecure-Requests: 1\r\n"
       b"\r\n")

POST = (b"POST /upload HTTP/1.1\r\nHost: www.example.com\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
        + b"".join(b"100\r\n" + bytes([ord("a") + i]) * 256 + b"\r\n" for i in range(4))
        + b"0\r\n\r\n")


def parse_one(f):
    """One request from the file f, the way http.server reads it (plus a chunked body)."""
    line = f.readline(65537)
    method, target, version = line.decode("iso-8859-1").rstrip("\r\n").split()
    headers = http.client.parse_headers(f)
    body = b""
    if headers.get("Transfer-Encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                f.readline()
                break
            parts.append(f.read(size))
            f.readline()
        body = b"".join(parts)
    elif "Content-Length" in headers:
        body = f.read(int(headers["Content-Length"]))
    return method, target, version, headers, body


def workload(wire, per_read):
    """run(n) parses the bytes `wire` (per_read requests) n times; returns the seconds."""
    def run(n):
        start = time.thread_time()
        for _ in range(n):
            f = io.BytesIO(wire)
            for _ in range(per_read):
                parse_one(f)
        return time.thread_time() - start
    return run, per_read


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--repetitions", type=int, default=5)
    args = ap.parse_args()
    print(f"# python {sys.version.split()[0]}")
    for name, (run, per_read) in [("HttpParse_Get300", workload(GET, 1)),
                                  ("HttpParse_Pipelined16", workload(GET * 16, 16)),
                                  ("HttpParse_PostChunked", workload(POST, 1))]:
        ns = measure(run, args.min_time, args.repetitions) / per_read
        print(f"{name} {ns:.1f}", flush=True)


if __name__ == "__main__":
    main()
