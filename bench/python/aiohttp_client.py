#!/usr/bin/env python3
"""CPython's figures for bench/aiohttp_client_bench.cpp: aiohttp's ClientSession fetching N
files from the local nginx that bench/run.sh started (PYCONC_BENCH_HTTP_URL), at most 32
connections, every body read -- the same workloads as the C++ benchmarks, written the obvious
aiohttp way. Wall-clock time (time.perf_counter), the median of a few runs, per request; on the
default event loop and, when importable, on uvloop ("@uvloop" suffix):

    Http_GetSmall 250000.0
    Http_GetSmall@uvloop 180000.0

Usage: aiohttp_client.py [--repetitions N]
"""

import argparse
import asyncio
import os
import statistics
import sys
import time

try:
    import aiohttp
except ImportError:  # pyenv's python3 has no aiohttp; Debian's /usr/bin/python3 does
    aiohttp = None

try:
    import uvloop
except ImportError:
    uvloop = None

WORKLOADS = (("Http_GetSmall", "/small.txt", 2000, 1024), ("Http_Get64K", "/64k.bin", 500, 65536))


async def fetch(session, url):
    async with session.get(url) as resp:
        return len(await resp.read())


async def batch(url, n):
    start = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as session:
        sizes = await asyncio.gather(*(fetch(session, url) for _ in range(n)))
    took = time.perf_counter() - start
    return took, sum(sizes)


def measure(runner, suffix, base, reps):
    for name, path, n, size in WORKLOADS:
        times = []
        for _ in range(reps):
            took, total = runner(batch(base + path, n))
            if total != n * size:
                print(f"# {name}{suffix}: wrong number of bytes ({total})", flush=True)
            times.append(took)
        print(f"{name}{suffix} {statistics.median(times) / n * 1e9:.1f}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repetitions", type=int, default=5)
    args = ap.parse_args()
    base = os.environ.get("PYCONC_BENCH_HTTP_URL")
    if aiohttp is None or base is None:
        print("# aiohttp_client.py: skipped (aiohttp not importable or PYCONC_BENCH_HTTP_URL unset)")
        return
    print(f"# python {sys.version.split()[0]} aiohttp {aiohttp.__version__}")
    measure(asyncio.run, "", base, args.repetitions)
    if uvloop is not None:
        measure(uvloop.run if hasattr(uvloop, "run") else
                (lambda coro: (uvloop.install(), asyncio.run(coro))[1]), "@uvloop", base, args.repetitions)


if __name__ == "__main__":
    main()
