#!/usr/bin/env python3
"""CPython's figures for the workloads of bench/multiprocessing_bench.cpp (process pools).

The same workloads written the obvious Python way, with 2 worker processes as in the C++
benchmark, timed in wall-clock time (time.perf_counter); the median of a few runs is kept.
Workers are started (and warmed up with one task) outside the timed region. Output lines,
named as in the C++ benchmarks without "BM_" (ns per task, per item, or per start):

    ProcPool_SubmitBatched 145000.0     ProcessPoolExecutor(2): submit identity(i), collect every 10,000
    ProcPool_SubmitOne 300000.0         submit(identity, i).result(), one at a time
    ProcPool_Map 100000.0               pool.map(identity, items), chunksize=1, per item
    ProcPool_MapChunked 1150.0          the same with chunksize=1000
    MpPool_Map 1000.0                   multiprocessing.Pool(2).map(identity, items), per item
    MpPool_ApplyAsync 50000.0           Pool(2).apply_async batched, collect every 10,000
    Process_Start 18600000.0            Process(target=noop).start(); join()   (fork)
    PoolStart_fork 2500000.0            ProcessPoolExecutor(1, mp_context=fork), one task, shutdown
    ProcPool_SubmitOne_pipe 50000.0     (information) multiprocessing.Pipe round trip

Usage: multiprocessing_pool.py [--repetitions N] [--tasks N]
"""

import argparse
import multiprocessing as mp
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

# The submit workloads are the thread-pool ones, run on a process pool.
from futures_pool import BATCH, identity, submit_batched, submit_one


def noop():
    pass


def echo(conn):
    while True:
        x = conn.recv()
        if x is None:
            return
        conn.send(x)


def ppe_map(chunksize):
    def run(pool, n):
        start = time.perf_counter()
        for _ in pool.map(identity, range(n), chunksize=chunksize):
            pass
        return time.perf_counter() - start
    return run


def pool_map(pool, n):
    start = time.perf_counter()
    pool.map(identity, range(n))
    return time.perf_counter() - start


def pool_apply_async(pool, n):
    start = time.perf_counter()
    done = 0
    while done < n:
        rs = [pool.apply_async(identity, (i,)) for i in range(min(BATCH, n - done))]
        for r in rs:
            r.get()
        done += len(rs)
    return time.perf_counter() - start


def process_start(_, n):
    start = time.perf_counter()
    for _ in range(n):
        p = mp.Process(target=noop)
        p.start()
        p.join()
    return time.perf_counter() - start


def pool_start(method):
    def run(_, n):
        ctx = mp.get_context(method)
        start = time.perf_counter()
        for _ in range(n):
            with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
                pool.submit(identity, 1).result()
        return time.perf_counter() - start

    return run


def pipe_round_trip(_, n):
    a, b = mp.Pipe()
    p = mp.Process(target=echo, args=(b,))
    p.start()
    a.send(0)
    a.recv()
    start = time.perf_counter()
    for i in range(n):
        a.send(i)
        a.recv()
    elapsed = time.perf_counter() - start
    a.send(None)
    p.join()
    return elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--tasks", type=int, default=2_000, help="tasks per run (maps: x10)")
    args = ap.parse_args()
    n = args.tasks

    def report(name, fn, pool, count):
        per = statistics.median(fn(pool, count) / count for _ in range(args.repetitions))
        print(f"{name} {per * 1e9:.1f}", flush=True)

    with ProcessPoolExecutor(max_workers=2) as pool:
        for f in [pool.submit(identity, i) for i in range(4)]:  # start both workers
            f.result()
        report("ProcPool_SubmitBatched", submit_batched, pool, n)
        report("ProcPool_SubmitOne", submit_one, pool, n // 2)
        report("ProcPool_Map", ppe_map(1), pool, n)
        report("ProcPool_MapChunked", ppe_map(1000), pool, 10 * n)
    with mp.Pool(2) as pool:
        pool.apply(identity, (0,))
        report("MpPool_Map", pool_map, pool, 10 * n)
        report("MpPool_ApplyAsync", pool_apply_async, pool, n)
    report("Process_Start", process_start, None, max(5, n // 100))
    for method in ("spawn", "fork", "forkserver"):
        report(f"PoolStart_{method}", pool_start(method), None, max(3, n // 400))
    report("ProcPool_SubmitOne_pipe", pipe_round_trip, None, n)


if __name__ == "__main__":
    main()
