#!/usr/bin/env python3
"""CPython's figures for the workloads of bench/asyncio_bench.cpp (the asyncio core).

The same workloads written the obvious asyncio way, run on the default event loop and, when
the uvloop module is importable (Debian's python3-uvloop), on uvloop too. Wall-clock time
(time.perf_counter), the median of a few runs. Output lines, named as in the C++ benchmarks
without "BM_" (ns per task / per yield); uvloop figures carry an "@uvloop" suffix:

    Aio_GatherTasks 13900.0
    Aio_GatherTasks@uvloop 9000.0
    Aio_Sleep0 4800.0
    # Aio_SleepingTasks memory: 1234 B per task (RSS)

Usage: asyncio_core.py [--repetitions N] [--tasks N]
"""

import argparse
import asyncio
import statistics
import time

try:
    import uvloop
except ImportError:  # pyenv's python3 has no uvloop; Debian's /usr/bin/python3 does
    uvloop = None


async def trivial(i):
    return i


async def gather_tasks(n):
    start = time.perf_counter()
    tasks = [asyncio.create_task(trivial(i)) for i in range(n)]
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


async def sleep0(n):
    start = time.perf_counter()
    for _ in range(n):
        await asyncio.sleep(0)
    return time.perf_counter() - start


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


async def sleepers(n):
    rss0 = rss_bytes()
    start = time.perf_counter()
    tasks = [asyncio.create_task(asyncio.sleep(3600)) for _ in range(n)]
    await asyncio.sleep(0)
    took = time.perf_counter() - start
    per_task = (rss_bytes() - rss0) / n
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return took, per_task


def measure(runner, suffix, reps, n):
    for name, fn in (("Aio_GatherTasks", gather_tasks), ("Aio_Sleep0", sleep0)):
        times = [runner(fn(n)) for _ in range(reps)]
        print(f"{name}{suffix} {statistics.median(times) / n * 1e9:.1f}", flush=True)
    sleeping = 200_000  # a million takes minutes and gigabytes in CPython; per task is enough
    took, per_task = runner(sleepers(sleeping))
    print(f"Aio_SleepingTasks{suffix} {took / sleeping * 1e9:.1f}")
    print(f"# Aio_SleepingTasks{suffix} memory: {per_task:.0f} B per task (RSS, {sleeping} tasks)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--tasks", type=int, default=100_000)
    args = ap.parse_args()
    measure(asyncio.run, "", args.repetitions, args.tasks)
    if uvloop is not None:
        def run_uv(coro):
            loop = uvloop.new_event_loop()
            try:
                return loop.run_until_complete(coro)
            finally:
                loop.close()
        measure(run_uv, "@uvloop", args.repetitions, args.tasks)


if __name__ == "__main__":
    main()
