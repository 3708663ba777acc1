#!/usr/bin/env python3
"""CPython's figures for the workloads of bench/subprocess_bench.cpp (subprocess.run).

    Run_True      subprocess.run(["true"])
    Run_Cat1MiB   subprocess.run(["cat"], input=<1 MiB>, capture_output=True)

Timed in wall-clock time (time.perf_counter: the child is another process) with
threading_queue.py's measure(): the iteration count grows until one run lasts long enough,
then the median of a few runs is kept. Output
lines, named as in the C++ benchmarks without "BM_" (ns per run):

    Run_True 1200000.0

Usage: subprocess_run.py [--min-time SECONDS] [--repetitions N]
"""

import argparse
import subprocess
import time

from threading_queue import measure  # this script's folder is on sys.path

MIB = b"x" * (1 << 20)


def run_true(n):
    start = time.perf_counter()
    for _ in range(n):
        subprocess.run(["true"])
    return time.perf_counter() - start


def run_cat(n):
    start = time.perf_counter()
    for _ in range(n):
        r = subprocess.run(["cat"], input=MIB, capture_output=True)
        assert len(r.stdout) == len(MIB)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--repetitions", type=int, default=5)
    args = ap.parse_args()
    for name, fn in (("Run_True", run_true), ("Run_Cat1MiB", run_cat)):
        print(f"{name} {measure(fn, args.min_time, args.repetitions):.1f}", flush=True)


if __name__ == "__main__":
    main()
