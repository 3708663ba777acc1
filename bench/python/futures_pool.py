#!/usr/bin/env python3
"""CPython's figures for the workloads of bench/futures_bench.cpp (concurrent.futures).

The same workloads written the obvious Python way, with ThreadPoolExecutor(max_workers=2) as
in the C++ benchmark, timed in wall-clock time (time.perf_counter); the median of a few runs
is kept. Output lines, named as in the C++ benchmarks without "BM_" (ns per task):

    Pool_SubmitBatched 19000.0
    Pool_SubmitOne 60000.0
    Pool_Map 20000.0

Usage: futures_pool.py [--repetitions N] [--tasks N]
"""

import argparse
import concurrent.futures as cf
import statistics
import time

BATCH = 10_000


def identity(x):
    return x


def submit_batched(pool, n):
    start = time.perf_counter()
    done = 0
    while done < n:
        fs = [pool.submit(identity, i) for i in range(min(BATCH, n - done))]
        for f in fs:
            f.result()
        done += len(fs)
    return time.perf_counter() - start


def submit_one(pool, n):
    start = time.perf_counter()
    for i in range(n):
        pool.submit(identity, i).result()
    return time.perf_counter() - start


def map_items(pool, n):
    xs = range(n)
    start = time.perf_counter()
    for _ in pool.map(identity, xs):
        pass
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--tasks", type=int, default=20_000)
    args = ap.parse_args()
    with cf.ThreadPoolExecutor(max_workers=2) as pool:
        pool.submit(identity, 0).result()  # start the workers outside the timed region
        for name, fn in (("Pool_SubmitBatched", submit_batched), ("Pool_SubmitOne", submit_one),
                         ("Pool_Map", map_items)):
            per_task = statistics.median(fn(pool, args.tasks) / args.tasks
                                         for _ in range(args.repetitions))
            print(f"{name} {per_task * 1e9:.1f}", flush=True)


if __name__ == "__main__":
    main()
